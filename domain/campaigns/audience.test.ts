/**
 * Audiences in SQL on the test database (PGlite, or PostgreSQL when DATABASE_URL is set): each kind of audience and
 * each filter condition selects the users it documents, and paging with the keyset cursor visits every member once.
 */
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { countAudience, decodeCursor, encodeCursor, fetchAudiencePage } from './audience';
import { audienceSchema, type Audience } from '../../contract/schemas';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  const users = [
    { id: 'u01', locale: 'ko', email: 'a@example.com', data: { plan: 'pro', seats: 5 }, timezone: 'Asia/Seoul' },
    { id: 'u02', locale: 'ko-KR', phone: '+821012345678', data: { plan: 'free' }, timezone: 'Asia/Seoul' },
    { id: 'u03', locale: 'en-US', email: 'c@example.com', data: { plan: 'pro', tags: ['beta'] } },
    { id: 'u04', locale: 'kok', email: 'd@example.com' }, // Konkani: not Korean
    { id: 'u05', locale: 'KO-kr', data: { plan: 'pro', nested: { a: 1, b: 2 } }, timezone: 'Europe/Paris' },
    { id: 'u06' },
  ];
  await db.prisma.user.createMany({ data: users });
  await db.prisma.device.create({
    data: { id: 'dev1', userId: 'u03', platform: 'ios', provider: 'apns', token: 'tok-1' },
  });
  await db.prisma.device.create({
    data: { id: 'dev2', userId: 'u04', platform: 'ios', provider: 'apns', token: 'tok-2', active: false },
  });
  await db.prisma.topic.create({ data: { key: 'news' } });
  await db.prisma.topicSubscription.createMany({
    data: ['u02', 'u05', 'u06'].map((userId) => ({ topicKey: 'news', userId })),
  });
  // Many more members for paging.
  await db.prisma.user.createMany({
    data: Array.from({ length: 1234 }, (_, i) => ({
      id: `p${String(i).padStart(5, '0')}`,
      data: { cohort: 'paging' },
    })),
  });
});
afterAll(async () => {
  await db?.close();
});

async function members(audience: Audience): Promise<string[]> {
  audienceSchema.parse(audience);
  return fetchAudiencePage(db.prisma, audience, null, 1000);
}
const filter = (f: Record<string, unknown>) => members({ filter: f } as Audience);

describe('audiences in SQL', () => {
  it('a topic is its subscribers, in id order', async () => {
    expect(await members({ topic: 'news' })).toEqual(['u02', 'u05', 'u06']);
    expect(await countAudience(db.prisma, { topic: 'news' })).toBe(3);
    expect(await members({ topic: 'nobody-subscribed' })).toEqual([]);
  });

  it('a list of user ids is the users among them that exist', async () => {
    expect(await members({ userIds: ['u05', 'ghost', 'u01', 'u05'] })).toEqual(['u01', 'u05']);
  });

  it('locale matches the tag and its regional variants, case-insensitively, and nothing that merely starts alike', async () => {
    expect(await filter({ locale: 'ko' })).toEqual(['u01', 'u02', 'u05']);
    expect(await filter({ locale: 'ko-KR' })).toEqual(['u02', 'u05']);
    expect(await filter({ locale: ['en', 'kok'] })).toEqual(['u03', 'u04']);
  });

  it('data is JSON containment: keys, nested objects and array members', async () => {
    expect(await filter({ data: { plan: 'pro' } })).toEqual(['u01', 'u03', 'u05']);
    expect(await filter({ data: { plan: 'pro', seats: 5 } })).toEqual(['u01']);
    expect(await filter({ data: { nested: { b: 2 } } })).toEqual(['u05']);
    expect(await filter({ data: { tags: ['beta'] } })).toEqual(['u03']);
    expect(await filter({ data: { plan: "pro' OR 1=1 --" } })).toEqual([]);
  });

  it('hasEmail, hasPhone and hasDevice (active devices only), timezone, subscribedTo, and all of them together', async () => {
    const named = async (f: Record<string, unknown>) => (await filter(f)).filter((id) => id.startsWith('u'));
    expect(await named({ hasEmail: true })).toEqual(['u01', 'u03', 'u04']);
    expect(await named({ hasPhone: true })).toEqual(['u02']);
    expect(await named({ hasDevice: true })).toEqual(['u03']);
    expect(await named({ hasDevice: false, hasEmail: true })).toEqual(['u01', 'u04']);
    expect(await named({ timezone: 'Asia/Seoul' })).toEqual(['u01', 'u02']);
    expect(await named({ subscribedTo: 'news', locale: 'ko' })).toEqual(['u02', 'u05']);
    expect(await named({ locale: 'ko', data: { plan: 'pro' }, timezone: ['Europe/Paris'] })).toEqual(['u05']);
  });

  it('createdAfter and createdBefore bound the user record’s creation time', async () => {
    const all = await countAudience(db.prisma, { filter: { data: { cohort: 'paging' } } });
    expect(
      await countAudience(db.prisma, { filter: { data: { cohort: 'paging' }, createdBefore: '2000-01-01T00:00:00Z' } }),
    ).toBe(0);
    expect(
      await countAudience(db.prisma, { filter: { data: { cohort: 'paging' }, createdAfter: '2000-01-01T00:00:00Z' } }),
    ).toBe(all);
  });

  it('paging with the keyset cursor visits every member exactly once, in order', async () => {
    const audience: Audience = { filter: { data: { cohort: 'paging' } } };
    expect(await countAudience(db.prisma, audience)).toBe(1234);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const page: string[] = await fetchAudiencePage(db.prisma, audience, cursor, 500);
      pages++;
      seen.push(...page);
      if (page.length < 500) break;
      cursor = page.at(-1)!;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(1234);
    expect(new Set(seen).size).toBe(1234);
    expect([...seen].sort()).toEqual(seen);
  });

  it('filters are validated: unknown conditions, empty filters and bad values are refused', () => {
    const bad = [
      { filter: {} },
      { filter: { plan: 'pro' } },
      { filter: { locale: 'not a tag!' } },
      { filter: { hasEmail: 'yes' } },
      { filter: { data: {} } },
      { filter: { createdAfter: 'yesterday' } },
      { topic: 'a b' },
      { userIds: [] },
      { topic: 'news', userIds: ['u01'] },
    ];
    for (const audience of bad) expect(audienceSchema.safeParse(audience).success).toBe(false);
  });

  it('API cursors round-trip and a tampered one is refused', () => {
    expect(decodeCursor(encodeCursor('user:42'))).toBe('user:42');
    expect(decodeCursor(undefined)).toBeNull();
    expect(() => decodeCursor('%%%')).toThrow();
  });
});
