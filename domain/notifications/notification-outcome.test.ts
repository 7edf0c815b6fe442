/**
 * The final-status writers on the test database (PGlite, or PostgreSQL with DATABASE_URL): what each writes on the
 * notification, and how a campaign run's counters count it — once, in the column counterFor names.
 */
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { COUNTER_SHARDS, finishFromDeliveries, finishNotification } from './notification-outcome';

jest.setTimeout(120_000);

let db: TestDatabase;
const AT = Date.UTC(2026, 11, 5, 12);

beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.user.create({ data: { id: 'u1' } });
  await db.prisma.template.create({ data: { id: 'news', currentVersion: 1 } });
  await db.prisma.campaign.create({
    data: { id: 'cmp1', name: 'News', templateId: 'news', audience: {}, schedule: {}, status: 'active' },
  });
  await db.prisma.campaignRun.create({
    data: { id: 'run1', campaignId: 'cmp1', status: 'running', templateVersion: 1, audienceSize: 10 },
  });
  await db.prisma.campaignRunCounter.createMany({
    data: Array.from({ length: COUNTER_SHARDS }, (_, shard) => ({ runId: 'run1', shard })),
  });
});

afterAll(async () => {
  await db?.close();
});

let n = 0;
async function notification(deliveries: string[] = [], status = 'sending') {
  const id = `ntf_outcome_${++n}`;
  await db.prisma.notification.create({
    data: {
      id,
      idempotencyKey: id,
      workflowId: id,
      userId: 'u1',
      templateId: 'news',
      templateVersion: 1,
      status,
      campaignRunId: 'run1',
      heldUntil: new Date(AT),
      holdReason: 'quiet_hours',
    },
  });
  await db.prisma.delivery.createMany({
    data: deliveries.map((deliveryStatus, i) => ({
      id: `${id}_d${i}`,
      notificationId: id,
      channel: `ch${i}`,
      provider: 'outbox',
      target: 't',
      status: deliveryStatus,
    })),
  });
  return id;
}

async function counters() {
  const rows = await db.prisma.campaignRunCounter.findMany({ where: { runId: 'run1' } });
  const sum = (key: 'started' | 'delivered' | 'failed' | 'suppressed' | 'canceled') =>
    rows.reduce((total, row) => total + row[key], 0);
  return {
    delivered: sum('delivered'),
    failed: sum('failed'),
    suppressed: sum('suppressed'),
    canceled: sum('canceled'),
  };
}

describe('finishNotification', () => {
  it('writes the final status, keeps or sets the error, clears the hold, and counts it once in its run', async () => {
    const before = await counters();
    const id = await notification();
    expect(await finishNotification(db.sql, id, 'canceled', { at: AT, error: 'stopped by an operator' })).toBe(true);
    expect(await finishNotification(db.sql, id, 'failed', { at: AT })).toBe(false);
    const row = await db.prisma.notification.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({
      status: 'canceled',
      error: 'stopped by an operator',
      heldUntil: null,
      holdReason: null,
      completedAt: new Date(AT),
    });
    expect(await counters()).toEqual({ ...before, canceled: before.canceled + 1 });
  });

  it('moves only from the statuses it is given', async () => {
    const id = await notification([], 'batched');
    expect(await finishNotification(db.sql, id, 'canceled', { at: AT })).toBe(false);
    expect(await finishNotification(db.sql, id, 'canceled', { at: AT, from: ['batched'] })).toBe(true);
  });

  it('refuses a status that is not final', async () => {
    await expect(finishNotification(db.sql, 'any', 'sending', { at: AT })).rejects.toThrow(/not a final status/);
  });
});

describe('finishFromDeliveries', () => {
  it.each([
    [['sent', 'sent', 'skipped'], 'delivered', 'delivered'],
    [['sent', 'failed'], 'partially_delivered', 'delivered'],
    [['failed', 'pending'], 'failed', 'failed'],
    [['skipped'], 'suppressed', 'suppressed'],
  ] as const)('deliveries %j → %s, counted as %s', async (deliveries, status, counter) => {
    const before = await counters();
    const id = await notification([...deliveries]);
    expect(await finishFromDeliveries(db.sql, id, AT)).toEqual({ status, moved: true });
    expect(await finishFromDeliveries(db.sql, id, AT)).toEqual({ status, moved: false });
    const row = await db.prisma.notification.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status, heldUntil: null, completedAt: new Date(AT) });
    expect(await counters()).toEqual({ ...before, [counter]: before[counter] + 1 });
  });

  it('with onlyWhenSettled, writes nothing while a delivery is pending', async () => {
    const before = await counters();
    const id = await notification(['sent', 'pending']);
    expect(await finishFromDeliveries(db.sql, id, AT, { onlyWhenSettled: true })).toEqual({
      status: 'partially_delivered',
      moved: false,
    });
    expect((await db.prisma.notification.findUniqueOrThrow({ where: { id } })).status).toBe('sending');
    expect(await counters()).toEqual(before);
    await db.prisma.delivery.update({ where: { id: `${id}_d1` }, data: { status: 'sent' } });
    expect(await finishFromDeliveries(db.sql, id, AT, { onlyWhenSettled: true })).toEqual({
      status: 'delivered',
      moved: true,
    });
  });
});
