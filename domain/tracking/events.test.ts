/**
 * The tracking event log on the test database (PGlite, or PostgreSQL with DATABASE_URL): the first event of a kind is
 * counted, a provider replay is not stored, and a flood of repeats is bounded.
 */
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { MAX_REPEATS, recordTrackingEvent, type EventSubject } from './events';

let db: TestDatabase;
const subject: EventSubject = {
  notificationId: 'ntf_1',
  deliveryId: 'dl_email',
  channel: 'email',
  templateId: 'welcome',
  category: null,
};

beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.user.create({ data: { id: 'u1' } });
  await db.prisma.notification.create({
    data: {
      id: 'ntf_1',
      idempotencyKey: 'k1',
      workflowId: 'wf1',
      userId: 'u1',
      templateId: 'welcome',
      status: 'delivered',
    },
  });
});
afterAll(() => db.close());

const stored = (type: string, deliveryId: string | null) =>
  db.prisma.trackingEvent.findMany({ where: { notificationId: 'ntf_1', type, deliveryId } });

describe('recordTrackingEvent', () => {
  it('counts the first click, keeps repeats up to the cap, then drops them', async () => {
    const results = [];
    for (let i = 0; i < MAX_REPEATS + 15; i++) {
      results.push(await recordTrackingEvent(db.prisma, { ...subject, type: 'clicked', source: 'link' }));
    }
    expect(results[0]).toEqual({ stored: true, counted: true });
    expect(results.slice(1, MAX_REPEATS + 1).every((r) => r.stored && !r.counted)).toBe(true);
    expect(results.slice(MAX_REPEATS + 1)).toEqual(Array(14).fill({ stored: false, counted: false }));
    const rows = await stored('clicked', 'dl_email');
    expect(rows.filter((r) => r.counted)).toHaveLength(1);
    expect(rows).toHaveLength(1 + MAX_REPEATS);

    // Another kind of event on the same delivery has its own allowance.
    expect(await recordTrackingEvent(db.prisma, { ...subject, type: 'opened', source: 'pixel' })).toEqual({
      stored: true,
      counted: true,
    });
  });

  it('bounds conversions (no delivery) the same way, and never stores a provider replay twice', async () => {
    const conversion = {
      ...subject,
      deliveryId: null,
      channel: null,
      type: 'converted' as const,
      source: 'api' as const,
    };
    for (let i = 0; i < MAX_REPEATS + 5; i++) await recordTrackingEvent(db.prisma, conversion);
    expect(await stored('converted', null)).toHaveLength(1 + MAX_REPEATS);

    const delivered = { ...subject, type: 'delivered' as const, source: 'sendgrid' as const, sourceEventId: 'sg-1' };
    expect(await recordTrackingEvent(db.prisma, delivered)).toEqual({ stored: true, counted: true });
    expect(await recordTrackingEvent(db.prisma, delivered)).toEqual({ stored: false, counted: false });
    expect(await stored('delivered', 'dl_email')).toHaveLength(1);
  });
});
