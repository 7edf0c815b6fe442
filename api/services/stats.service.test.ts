/**
 * Statistics from a known set of tracking events, on the test database (PGlite, or PostgreSQL with DATABASE_URL),
 * and the plan PostgreSQL chooses for the stats query once the table is large.
 */
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { recordTrackingEvent, type EventSubject } from '../../domain/tracking/events';
import type { TrackingEventType } from '../../domain/tracking/events';
import { createStatsService, statsQuery } from './stats.service';

jest.setTimeout(120_000);

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.user.create({ data: { id: 'u1' } });
  await db.prisma.template.create({ data: { id: 'welcome', currentVersion: 1 } });
  await db.prisma.template.create({ data: { id: 'receipt', currentVersion: 1 } });
});

afterAll(async () => {
  await db?.close();
});

let n = 0;
async function notification(templateId: string, category: string | null) {
  const id = `ntf_${++n}`;
  await db.prisma.notification.create({
    data: {
      id,
      idempotencyKey: id,
      workflowId: id,
      userId: 'u1',
      templateId,
      templateVersion: 1,
      category,
      status: 'delivered',
    },
  });
  return id;
}

const day1 = (hour: number) => new Date(Date.UTC(2026, 0, 1, hour));
const day2 = (hour: number) => new Date(Date.UTC(2026, 0, 2, hour));

describe('GET /v1/stats figures', () => {
  it('count each kind once per delivery, whatever the repeats and replays, and compute the rates', async () => {
    const welcome = await notification('welcome', 'marketing');
    const receipt = await notification('receipt', null);
    const s = (
      notificationId: string,
      deliveryId: string,
      channel: string,
      templateId: string,
      category: string | null,
    ): EventSubject => ({
      notificationId,
      deliveryId,
      channel,
      templateId,
      category,
    });
    const email1 = s(welcome, 'dlv_e1', 'email', 'welcome', 'marketing');
    const push1 = s(welcome, 'dlv_p1', 'push', 'welcome', 'marketing');
    const sms1 = s(welcome, 'dlv_s1', 'sms', 'welcome', 'marketing');
    const email2 = s(receipt, 'dlv_e2', 'email', 'receipt', null);
    const sms2 = s(receipt, 'dlv_s2', 'sms', 'receipt', null);
    const ev = (
      subject: EventSubject,
      type: TrackingEventType,
      at: Date,
      extra: { source?: 'herald' | 'sendgrid' | 'pixel' | 'api' | 'twilio'; sourceEventId?: string } = {},
    ) =>
      recordTrackingEvent(db.prisma, {
        ...subject,
        type,
        at,
        source: extra.source ?? 'herald',
        ...(extra.sourceEventId ? { sourceEventId: extra.sourceEventId } : {}),
      });

    // Day 1: the welcome notification.
    expect(await ev(email1, 'sent', day1(9))).toEqual({ stored: true, counted: true });
    expect(await ev(push1, 'sent', day1(9))).toEqual({ stored: true, counted: true });
    await ev(push1, 'delivered', day1(9));
    await ev(sms1, 'failed', day1(9)); // Herald gave up: never sent
    expect(await ev(email1, 'delivered', day1(10), { source: 'sendgrid', sourceEventId: 'sg-1' })).toEqual({
      stored: true,
      counted: true,
    });
    // SendGrid retries the same event: not stored again.
    expect(await ev(email1, 'delivered', day1(10), { source: 'sendgrid', sourceEventId: 'sg-1' })).toEqual({
      stored: false,
      counted: false,
    });
    expect(await ev(email1, 'opened', day1(11), { source: 'pixel' })).toEqual({ stored: true, counted: true });
    // Opened again: kept for the timeline, not counted.
    expect(await ev(email1, 'opened', day1(12), { source: 'pixel' })).toEqual({ stored: true, counted: false });
    await ev(email1, 'clicked', day1(12), { source: 'pixel' });
    await ev(push1, 'opened', day1(13), { source: 'api' });
    // A conversion counts once per notification, through whichever delivery reports it.
    expect(await ev(email1, 'converted', day1(14), { source: 'api' })).toEqual({ stored: true, counted: true });
    expect(await ev(push1, 'converted', day1(15), { source: 'api' })).toEqual({ stored: true, counted: false });

    // Day 2: the receipt.
    await ev(email2, 'sent', day2(9));
    await ev(email2, 'failed', day2(10), { source: 'sendgrid', sourceEventId: 'sg-2' }); // bounced after sending
    await ev(sms2, 'sent', day2(9));
    await ev(sms2, 'delivered', day2(9), { source: 'twilio', sourceEventId: 'SM1:delivered' });
    // Outside the range asked for.
    await ev(sms2, 'opened', new Date(Date.UTC(2026, 0, 5)), { source: 'api' });

    const stats = createStatsService(db.prisma);
    const range = { from: '2026-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z' };
    const totals = await stats.get(range);
    expect(totals.totals).toEqual({
      sent: 4,
      delivered: 3,
      failed: 2,
      opened: 2,
      clicked: 1,
      converted: 1,
      rates: { delivery: 0.75, failure: 0.4, open: 0.6667, click: 0.3333, conversion: 0.25 },
    });
    expect(totals.groups).toEqual([]);

    const byChannel = await stats.get({ ...range, groupBy: 'channel' });
    expect(byChannel.groups.map(({ rates: _r, ...g }) => g)).toEqual([
      { key: 'email', sent: 2, delivered: 1, failed: 1, opened: 1, clicked: 1, converted: 1 },
      { key: 'push', sent: 1, delivered: 1, failed: 0, opened: 1, clicked: 0, converted: 0 },
      { key: 'sms', sent: 1, delivered: 1, failed: 1, opened: 0, clicked: 0, converted: 0 },
    ]);
    expect(byChannel.groups[0]!.rates).toEqual({ delivery: 0.5, failure: 0.5, open: 1, click: 1, conversion: 0.5 });
    expect(byChannel.totals).toEqual(totals.totals);

    const byTemplate = await stats.get({ ...range, groupBy: 'template' });
    expect(byTemplate.groups.map((g) => [g.key, g.sent, g.delivered, g.failed, g.opened, g.converted])).toEqual([
      ['receipt', 2, 1, 1, 0, 0],
      ['welcome', 2, 2, 1, 2, 1],
    ]);
    const byCategory = await stats.get({ ...range, groupBy: 'category' });
    expect(byCategory.groups.map((g) => [g.key, g.sent])).toEqual([
      ['marketing', 2],
      [null, 2],
    ]);
    const byDay = await stats.get({ from: '2026-01-01T00:00:00Z', to: '2026-01-06T00:00:00Z', groupBy: 'day' });
    expect(byDay.groups.map((g) => [g.key, g.sent, g.opened])).toEqual([
      ['2026-01-01', 2, 2],
      ['2026-01-02', 2, 0],
      ['2026-01-05', 0, 1],
    ]);
  });

  it('on a large table the query is an index-only range scan of tracking_events_stats_idx', async () => {
    // 200 notifications × 1,000 events over 100 days: 200,000 rows, half of them counted.
    await db.prisma.$executeRawUnsafe(`
      INSERT INTO notifications (id, idempotency_key, workflow_id, user_id, template_id, template_version, status, updated_at)
      SELECT 'bulk_' || i, 'bulk_' || i, 'bulk_' || i, 'u1', 'welcome', 1, 'delivered', now()
        FROM generate_series(1, 200) AS i`);
    await db.prisma.$executeRawUnsafe(`
      INSERT INTO tracking_events (id, notification_id, delivery_id, type, channel, template_id, category, source, at,
                                   counted, dedupe_key)
      SELECT 'bulk_ev_' || i, 'bulk_' || (i % 200 + 1), 'bulk_dlv_' || (i / 2), (ARRAY['sent','delivered','opened','clicked'])[i % 4 + 1],
             (ARRAY['push','sms','email'])[i % 3 + 1], 'welcome', 'marketing', 'herald',
             timestamp '2025-01-01' + (i * interval '43 seconds'),
             i % 2 = 0, CASE WHEN i % 2 = 0 THEN 'bulk_' || i END
        FROM generate_series(1, 200000) AS i`);
    await db.prisma.$executeRawUnsafe('VACUUM ANALYZE tracking_events');

    const query = statsQuery({ from: '2025-02-01T00:00:00Z', to: '2025-02-02T00:00:00Z' }, 'channel');
    const rows = await db.prisma.$queryRaw<{ 'QUERY PLAN': unknown }[]>`EXPLAIN (FORMAT JSON) ${query}`;
    const plan = rows[0]?.['QUERY PLAN'];
    const text = JSON.stringify(plan);
    expect(text).toContain('"Index Name":"tracking_events_stats_idx"');
    expect(text).toContain('"Node Type":"Index Only Scan"');
    expect(text).not.toContain('"Node Type":"Seq Scan"');

    // By day over a month: hashed into its 31 days (statistics on the expression), not sorted row by row.
    const byDay = statsQuery({ from: '2025-02-01T00:00:00Z', to: '2025-03-01T00:00:00Z' }, 'day');
    const dayRows = await db.prisma.$queryRaw<{ 'QUERY PLAN': unknown }[]>`EXPLAIN (FORMAT JSON) ${byDay}`;
    const dayPlan = JSON.stringify(dayRows[0]?.['QUERY PLAN']);
    expect(dayPlan).toContain('"Index Name":"tracking_events_stats_idx"');
    expect(dayPlan).toMatch(/"Node Type":"Aggregate","Strategy":"Hashed"/);
    expect(dayPlan).not.toMatch(/"Strategy":"Sorted"/);
  });
});
