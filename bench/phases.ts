/**
 * The benchmark's phases. Each returns plain numbers; bench/run.ts repeats them, takes medians and prints.
 *
 * B0/B1: Temporal alone, from a worker in this process. Herald: the real `npm start` process through its HTTP API,
 * with the providers behind local fakes (the real SDKs make real HTTP/2 and HTTPS calls).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client, type Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { baselineActivities } from './baseline.activities';
import type { DeliveryCounter } from './deliveries';
import type { HeraldProcess } from './herald-process';
import { executionsStartedBetween, workflowCost } from './history';
import { persistencePerUnit, readPersistenceCounts, type PersistenceCounts } from './server-metrics';
import { closedLoop, openLoop, summarise, type LoadResult, type Operation } from './load';
import { cpuSeconds, treeCpuSeconds } from './proc';

export interface LoadOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const perEach = (total: number, count: number) => (count > 0 ? round1(total / count) : null);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds of the processes that matter, read at the edges of a measured window. */
export interface CpuProbe {
  temporalPid: number;
  heraldPids?: number[];
  postgres?: PostgresProbe;
  /** The Temporal server's Prometheus endpoint (bench/server-metrics.ts). */
  metricsUrl?: string;
}

/**
 * The Temporal server's database requests (execution store and visibility) per unit between two readings: the total
 * (a number, so `--runs` takes its median) and per operation (an object: the last run's).
 */
function temporalDbRequests<U extends string>(
  unit: U,
  before: PersistenceCounts | undefined,
  after: PersistenceCounts | undefined,
  units: number,
) {
  const per = before && after ? persistencePerUnit(before, after, units) : null;
  return {
    [`temporalDbRequests${unit}`]: per?.total ?? null,
    [`temporalDbRequestsByOperation${unit}`]: per?.byOperation ?? null,
  } as Record<`temporalDbRequests${U}`, number | null> &
    Record<`temporalDbRequestsByOperation${U}`, Record<string, number> | null>;
}

/** The server publishes its counters about once a second: a reading waits this long after the work it counts. */
const SERVER_COUNTERS_SETTLE_MS = 2000;

/** The server's persistence counters now, or nothing when the endpoint is not known or does not answer. */
async function persistenceNow(probe: CpuProbe): Promise<PersistenceCounts | undefined> {
  return probe.metricsUrl ? readPersistenceCounts(probe.metricsUrl).catch(() => undefined) : undefined;
}

interface CpuReading {
  temporal: number;
  herald: number;
  bench: number;
  postgres: number;
}

function readCpu(probe: CpuProbe, postgresPids: number[]): CpuReading {
  const self = process.cpuUsage();
  return {
    temporal: treeCpuSeconds(probe.temporalPid),
    herald: (probe.heraldPids ?? []).reduce((sum, pid) => sum + treeCpuSeconds(pid), 0),
    bench: (self.user + self.system) / 1e6,
    postgres: cpuSeconds(postgresPids),
  };
}

/** Measures CPU between onWindowStart and onWindowEnd (postgres backends: those alive at the window's start). */
function windowCpu(probe: CpuProbe) {
  let start: CpuReading | undefined;
  let end: CpuReading | undefined;
  let postgresPids: Promise<number[]> = Promise.resolve([]);
  return {
    onWindowStart: () => {
      postgresPids = probe.postgres?.backendPids() ?? Promise.resolve([]);
      start = readCpu(probe, []);
      void postgresPids.then((pids) => (start!.postgres = cpuSeconds(pids)));
    },
    onWindowEnd: () => {
      end = readCpu(probe, []);
      void postgresPids.then((pids) => (end!.postgres = cpuSeconds(pids)));
    },
    async result(): Promise<CpuReading> {
      await postgresPids;
      await sleep(0);
      if (!start || !end) throw new Error('the measured window never closed');
      return {
        temporal: end.temporal - start.temporal,
        herald: end.herald - start.herald,
        bench: end.bench - start.bench,
        postgres: end.postgres - start.postgres,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// B0 / B1

export interface Baseline {
  connection: Connection;
  client: Client;
  taskQueue: string;
  stop(): Promise<void>;
}

export async function startBaseline(address: string, connection: Connection): Promise<Baseline> {
  const native = await NativeConnection.connect({ address });
  const taskQueue = `bench-baseline-${randomBytes(4).toString('hex')}`;
  const worker = await Worker.create({
    connection: native,
    namespace: 'default',
    taskQueue,
    workflowsPath: require.resolve('./baseline.workflows'),
    activities: baselineActivities,
  });
  const running = worker.run();
  return {
    connection,
    client: new Client({ connection, namespace: 'default' }),
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await native.close();
    },
  };
}

export async function baselinePhase(
  baseline: Baseline,
  workflow: 'benchEmpty' | 'benchOneActivity',
  load: LoadOptions,
  probe: CpuProbe,
) {
  const tag = randomBytes(4).toString('hex');
  const ids: string[] = [];
  const operation: Operation = async (seq) => {
    const workflowId = `${workflow}-${tag}-${seq}`;
    ids.push(workflowId);
    const t0 = performance.now();
    await baseline.client.workflow.execute(workflow, {
      taskQueue: baseline.taskQueue,
      workflowId,
      workflowExecutionTimeout: '60s',
    });
    return { ok: true, totalMs: performance.now() - t0 };
  };
  const serverBefore = await persistenceNow(probe);
  const cpu = windowCpu(probe);
  const result = await closedLoop(operation, { ...load, ...cpu });
  const used = await cpu.result();
  await sleep(SERVER_COUNTERS_SETTLE_MS);
  const serverAfter = await persistenceNow(probe);
  const summary = summarise(result);
  const n = summary.completedInWindow;
  const cost = await workflowCost(
    baseline.connection,
    'default',
    ids.slice(-200).map((workflowId) => ({ workflowId, runId: '', type: workflow })),
  );
  return {
    ratePerSecond: summary.ratePerSecond,
    completedInWindow: n,
    endToEndP50Ms: summary.endToEndP50Ms,
    endToEndP99Ms: summary.endToEndP99Ms,
    temporalCpuMsPerWorkflow: perEach(used.temporal * 1000, n),
    /** This process: the client starting workflows and the in-process worker running them. */
    benchCpuMsPerWorkflow: perEach(used.bench * 1000, n),
    stateTransitionsPerWorkflow: cost.byType[workflow]?.stateTransitionsEach ?? null,
    historyEventsPerWorkflow: cost.byType[workflow]?.historyEventsEach ?? null,
    // Every workflow the loop started ran to completion before it ended (warm-up included).
    ...temporalDbRequests('PerWorkflow', serverBefore, serverAfter, ids.length),
    errors: summary.errors,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL's view of Herald's database

export interface PostgresProbe {
  backendPids(): Promise<number[]>;
  /** Cumulative counters of the bench database (pg_stat_database). */
  stats(): Promise<{ transactions: number; rowsWritten: number; rowsRead: number }>;
  close(): Promise<void>;
}

export function postgresProbe(adminUrl: string, database: string): PostgresProbe {
  // Connected to the maintenance database, so that these queries are not counted in the bench database's statistics.
  const pool = new pg.Pool({ connectionString: adminUrl, max: 1 });
  return {
    async backendPids() {
      const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
        database,
      ]);
      return rows.map((r) => r.pid);
    },
    async stats() {
      const { rows } = await pool.query<{ transactions: string; written: string; read: string }>(
        `SELECT xact_commit + xact_rollback AS transactions, tup_inserted + tup_updated + tup_deleted AS written,
                tup_returned + tup_fetched AS read
           FROM pg_stat_database WHERE datname = $1`,
        [database],
      );
      const row = rows[0];
      return {
        transactions: Number(row?.transactions ?? 0),
        rowsWritten: Number(row?.written ?? 0),
        rowsRead: Number(row?.read ?? 0),
      };
    },
    close: () => pool.end(),
  };
}

/**
 * PostgreSQL (15+) publishes a backend's counters at most once a second while it is busy, and an idle backend's
 * within 10 s: wait that long so that a reading includes everything done before it.
 */
export const POSTGRES_STATS_SETTLE_MS = 11_000;

// ---------------------------------------------------------------------------------------------------------------
// Herald

export interface HeraldSetup {
  userIds: string[];
  targets: 1 | 4;
}

/** Runs `count` calls with at most `concurrency` in flight; throws on the first failure. */
async function inParallel(count: number, concurrency: number, call: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await call(next++);
    }),
  );
}

function expectStatus(what: string, response: { status: number; body: unknown }, ...ok: number[]): void {
  if (!ok.includes(response.status)) {
    throw new Error(`${what}: HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
  }
}

/** Users round-robin (so no per-user row or workflow is the single hot spot), each with `targets` targets. */
export async function setupHerald(herald: HeraldProcess, users: number, targets: 1 | 4): Promise<HeraldSetup> {
  const template = await herald.api('PUT', '/v1/templates/bench', {
    channels: {
      push: { title: 'Bench', body: 'BK{{ k }}KB' },
      sms: { body: 'BK{{ k }}KB' },
      email: { subject: 'BK{{ k }}KB', html: '<p>Your order has shipped.</p>', text: 'Your order has shipped.' },
    },
  });
  expectStatus('PUT template', template, 200, 201);
  const tag = randomBytes(3).toString('hex');
  const userIds = Array.from({ length: users }, (_, i) => `bu${tag}${i}`);
  await inParallel(users, 16, async (i) => {
    const id = userIds[i]!;
    const user = await herald.api('PUT', `/v1/users/${id}`, {
      email: `${id}@bench.test`,
      ...(targets === 4 ? { phone: '+14155550100' } : {}),
    });
    expectStatus('PUT user', user, 200, 201);
    if (targets === 1) return;
    const ios = await herald.api('POST', `/v1/users/${id}/devices`, {
      platform: 'ios',
      token: randomBytes(32).toString('hex'),
    });
    expectStatus('POST ios device', ios, 200, 201);
    const android = await herald.api('POST', `/v1/users/${id}/devices`, {
      platform: 'android',
      token: `fcm-bench-${id}-${randomBytes(8).toString('hex')}`,
    });
    expectStatus('POST android device', android, 200, 201);
  });
  return { userIds, targets };
}

const FINAL = new Set(['delivered', 'partially_delivered', 'failed', 'suppressed', 'canceled']);

/** Final status of each notification, read through the API (waiting up to `timeoutMs` for stragglers). */
async function finalStatuses(herald: HeraldProcess, ids: string[], timeoutMs = 60_000) {
  const statuses = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  let pending = ids;
  while (pending.length > 0) {
    await inParallel(pending.length, 16, async (i) => {
      const id = pending[i]!;
      const response = await herald.api('GET', `/v1/notifications/${id}`).catch(() => undefined);
      const status = response?.status === 200 ? String(response.body?.status) : `http_${response?.status ?? 'error'}`;
      statuses.set(id, status);
    });
    pending = pending.filter((id) => !FINAL.has(statuses.get(id)!));
    if (pending.length === 0 || Date.now() > deadline) break;
    await sleep(500);
  }
  const counts: Record<string, number> = {};
  for (const status of statuses.values()) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

// Generous: a saturated closed loop on a busy 2-core machine queues for tens of seconds; longer means lost.
const DELIVERY_TIMEOUT_MS = 120_000;

function notificationOperation(
  herald: HeraldProcess,
  counter: DeliveryCounter,
  setup: HeraldSetup,
  accepted: string[],
): Operation {
  const tag = randomBytes(4).toString('hex');
  return async (seq) => {
    const k = `${tag}x${seq}`;
    const t0 = performance.now();
    const response = await herald.api(
      'POST',
      '/v1/notifications',
      { userId: setup.userIds[seq % setup.userIds.length], template: 'bench', data: { k } },
      { 'Idempotency-Key': `bench-${k}` },
    );
    const acceptMs = performance.now() - t0;
    if (response.status !== 202) {
      return {
        ok: false,
        acceptMs,
        totalMs: acceptMs,
        error: `POST /v1/notifications → ${response.status} ${response.body?.error?.code ?? ''}`.trim(),
      };
    }
    accepted.push(String(response.body.id));
    let timer: NodeJS.Timeout | undefined;
    const delivered = await Promise.race([
      counter.waitFor(k, setup.targets).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), DELIVERY_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (!delivered) {
      counter.forget(k);
      return { ok: false, acceptMs, totalMs: performance.now() - t0, error: 'not delivered to every target in 120 s' };
    }
    return { ok: true, acceptMs, totalMs: performance.now() - t0 };
  };
}

export async function heraldPhase(
  herald: HeraldProcess,
  counter: DeliveryCounter,
  setup: HeraldSetup,
  load: LoadOptions,
  probe: CpuProbe & { connection: Connection },
) {
  const accepted: string[] = [];
  const duplicatesBefore = counter.duplicates();
  if (probe.postgres) await sleep(POSTGRES_STATS_SETTLE_MS);
  const dbBefore = await probe.postgres?.stats();
  const serverBefore = await persistenceNow(probe);
  const from = new Date();
  const cpu = windowCpu(probe);
  const result: LoadResult = await closedLoop(notificationOperation(herald, counter, setup, accepted), {
    ...load,
    ...cpu,
  });
  const used = await cpu.result();
  const statuses = await finalStatuses(herald, accepted);
  if (probe.postgres) await sleep(POSTGRES_STATS_SETTLE_MS);
  else await sleep(SERVER_COUNTERS_SETTLE_MS); // visibility records of the last executions, and the server's counters
  const to = new Date();
  const dbAfter = await probe.postgres?.stats();
  const serverAfter = await persistenceNow(probe);
  counter.trim();
  const summary = summarise(result);
  const n = summary.completedInWindow;
  const executions = await executionsStartedBetween(probe.connection, 'default', from, to);
  const cost = await workflowCost(probe.connection, 'default', executions);
  const notifications = accepted.length;
  return {
    ...summary,
    notificationsAccepted: notifications,
    /** Notifications whose final status (GET /v1/notifications/{id}) is anything but delivered. */
    failedNotifications: notifications - (statuses.delivered ?? 0),
    finalStatuses: statuses,
    duplicateSends: counter.duplicates() - duplicatesBefore,
    heraldCpuMsPerNotification: perEach(used.herald * 1000, n),
    temporalCpuMsPerNotification: perEach(used.temporal * 1000, n),
    postgresBackendCpuMsPerNotification: probe.postgres ? perEach(used.postgres * 1000, n) : null,
    benchCpuMsPerNotification: perEach(used.bench * 1000, n),
    workflowExecutionsPerNotification: perEach(cost.executions, notifications),
    stateTransitionsPerNotification: perEach(cost.stateTransitions, notifications),
    historyEventsPerNotification: perEach(cost.historyEvents, notifications),
    workflowTypes: cost.byType,
    ...temporalDbRequests('PerNotification', serverBefore, serverAfter, notifications),
    dbTransactionsPerNotification:
      dbBefore && dbAfter ? perEach(dbAfter.transactions - dbBefore.transactions, notifications) : null,
    dbRowsWrittenPerNotification:
      dbBefore && dbAfter ? perEach(dbAfter.rowsWritten - dbBefore.rowsWritten, notifications) : null,
    dbRowsReadPerNotification:
      dbBefore && dbAfter ? perEach(dbAfter.rowsRead - dbBefore.rowsRead, notifications) : null,
  };
}

/** Open loop at a fixed rate: the accept latency a client sees when Herald is not saturated. */
export async function halfLoadPhase(
  herald: HeraldProcess,
  counter: DeliveryCounter,
  setup: HeraldSetup,
  ratePerSecond: number,
  durationMs: number,
) {
  const accepted: string[] = [];
  const duplicatesBefore = counter.duplicates();
  const result = await openLoop(notificationOperation(herald, counter, setup, accepted), {
    ratePerSecond,
    durationMs,
  });
  const statuses = await finalStatuses(herald, accepted);
  counter.trim();
  const summary = summarise(result);
  return {
    targetRatePerSecond: round1(ratePerSecond),
    ...summary,
    notificationsAccepted: accepted.length,
    failedNotifications: accepted.length - (statuses.delivered ?? 0),
    duplicateSends: counter.duplicates() - duplicatesBefore,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Campaign

export async function campaignPhase(
  herald: HeraldProcess,
  counter: DeliveryCounter,
  recipients: number,
  pacing: { pageSize?: number; maxInFlight?: number },
  probe: CpuProbe & { connection: Connection },
) {
  const tag = randomBytes(3).toString('hex');
  const template = await herald.api('PUT', `/v1/templates/bench-campaign-${tag}`, {
    channels: { email: { subject: 'BKc{{ user.id }}KB', text: 'News for you.' } },
  });
  expectStatus('PUT campaign template', template, 200, 201);
  const userIds = Array.from({ length: recipients }, (_, i) => `cu${tag}${i}`);
  await inParallel(recipients, 16, async (i) => {
    const id = userIds[i]!;
    expectStatus('PUT user', await herald.api('PUT', `/v1/users/${id}`, { email: `${id}@bench.test` }), 200, 201);
  });
  const topic = `bench-${tag}`;
  expectStatus('PUT topic', await herald.api('PUT', `/v1/topics/${topic}`, { name: 'Bench' }), 200, 201);
  for (let i = 0; i < recipients; i += 1000) {
    const page = userIds.slice(i, i + 1000);
    expectStatus('subscribe', await herald.api('PUT', `/v1/topics/${topic}/subscribers`, { userIds: page }), 200);
  }
  const campaign = await herald.api('POST', '/v1/campaigns', {
    name: 'bench',
    template: `bench-campaign-${tag}`,
    audience: { topic },
    schedule: { cron: '0 0 1 1 *' },
    ...(Object.keys(pacing).length > 0 ? { pacing } : {}),
  });
  expectStatus('POST campaign', campaign, 201);
  const id = String(campaign.body.id);
  const duplicatesBefore = counter.duplicates();
  const serverBefore = await persistenceNow(probe);
  const cpuBefore = readCpu(probe, []);
  const from = new Date();
  const t0 = performance.now();
  expectStatus('trigger', await herald.api('POST', `/v1/campaigns/${id}/trigger`), 202, 200);
  const deadline = Date.now() + Math.max(180_000, recipients * 300);
  let runId: string | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let run: any;
  let timedOut = false;
  for (;;) {
    if (Date.now() > deadline) {
      if (!runId || !run) throw new Error('the campaign run did not start in time');
      // Report the rate so far (the progress API's own average) and stop the run's load.
      timedOut = true;
      await herald.api('POST', `/v1/campaigns/${id}/runs/${encodeURIComponent(runId)}/cancel`).catch(() => undefined);
      break;
    }
    await sleep(500);
    // A failed poll (a reset connection under load) is retried at the next tick; the deadline bounds it.
    if (!runId) {
      runId = (await herald.api('GET', `/v1/campaigns/${id}/runs`).catch(() => undefined))?.body?.runs?.[0]?.id;
      continue;
    }
    const response = await herald
      .api('GET', `/v1/campaigns/${id}/runs/${encodeURIComponent(runId)}`)
      .catch(() => undefined);
    if (response?.status !== 200) continue;
    run = response.body;
    if (['completed', 'failed', 'canceled'].includes(run.status)) break;
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpuAfter = readCpu(probe, []);
  // The last provider calls' answers, the visibility records of the last executions, and the server's counters.
  await sleep(SERVER_COUNTERS_SETTLE_MS);
  counter.trim();
  const seconds = (Date.parse(run.completedAt) - Date.parse(run.startedAt)) / 1000;
  // Every execution the run caused (its own continued-as-new runs and schedule included), per recipient.
  const cost = await workflowCost(
    probe.connection,
    'default',
    await executionsStartedBetween(probe.connection, 'default', from, new Date()),
  );
  const delivered = Number(run.delivered ?? 0);
  const serverAfter = await persistenceNow(probe);
  return {
    recipients,
    status: timedOut ? `timed out after ${Math.round(wallSeconds)} s (canceled)` : String(run.status),
    /**
     * From the run's own startedAt → completedAt (server clock); when it timed out, the progress API's average so far.
     */
    recipientsPerSecond: timedOut
      ? Number(run.recipientsPerSecond ?? 0)
      : Number.isFinite(seconds) && seconds > 0
        ? round1(recipients / seconds)
        : null,
    runSeconds: Number.isFinite(seconds) ? round1(seconds) : null,
    /** Trigger → completed as this client saw it (includes the schedule's start and the last progress poll). */
    wallSeconds: round1(wallSeconds),
    delivered,
    errors: recipients - delivered,
    duplicateSends: counter.duplicates() - duplicatesBefore,
    heraldCpuMsPerRecipient: perEach((cpuAfter.herald - cpuBefore.herald) * 1000, delivered),
    temporalCpuMsPerRecipient: perEach((cpuAfter.temporal - cpuBefore.temporal) * 1000, delivered),
    benchCpuMsPerRecipient: perEach((cpuAfter.bench - cpuBefore.bench) * 1000, delivered),
    stateTransitionsPerRecipient: perEach(cost.stateTransitions, delivered),
    historyEventsPerRecipient: perEach(cost.historyEvents, delivered),
    workflowTypes: cost.byType,
    ...temporalDbRequests('PerRecipient', serverBefore, serverAfter, delivered),
  };
}
