/**
 * The campaign API a Knock or Courier user reaches for first: listing campaigns, and creating one idempotently (by
 * HTTP and through the client SDK, retries included). The real API on port 0, a real Temporal dev server (Schedules),
 * the test's database. No run is started here (the schedules fire once a year), so no worker is needed.
 */
import { createHeraldClient, InvalidInputError, type Campaign, type HeraldClient } from '@herald/client';
import pg from 'pg';
import { FlakyProxy } from '../fakes/flaky-proxy';
import { startTestHerald, TEST_API_KEY, type ApiResponse, type TestHerald } from '../support/herald';

jest.setTimeout(180_000);

let herald: TestHerald;
let sdk: HeraldClient;

const ok = (response: ApiResponse, status = 200) => {
  if (response.status !== status)
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
};

const httpOptions = (url = herald.url) => ({
  url,
  apiKey: TEST_API_KEY,
  retry: { initialDelayMs: 10, maxDelayMs: 50 },
});

beforeAll(async () => {
  herald = await startTestHerald({ worker: false });
  sdk = createHeraldClient({ http: httpOptions() });
  ok(await herald.api('PUT', '/v1/templates/digest', { channels: { email: { subject: 'News', text: 'Hello' } } }), 201);
  ok(await herald.api('PUT', '/v1/users/reader-1', { email: 'reader-1@example.com' }), 201);
});
afterAll(async () => {
  await herald?.stop();
});

let made = 0;
/** A campaign body; `name` tells the campaigns of this file apart. */
const body = (name = `Campaign ${++made}`, extra: Record<string, unknown> = {}) => ({
  name,
  template: 'digest',
  audience: { userIds: ['reader-1'] },
  schedule: { cron: '0 0 1 1 *', timezone: 'UTC' }, // once a year: nothing runs during the test
  ...extra,
});

const create = async (payload: object, headers: Record<string, string> = {}) =>
  herald.api('POST', '/v1/campaigns', payload, headers);

async function listAll(query: string): Promise<{ ids: string[]; pages: number; createdAt: string[] }> {
  const ids: string[] = [];
  const createdAt: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = ok(
      await herald.api('GET', `/v1/campaigns?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    );
    for (const c of page.campaigns as { id: string; createdAt: string }[]) {
      ids.push(c.id);
      createdAt.push(c.createdAt);
    }
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  return { ids, pages, createdAt };
}

/** Rows holding an idempotency key (read with SQL: the key is not part of the campaign's API view). */
async function rowsWithKey(key: string): Promise<string[]> {
  const rows = await herald.db.prisma.$queryRaw<{ id: string }[]>`
    SELECT id FROM campaigns WHERE idempotency_key = ${key}`;
  return rows.map((r) => r.id);
}

/**
 * The schedules in the test's Temporal namespace, once they are those of the live campaigns in the database (the
 * list is eventually consistent: a schedule just created or deleted may take a moment to show). A campaign with a
 * second schedule, or a schedule left without its campaign, never settles: the test then fails on the difference.
 */
async function expectOneSchedulePerLiveCampaign(): Promise<void> {
  const rows = await herald.db.prisma.campaign.findMany({
    where: { status: { not: 'deleted' } },
    select: { id: true },
  });
  const expected = rows.map((r) => `campaign-${r.id}`).sort();
  const deadline = Date.now() + 60_000;
  let listed: string[] = [];
  while (Date.now() < deadline) {
    listed = [];
    for await (const schedule of herald.client.schedule.list()) listed.push(schedule.scheduleId);
    listed.sort();
    if (JSON.stringify(listed) === JSON.stringify(expected)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(listed).toEqual(expected);
}

/**
 * Sends `n` requests so that they truly race: on PostgreSQL, a transaction of the test's own holds an EXCLUSIVE lock
 * on the campaigns table (reads pass, inserts wait) until all `n` are waiting to insert, having each found no
 * campaign for their key; then it lets them go at once. (The embedded PGlite has one connection, so there requests
 * are serialized whatever the test does.)
 */
async function allAtTheInsert(n: number, send: () => Promise<ApiResponse>): Promise<ApiResponse[]> {
  if (!herald.db.url) return Promise.all(Array.from({ length: n }, send));
  const locker = new pg.Client(herald.db.url);
  await locker.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE campaigns IN EXCLUSIVE MODE');
    const answers = Promise.all(Array.from({ length: n }, send));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await locker.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'campaigns'::regclass`,
      );
      if (rows[0]!.n >= n) break;
      if (Date.now() > deadline) throw new Error(`only ${rows[0]!.n} of ${n} requests reached the insert`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await locker.query('COMMIT');
    return await answers;
  } finally {
    await locker.end();
  }
}

describe('GET /v1/campaigns', () => {
  it('pages through every campaign once, newest first, leaving deleted ones out unless asked for', async () => {
    const created: string[] = [];
    const before = new Date().toISOString();
    for (let i = 0; i < 7; i++) created.push(ok(await create(body(`List ${i}`)), 201).id);
    const after = new Date().toISOString();
    const [deleted, paused] = [created[2]!, created[4]!];
    expect((await herald.api('DELETE', `/v1/campaigns/${deleted}`)).status).toBe(204);
    ok(await herald.api('POST', `/v1/campaigns/${paused}/pause`));

    const { ids, pages, createdAt } = await listAll('limit=2');
    const live = created.filter((id) => id !== deleted).reverse();
    expect(ids).toEqual(live); // this file has made no other campaign yet
    expect(pages).toBe(3);
    expect([...createdAt].sort().reverse()).toEqual(createdAt);
    // Times are the API's clock, in UTC, whichever database and session time zone.
    expect(createdAt.every((at) => at >= before && at <= after)).toBe(true);

    const page = ok(await herald.api('GET', '/v1/campaigns?limit=1'));
    expect(page.campaigns[0]).toMatchObject({ id: created[6], name: 'List 6', status: 'active', template: 'digest' });
    expect((await listAll('status=deleted')).ids).toEqual([deleted]);
    expect((await listAll('status=paused')).ids).toEqual([paused]);
    expect((await listAll('status=active,paused,deleted&limit=200')).ids).toEqual([...created].reverse());
  });

  it('campaigns created in the same millisecond are each listed once, in id order, across page boundaries', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(ok(await create(body(`Tie ${i}`)), 201).id);
    const future = new Date(Date.now() + 3_600_000); // newer than every other campaign of the file
    await herald.db.prisma.campaign.updateMany({ where: { id: { in: ids } }, data: { createdAt: future } });

    const { ids: listed } = await listAll('limit=1');
    expect(listed.slice(0, 5)).toEqual([...ids].sort().reverse());
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed.length).toBe(await herald.db.prisma.campaign.count({ where: { status: { not: 'deleted' } } }));
  });

  it('refuses a limit out of 1 to 200, an unknown status and a cursor it did not return, like GET /v1/notifications', async () => {
    for (const query of ['limit=0', 'limit=201', 'limit=two', 'status=archived', 'status=', 'order=asc']) {
      const response = await herald.api('GET', `/v1/campaigns?${query}`);
      expect({ query, status: response.status, code: response.body.error.code }).toEqual({
        query,
        status: 400,
        code: 'validation_error',
      });
    }
    const cursor = await herald.api('GET', '/v1/campaigns?cursor=bm90LWEtY3Vyc29y');
    expect([cursor.status, cursor.body.error.code]).toEqual([400, 'invalid_cursor']);
    expect((await herald.api('GET', '/v1/campaigns?limit=200')).status).toBe(200);
  });
});

describe('POST /v1/campaigns with an Idempotency-Key', () => {
  it('the same key sent twice is one campaign and one Temporal schedule; the repeat is marked as a replay', async () => {
    const key = 'weekly-digest-2027';
    const first = await create(body('Weekly digest'), { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // The same request with its keys in another order and the default time zone left out: the same campaign.
    const again = await create(
      {
        schedule: { cron: '0 0 1 1 *' },
        audience: { userIds: ['reader-1'] },
        template: 'digest',
        name: 'Weekly digest',
      },
      { 'Idempotency-Key': key },
    );
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);

    expect(await rowsWithKey(key)).toEqual([first.body.id]);
    expect(await herald.db.prisma.campaign.count({ where: { name: 'Weekly digest' } })).toBe(1);
    const schedule = await herald.client.schedule.getHandle(first.body.scheduleId).describe();
    expect(schedule.scheduleId).toBe(`campaign-${first.body.id}`);
    await expectOneSchedulePerLiveCampaign();
  });

  it('the same key sent by four requests at once is one campaign and one schedule, created by exactly one of them', async () => {
    const key = `concurrent-${Date.now()}`;
    const send = () => create(body('Concurrent'), { 'Idempotency-Key': key });
    const answers = await allAtTheInsert(4, send);
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201]);
    const ids = new Set(answers.map((a) => a.body.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);

    const [id] = [...ids];
    expect(await rowsWithKey(key)).toEqual([id]);
    expect(await herald.db.prisma.campaign.count({ where: { name: 'Concurrent' } })).toBe(1);
    await expectOneSchedulePerLiveCampaign();
  });

  it('the key with a different campaign is refused (422 idempotency_key_reused) and creates nothing', async () => {
    const key = 'spring-sale';
    const first = ok(await create(body('Spring sale'), { 'Idempotency-Key': key }), 201);
    const campaigns = await herald.db.prisma.campaign.count();

    const other = await create(body('Spring sale', { data: { discount: 20 } }), { 'Idempotency-Key': key });
    expect(other.status).toBe(422);
    expect(other.body.error).toMatchObject({ code: 'idempotency_key_reused', details: { campaignId: first.id } });
    const renamed = await create(body('Summer sale'), { 'Idempotency-Key': key });
    expect(renamed.body.error.code).toBe('idempotency_key_reused');

    expect(await herald.db.prisma.campaign.count()).toBe(campaigns);
    expect(await rowsWithKey(key)).toEqual([first.id]);
  });

  it('the key again finishes a campaign whose schedule is missing, and answers a deleted one without bringing it back', async () => {
    const key = 'lost-schedule';
    const first = ok(await create(body('Lost schedule'), { 'Idempotency-Key': key }), 201);
    // As after a first request that recorded the campaign and then could not reach Temporal.
    await herald.client.schedule.getHandle(first.scheduleId).delete();
    const again = await create(body('Lost schedule'), { 'Idempotency-Key': key });
    expect([again.status, again.body.id]).toEqual([201, first.id]);
    const described = await herald.client.schedule.getHandle(first.scheduleId).describe();
    expect(described.info.nextActionTimes.length).toBeGreaterThan(0);

    expect((await herald.api('DELETE', `/v1/campaigns/${first.id}`)).status).toBe(204);
    const afterDelete = await create(body('Lost schedule'), { 'Idempotency-Key': key });
    expect([afterDelete.status, afterDelete.body.id, afterDelete.body.status]).toEqual([201, first.id, 'deleted']);
    await expect(herald.client.schedule.getHandle(first.scheduleId).describe()).rejects.toThrow();
  });

  it('refuses a key longer than 255 characters, as POST /v1/notifications does; without a key each request is a campaign', async () => {
    const long = await create(body('Too long'), { 'Idempotency-Key': 'k'.repeat(256) });
    expect([long.status, long.body.error.code]).toEqual([400, 'invalid_idempotency_key']);
    expect(await herald.db.prisma.campaign.count({ where: { name: 'Too long' } })).toBe(0);

    ok(await create(body('No key')), 201);
    ok(await create(body('No key')), 201);
    expect(await herald.db.prisma.campaign.count({ where: { name: 'No key' } })).toBe(2);
  });
});

describe('GET /v1/campaigns/{id}/runs', () => {
  it('accepts a limit of up to 100, the most it returns, and refuses more', async () => {
    const { id } = ok(await create(body('Runs')), 201);
    expect(ok(await herald.api('GET', `/v1/campaigns/${id}/runs?limit=100`))).toEqual({ runs: [], nextCursor: null });
    const over = await herald.api('GET', `/v1/campaigns/${id}/runs?limit=101`);
    expect([over.status, over.body.error.code, over.body.error.details[0].field]).toEqual([
      400,
      'validation_error',
      'query.limit',
    ]);
  });
});

describe('the client SDK', () => {
  it('listCampaigns pages through the campaigns newest first, with the status filter', async () => {
    const seen: Campaign[] = [];
    let cursor: string | undefined;
    do {
      const page = await sdk.listCampaigns({ limit: 3, cursor });
      seen.push(...page.campaigns);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const viaApi = await listAll('limit=200');
    expect(seen.map((c) => c.id)).toEqual(viaApi.ids);
    expect(seen.length).toBe(await herald.db.prisma.campaign.count({ where: { status: { not: 'deleted' } } }));

    const deleted = await sdk.listCampaigns({ status: 'deleted', limit: 200 });
    const pausedOrDeleted = await sdk.listCampaigns({ status: ['paused', 'deleted'], limit: 200 });
    expect(deleted.campaigns.every((c) => c.status === 'deleted')).toBe(true);
    expect(deleted.campaigns.length).toBe(await herald.db.prisma.campaign.count({ where: { status: 'deleted' } }));
    expect(pausedOrDeleted.campaigns.length).toBe(deleted.campaigns.length + 1);
    await expect(sdk.listCampaigns({ limit: 201 })).rejects.toMatchObject({
      name: 'InvalidInputError',
      field: 'limit',
    });
  });

  it('createCampaign is retried with the same key when the answer is lost, and one campaign and schedule result', async () => {
    const proxy = new FlakyProxy(herald.url);
    const client = createHeraldClient({ http: httpOptions(await proxy.start()) });
    try {
      proxy.enqueue('lose-response', 'unavailable');
      const campaign = await client.createCampaign(body('Retried'));

      const posts = proxy.requests.filter((r) => r.method === 'POST' && r.path === '/v1/campaigns');
      expect(posts).toHaveLength(3);
      const keys = posts.map((p) => p.headers['idempotency-key']);
      expect(keys[0]).toMatch(/^idem_/);
      expect(new Set(keys).size).toBe(1);
      expect(proxy.forwarded).toBe(2); // the first created it, the third found it

      expect(await herald.db.prisma.campaign.findMany({ where: { name: 'Retried' }, select: { id: true } })).toEqual([
        { id: campaign.id },
      ]);
      expect(await rowsWithKey(String(keys[0]))).toEqual([campaign.id]);
      await expectOneSchedulePerLiveCampaign();
    } finally {
      await proxy.stop();
    }
  });

  it('createCampaign with your own key: the same key is the same campaign; with another campaign it is refused', async () => {
    const first = await sdk.createCampaign(body('Own key'), { idempotencyKey: 'own-key-1' });
    const again = await sdk.createCampaign(body('Own key'), { idempotencyKey: 'own-key-1' });
    expect(again).toEqual(first);
    expect(await rowsWithKey('own-key-1')).toEqual([first.id]);

    const reused = await sdk.createCampaign(body('Other'), { idempotencyKey: 'own-key-1' }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(InvalidInputError);
    expect(reused).toMatchObject({
      code: 'idempotency_key_reused',
      status: 422,
      field: 'idempotencyKey',
      idempotencyKey: 'own-key-1',
      details: { campaignId: first.id },
    });
    await expect(sdk.createCampaign(body('Bad key'), { idempotencyKey: '' })).rejects.toMatchObject({
      name: 'InvalidInputError',
      field: 'idempotencyKey',
    });
  });
});
