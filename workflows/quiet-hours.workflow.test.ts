/**
 * Quiet hours on the time-skipping server, with the real activities and a real database: a notification that
 * arrives inside the user's window waits on a durable timer until the window ends — across a DST change and in a
 * zone without one — and a change of preferences while it waits is applied.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createProviderHealth } from '../activities/provider-health';
import { ProviderRegistry } from '../activities/providers/registry';
import { loadDeliveryConfig } from '../platform/config/delivery';
import { newNotificationId, notificationWorkflowId } from '../contract/ids';
import { startNotificationWorkflow } from '../domain/notifications/start-notification';
import { createTestDatabase, type TestDatabase } from '../test/support/database';
import { createTimeSkippingTemporal } from '../test/support/temporal';
import { channelTaskQueue, preferencesChangedSignal } from '../contract/workflows/notification.definitions';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let db: TestDatabase;
const taskQueue = `quiet-${randomUUID()}`;
let workers: Worker[] = [];
let running: Promise<unknown>;

beforeAll(async () => {
  [env, db] = await Promise.all([createTimeSkippingTemporal(), createTestDatabase()]);
  const noop = () => undefined;
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./index'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
  });
  // No provider credentials: every channel delivers to the outbox.
  const providers = new ProviderRegistry({ email: 'outbox' }, db.prisma);
  const activities = createActivities({
    db: db.prisma,
    sql: db.sql,
    providers,
    clock: () => new Date(),
    delivery: loadDeliveryConfig({}),
    health: createProviderHealth({ db: db.prisma, alerts: loadDeliveryConfig({}).alerts, clock: () => new Date() }),
    tracking: undefined,
    metrics: undefined,
    onRecordError: undefined,
  });
  workers = [
    await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities }),
    // Provider calls run on their channel's queue.
    ...(await Promise.all(
      (['push', 'sms', 'email'] as const).map((channel) =>
        Worker.create({
          connection: env.nativeConnection,
          taskQueue: channelTaskQueue(taskQueue, channel),
          activities,
        }),
      ),
    )),
  ];
  running = Promise.all(workers.map((w) => w.run()));
  await db.prisma.templateVersion.create({
    data: {
      template: { create: { id: 'ping', currentVersion: 1 } },
      version: 1,
      content: { channels: { sms: { body: 'ping' } } },
    },
  });
});

afterAll(async () => {
  for (const w of workers) w.shutdown();
  await running;
  await env?.teardown();
  await db?.close();
});

async function userWithQuietHours(timezone: string, start = '22:00', end = '07:30') {
  const id = `u-${randomUUID()}`;
  await db.prisma.user.create({ data: { id, phone: '+14155550100', timezone } });
  await db.prisma.preference.create({ data: { userId: id, quietHours: { start, end } } });
  return id;
}

async function notify(userId: string, category?: string) {
  const key = randomUUID();
  const row = await db.prisma.notification.create({
    data: {
      id: newNotificationId(),
      idempotencyKey: key,
      workflowId: notificationWorkflowId(key),
      userId,
      templateId: 'ping',
      templateVersion: 1,
      category: category ?? null,
      status: 'accepted',
    },
  });
  await startNotificationWorkflow(env.client, taskQueue, key, { notificationId: row.id });
  return { id: row.id, handle: env.client.workflow.getHandle(row.workflowId) };
}

/** Advances the test server's clock to `target` (it only moves forward). */
async function skipTo(target: number) {
  const now = await env.currentTimeMs();
  if (target > now) await env.sleep(target - now);
}

/** The offset of a zone at an instant, in hours, straight from Intl (independent of Herald's own conversion). */
function offsetHours(instant: number, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(instant)
    .find((p) => p.type === 'timeZoneName')!.value; // "GMT-05:00"
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) + Number(m[3]) / 60) : 0;
}

/** The UTC day on which New York's offset next changes, after `from`. */
function nextNewYorkTransitionDay(from: number): Date {
  const day = 24 * 3600_000;
  let t =
    Date.UTC(new Date(from).getUTCFullYear(), new Date(from).getUTCMonth(), new Date(from).getUTCDate()) + 2 * day;
  while (offsetHours(t + 12 * 3600_000, 'America/New_York') === offsetHours(t - 12 * 3600_000, 'America/New_York'))
    t += day;
  return new Date(t);
}

it('holds a notification through a night with a DST change in New York and releases it at 07:30 local', async () => {
  const userId = await userWithQuietHours('America/New_York');
  const transition = nextNewYorkTransitionDay(await env.currentTimeMs());
  const [y, m, d] = [transition.getUTCFullYear(), transition.getUTCMonth(), transition.getUTCDate()];
  // 23:00 local the evening before: UTC-4 before a fall-back night, UTC-5 before a spring-forward night.
  const before = offsetHours(Date.UTC(y, m, d - 1, 12), 'America/New_York');
  const after = offsetHours(Date.UTC(y, m, d, 12), 'America/New_York');
  expect(before).not.toBe(after);
  await skipTo(Date.UTC(y, m, d - 1, 23 - before));

  const { id, handle } = await notify(userId);
  expect(await handle.result()).toBe('delivered');

  const expectedRelease = Date.UTC(y, m, d, 7 - after, 30);
  const row = await db.prisma.notification.findUniqueOrThrow({ where: { id }, include: { deliveries: true } });
  expect(row.status).toBe('delivered');
  expect(row.deliveries[0]!.status).toBe('sent');
  // The hold it recorded was the window's end in local time, and the SMS went out exactly then (server clock).
  expect(await firstHeldUntil(handle.workflowId)).toBe(new Date(expectedRelease).toISOString());
  expectSentAround(await sentAt(handle.workflowId), expectedRelease);
  // From 23:00 to 07:30 is 8½ h on the clock: 7½ h of real time when the clocks spring forward, 9½ h when they fall back.
  expect(expectedRelease - Date.UTC(y, m, d - 1, 23 - before)).toBe((8.5 - (after - before)) * 3600_000);
});

it('holds a notification in a zone without DST (Seoul) until 07:30 local, and sends a critical one at once', async () => {
  const userId = await userWithQuietHours('Asia/Seoul');
  await db.prisma.category.create({ data: { name: 'security', critical: true } });
  const now = await env.currentTimeMs();
  const day = new Date(now + 2 * 24 * 3600_000);
  const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()];
  await skipTo(Date.UTC(y, m, d, 23 - 9)); // 23:00 KST

  const [critical, ordinary] = [await notify(userId, 'security'), await notify(userId)];
  expect(await critical.handle.result()).toBe('delivered');
  expect(await ordinary.handle.result()).toBe('delivered');
  expect(await sentAt(critical.handle.workflowId)).toBeLessThan(Date.UTC(y, m, d, 14, 1));
  expect(await firstHeldUntil(critical.handle.workflowId)).toBeUndefined();
  expect(await firstHeldUntil(ordinary.handle.workflowId)).toBe(new Date(Date.UTC(y, m, d, 22, 30)).toISOString());
  expectSentAround(await sentAt(ordinary.handle.workflowId), Date.UTC(y, m, d, 22, 30));
});

it('applies new preferences to a notification already waiting: quiet hours removed → sent now', async () => {
  const userId = await userWithQuietHours('UTC', '00:00', '23:59');
  const { id, handle } = await notify(userId);
  // Wait (in real time, without skipping) for the hold to be recorded.
  for (let i = 0; i < 200; i++) {
    const row = await db.prisma.notification.findUniqueOrThrow({ where: { id } });
    if (row.status === 'scheduled') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const held = await db.prisma.notification.findUniqueOrThrow({ where: { id } });
  expect(held).toMatchObject({ status: 'scheduled', holdReason: 'quiet_hours' });
  await db.prisma.preference.update({ where: { userId }, data: { quietHours: { start: '00:00', end: '00:00' } } });
  await handle.signal(preferencesChangedSignal);
  expect(await handle.result()).toBe('delivered');
  expect(await sentAt(handle.workflowId)).toBeLessThan(held.heldUntil!.getTime());
  const done = await db.prisma.notification.findUniqueOrThrow({ where: { id } });
  expect(done).toMatchObject({ status: 'delivered', heldUntil: null, holdReason: null });
});

/**
 * At the release instant, give or take the plan's own processing on the server clock (real seconds on a busy machine,
 * where time does not skip while the local activity runs). An error in the zone arithmetic is an hour or more.
 */
function expectSentAround(actual: number | undefined, expected: number) {
  expect(actual).toBeGreaterThanOrEqual(expected);
  expect(actual).toBeLessThan(expected + 60_000);
}

/** When the workflow asked for the SMS to be sent (the server's clock, from the history). */
async function sentAt(workflowId: string): Promise<number | undefined> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const event = history.events?.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendChannel',
  );
  return event?.eventTime
    ? Number(event.eventTime.seconds) * 1000 + Math.floor((event.eventTime.nanos ?? 0) / 1e6)
    : undefined;
}

/**
 * The release time the workflow recorded when it first held the notification: the plan's answer `held`, kept in its
 * history as the local activity's marker.
 */
async function firstHeldUntil(workflowId: string): Promise<string | undefined> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const converter = env.client.options.loadedDataConverter.payloadConverter;
  for (const event of history.events ?? []) {
    const details = event.markerRecordedEventAttributes?.details;
    for (const payloads of Object.values(details ?? {})) {
      for (const payload of payloads.payloads ?? []) {
        const value = converter.fromPayload<{ kind?: string; releaseAt?: string } | null>(payload);
        if (value && typeof value === 'object' && value.kind === 'held') return value.releaseAt;
      }
    }
  }
  return undefined;
}
