/**
 * Digests on the time-skipping server, with the real accept path, activities and database: every mode, maxEvents,
 * cron across a DST change, cancelling an event of an open batch, continue-as-new with the batch open, and one event
 * accepted twice. Each digest goes out through sendNotification to the outbox, where the message is read back.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createDigestActivities } from '../activities/digest/digest.activities';
import { createProviderHealth } from '../activities/provider-health';
import { ProviderRegistry } from '../activities/providers/registry';
import { removeFromDigest } from '../api/services/digest-cancel';
import { acceptNotification } from '../domain/notifications/accept-notification';
import { loadDeliveryConfig } from '../platform/config/delivery';
import { digestSchema, type DigestRequest } from '../contract/schemas/digest.schemas';
import { digestRecord, digestWorkflowId } from '../domain/digest/start-digest';
import { createTestDatabase, type TestDatabase } from '../test/support/database';
import { createTimeSkippingTemporal } from '../test/support/temporal';
import { until } from '../test/support/until';
import { channelTaskQueue } from '../contract/workflows/notification.definitions';
import {
  DIGEST_WORKFLOW,
  digestEventSignal,
  digestStateQuery,
  type DigestWorkflowInput,
} from '../contract/workflows/digest.definitions';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let db: TestDatabase;
const taskQueue = `digest-${randomUUID()}`;
let workers: Worker[] = [];
let running: Promise<unknown>;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

beforeAll(async () => {
  [env, db] = await Promise.all([createTimeSkippingTemporal(), createTestDatabase()]);
  const noop = () => undefined;
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./index'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
  });
  // No provider credentials: every channel delivers to the outbox.
  const providers = new ProviderRegistry({ email: 'outbox' }, db.prisma);
  const activities = {
    ...createActivities({
      db: db.prisma,
      sql: db.sql,
      providers,
      clock: () => new Date(),
      delivery: loadDeliveryConfig({}),
      tracking: undefined,
      metrics: undefined,
      onRecordError: undefined,
      health: createProviderHealth({ db: db.prisma, alerts: loadDeliveryConfig({}).alerts, clock: () => new Date() }),
    }),
    ...createDigestActivities({ sql: db.sql, clock: () => new Date() }),
  };
  workers = [
    await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities }),
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
      template: { create: { id: 'comments', currentVersion: 1 } },
      version: 1,
      content: {
        channels: {
          sms: {
            body: '{{ count }} new comments from {{ distinct.actor | join: ", " }}:{% for e in events %} [{{ e.data.text }}]{% endfor %}{% if omitted > 0 %} and {{ omitted }} more{% endif %}',
          },
        },
      },
    },
  });
});

afterAll(async () => {
  for (const w of workers) w.shutdown();
  await running;
  await env?.teardown();
  await db?.close();
});

async function newUser(timezone = 'UTC') {
  const id = `u-${randomUUID()}`;
  await db.prisma.user.create({ data: { id, phone: '+14155550100', timezone } });
  return id;
}

async function accept(userId: string, digest: DigestRequest, text: string, actor = 'ana', key: string = randomUUID()) {
  return acceptNotification({ sql: db.sql, temporal: env.client, taskQueue }, key, {
    userId,
    template: 'comments',
    data: { text, actor },
    // Every test's template names distinct.actor: a strict template fails on a variable the digest does not give.
    digest: digestSchema.parse({ distinct: ['actor'], ...digest }),
  });
}

const digestHandle = (userId: string, key = '') =>
  env.client.workflow.getHandle<(input: DigestWorkflowInput) => Promise<void>>(
    digestWorkflowId(userId, 'comments', key),
  );

/** Advances the test server's clock to `target` (it only moves forward). */
async function skipTo(target: number) {
  const now = await env.currentTimeMs();
  if (target > now) await env.sleep(target - now);
}

/**
 * The user's digests, oldest first, once `count` of them have been delivered to the outbox by their own notification
 * workflows. Polled in real time: the clock only moves when a test moves it, so nothing is skipped under a running
 * activity.
 */
async function digestsOf(userId: string, count: number) {
  return until(
    `${count} delivered digest(s) for ${userId}`,
    async () => {
      const rows = await db.prisma.notification.findMany({
        where: { userId, idempotencyKey: { startsWith: 'digest:' } },
        include: { deliveries: true },
        orderBy: { createdAt: 'asc' },
      });
      if (rows.length < count || rows.some((r) => r.status !== 'delivered')) return undefined;
      return Promise.all(
        rows.map(async (row) => {
          const outbox = await db.prisma.outboxMessage.findUniqueOrThrow({
            where: { deliveryId: row.deliveries[0]!.id },
          });
          const events = await db.prisma.notification.findMany({
            where: { digestId: row.id },
            orderBy: { id: 'asc' },
          });
          return {
            id: row.id,
            status: row.status,
            at: row.createdAt.getTime(),
            body: (outbox.content as { body: string }).body,
            events: events.map((e) => ({ id: e.id, status: e.status })),
          };
        }),
      );
    },
    { timeoutMs: 120_000, intervalMs: 100 },
  );
}

it('fixed: events within the window from the first go out together, once, when it ends', async () => {
  const userId = await newUser();
  const start = await env.currentTimeMs();
  const digest: DigestRequest = { window: '10m', mode: 'fixed', distinct: ['actor'] };
  const a = await accept(userId, digest, 'first', 'ana');
  expect(a.status).toBe('batched');
  await skipTo(start + MINUTE);
  const b = await accept(userId, digest, 'second', 'bo');
  await skipTo(start + 2 * MINUTE);
  const c = await accept(userId, digest, 'third', 'ana');
  await skipTo(start + 11 * MINUTE);

  const [sent, ...more] = await digestsOf(userId, 1);
  expect(more).toEqual([]);
  expect(sent!.status).toBe('delivered');
  expect(sent!.body).toBe('3 new comments from ana, bo: [first] [second] [third]');
  expect(sent!.at).toBeGreaterThanOrEqual(start + 10 * MINUTE);
  expect(sent!.at).toBeLessThan(start + 11 * MINUTE);
  expect(sent!.events).toEqual([a.id, b.id, c.id].sort().map((id) => ({ id, status: 'digested' })));
});

it('sliding: each event extends the window, bounded by maxWindow from the first', async () => {
  const userId = await newUser();
  const start = await env.currentTimeMs();
  const digest: DigestRequest = { window: '5m', mode: 'sliding', maxWindow: '12m' };
  for (const [i, offset] of [0, 4, 8, 11].entries()) {
    await skipTo(start + offset * MINUTE);
    await accept(userId, digest, `e${i}`);
  }
  await skipTo(start + 13 * MINUTE);
  const [sent, ...more] = await digestsOf(userId, 1);
  expect(more).toEqual([]);
  expect(sent!.body).toBe('4 new comments from ana: [e0] [e1] [e2] [e3]');
  // Past the first 5 minutes (it slid), cut at 12 minutes (maxWindow) although the last event asked for 16.
  expect(sent!.at).toBeGreaterThanOrEqual(start + 12 * MINUTE);
  expect(sent!.at).toBeLessThan(start + 13 * MINUTE);
});

it('lookback: the first event goes at once, later ones within the window wait for it', async () => {
  const userId = await newUser();
  const start = await env.currentTimeMs();
  const digest: DigestRequest = { window: '10m', mode: 'lookback' };
  await accept(userId, digest, 'now');
  await digestsOf(userId, 1);
  await skipTo(start + 2 * MINUTE);
  await accept(userId, digest, 'later-1');
  await skipTo(start + 5 * MINUTE);
  await accept(userId, digest, 'later-2');
  await skipTo(start + 12 * MINUTE);
  const sent = await digestsOf(userId, 2);
  expect(sent.map((d) => d.body)).toEqual([
    '1 new comments from ana: [now]',
    '2 new comments from ana: [later-1] [later-2]',
  ]);
  expect(sent[0]!.at).toBeLessThan(start + MINUTE);
  expect(sent[1]!.at).toBeGreaterThanOrEqual(sent[0]!.at + 10 * MINUTE);
  expect(sent[1]!.at).toBeLessThan(sent[0]!.at + 11 * MINUTE);
});

it('maxEvents: a full batch goes at once; the rest waits for its own window', async () => {
  const userId = await newUser();
  const start = await env.currentTimeMs();
  const digest: DigestRequest = { window: '1h', mode: 'fixed', maxEvents: 3 };
  for (const text of ['a', 'b', 'c', 'd']) await accept(userId, digest, text);
  await digestsOf(userId, 1);
  await skipTo(start + HOUR + MINUTE);
  const sent = await digestsOf(userId, 2);
  expect(sent.map((d) => d.body)).toEqual(['3 new comments from ana: [a] [b] [c]', '1 new comments from ana: [d]']);
  expect(sent[0]!.at).toBeLessThan(start + MINUTE);
  expect(sent[1]!.at).toBeGreaterThanOrEqual(start + HOUR);
});

it('an event canceled while its batch is open is left out; one already sent cannot be canceled', async () => {
  const userId = await newUser();
  const digest: DigestRequest = { window: '10m' };
  const kept = await accept(userId, digest, 'kept');
  const dropped = await accept(userId, digest, 'dropped');
  const workflowId = digestWorkflowId(userId, 'comments', '');
  expect(await removeFromDigest(env.client, workflowId, dropped.id)).toBe(true);
  expect((await db.prisma.notification.findUniqueOrThrow({ where: { id: dropped.id } })).status).toBe('canceled');
  await env.sleep(11 * MINUTE);
  const [sent, ...more] = await digestsOf(userId, 1);
  expect(more).toEqual([]);
  expect(sent!.body).toBe('1 new comments from ana: [kept]');
  expect(sent!.events).toEqual([{ id: kept.id, status: 'digested' }]);
  expect(await removeFromDigest(env.client, workflowId, kept.id)).toBe(false);
});

it('every mode separates keys: two keys are two digests', async () => {
  const userId = await newUser();
  await accept(userId, { window: '10m', key: 'post-1' }, 'on post 1');
  await accept(userId, { window: '10m', key: 'post-2' }, 'on post 2');
  await env.sleep(11 * MINUTE);
  const sent = await digestsOf(userId, 2);
  expect(sent.map((d) => d.body).sort()).toEqual([
    '1 new comments from ana: [on post 1]',
    '1 new comments from ana: [on post 2]',
  ]);
});

it('the same event accepted twice, and 100 at once, are each in exactly one digest', async () => {
  const userId = await newUser();
  const digest: DigestRequest = { window: '10m', listed: 2 };
  const twice = randomUUID();
  await accept(userId, digest, 'dup', 'ana', twice);
  await Promise.all(Array.from({ length: 100 }, (_, i) => accept(userId, digest, `n${i}`, `actor${i % 7}`)));
  const again = await accept(userId, digest, 'dup', 'ana', twice);
  expect(again).toMatchObject({ replayed: true, status: 'batched' });
  await env.sleep(11 * MINUTE);
  const [sent, ...more] = await digestsOf(userId, 1);
  expect(more).toEqual([]);
  expect(sent!.events).toHaveLength(101);
  expect(sent!.body).toMatch(
    /^101 new comments from ana, actor\d(, actor\d){6}: \[dup\] \[n\d+\] \[n\d+\] \[n\d+\] and 97 more$/,
  );
});

it('continues as new with the batch open, and sends it whole', async () => {
  const userId = await newUser();
  const digest: DigestRequest = { window: '10m' };
  const record = digestRecord(digestSchema.parse({ distinct: ['actor'], ...digest }), {
    userId,
    template: 'comments',
    category: null,
    channels: [],
  });
  // Started by hand with a small run, then fed through the ordinary accept path.
  await env.client.workflow.signalWithStart(DIGEST_WORKFLOW, {
    taskQueue,
    workflowId: record.workflowId,
    args: [{ target: record.target, settings: record.settings, maxEventsPerRun: 3 } satisfies DigestWorkflowInput],
    signal: digestEventSignal,
    signalArgs: [{ id: 'ntf_not_in_the_database', settings: record.settings }],
  });
  for (let i = 0; i < 7; i++) await accept(userId, digest, `e${i}`);
  await env.sleep(11 * MINUTE);
  const [sent, ...more] = await digestsOf(userId, 1);
  // Signals that arrive together are handled in one task, so a run may take more than 3 before it continues.
  const state = await digestHandle(userId).query(digestStateQuery);
  expect(state.run).toBeGreaterThanOrEqual(2);
  expect(state.open).toEqual([]);
  expect(more).toEqual([]);
  expect(sent!.body).toBe('7 new comments from ana: [e0] [e1] [e2] [e3] [e4] [e5] [e6]');
});

/** The offset of a zone at an instant, in hours, straight from Intl. */
function offsetHours(instant: number, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(instant)
    .find((p) => p.type === 'timeZoneName')!.value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) + Number(m[3]) / 60) : 0;
}

it('cron: "daily at 09:00" in New York is 09:00 local on both sides of a DST change', async () => {
  const userId = await newUser('America/New_York');
  const day = 24 * HOUR;
  const now = await env.currentTimeMs();
  let t = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate()) + 2 * day;
  while (offsetHours(t + 12 * HOUR, 'America/New_York') === offsetHours(t - 12 * HOUR, 'America/New_York')) t += day;
  const transition = new Date(t);
  const [y, m, d] = [transition.getUTCFullYear(), transition.getUTCMonth(), transition.getUTCDate()];
  const before = offsetHours(Date.UTC(y, m, d - 1, 12), 'America/New_York');
  const after = offsetHours(Date.UTC(y, m, d, 12), 'America/New_York');
  expect(before).not.toBe(after);
  const digest: DigestRequest = { cron: '0 9 * * *' };

  // 09:30 local the day before the change: the batch waits for 09:00 the next morning, across the change.
  await skipTo(Date.UTC(y, m, d - 1, 9 - before, 30));
  await accept(userId, digest, 'evening');
  await skipTo(Date.UTC(y, m, d, 9 - after, 1));
  await digestsOf(userId, 1);
  // 10:00 local on the day of the change: 09:00 the day after.
  await skipTo(Date.UTC(y, m, d, 10 - after));
  await accept(userId, digest, 'next');
  await skipTo(Date.UTC(y, m, d + 1, 9 - after, 1));

  const sent = await digestsOf(userId, 2);
  expect(sent.map((s) => s.body)).toEqual(['1 new comments from ana: [evening]', '1 new comments from ana: [next]']);
  expect(sent[0]!.at).toBeGreaterThanOrEqual(Date.UTC(y, m, d, 9 - after));
  expect(sent[0]!.at).toBeLessThan(Date.UTC(y, m, d, 9 - after, 1));
  expect(sent[1]!.at).toBeGreaterThanOrEqual(Date.UTC(y, m, d + 1, 9 - after));
  expect(sent[1]!.at).toBeLessThan(Date.UTC(y, m, d + 1, 9 - after, 1));
});
