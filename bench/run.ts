/**
 * `npm run bench`: what Herald costs over Temporal alone, measured in one run on this machine. Printed, never asserted.
 *
 * One Temporal dev server, started as Herald's embedded one is (server/temporal-dev-server.ts). Then, per run:
 *   B0      an empty workflow, closed loop, from a worker in this process
 *   B1      a workflow with one no-op activity, the same way
 *   herald  `npm start` in a child process, through its HTTP API, providers behind local fakes (real SDKs), each
 *           notification to `--targets` targets, closed loop; then (unless --no-half-load) an open loop at half the
 *           rate it reached, for the accept latency at half load
 *   campaign  one campaign run to `--campaign-recipients` email recipients of a topic
 * and prints a table and one `BENCH_RESULT {json}` line (medians over `--runs`). docs/performance.md has the method.
 *
 *   npm run bench -- [--concurrency 50] [--warmup 10] [--duration 30] [--targets 4|1] [--db embedded|postgres]
 *                    [--runs 1] [--only b0,b1,herald,campaign] [--no-half-load] [--users 1000]
 *                    [--campaign-recipients 2000] [--campaign-page-size n] [--campaign-max-in-flight n]
 *                    [--roles start|split] [--profile <dir>]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Connection } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import pg from 'pg';
import { startDevServer } from '../server/temporal-dev-server';
import { unusedPort } from '../test/fakes/http-fake-server';
import { forget, killAtExit, onCleanup, runCleanups } from './cleanup';
import { startDeliveryCounter } from './deliveries';
import { startHeraldProcess } from './herald-process';
import { median } from './load';
import {
  baselinePhase,
  campaignPhase,
  halfLoadPhase,
  heraldPhase,
  postgresProbe,
  setupHerald,
  startBaseline,
  type PostgresProbe,
} from './phases';
import { processTree, watchPeakRss } from './proc';

const began = performance.now();
const PHASES = ['b0', 'b1', 'herald', 'campaign'] as const;
type Phase = (typeof PHASES)[number];

function options() {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '10' },
      duration: { type: 'string', default: '30' },
      targets: { type: 'string', default: '4' },
      db: { type: 'string', default: 'embedded' },
      runs: { type: 'string', default: '1' },
      only: { type: 'string', default: PHASES.join(',') },
      'no-half-load': { type: 'boolean', default: false },
      users: { type: 'string', default: '1000' },
      'campaign-recipients': { type: 'string', default: '2000' },
      'campaign-page-size': { type: 'string' },
      'campaign-max-in-flight': { type: 'string' },
      profile: { type: 'string' },
      roles: { type: 'string', default: 'start' },
    },
    strict: true,
  });
  const int = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: an integer ≥ ${min} is expected, got ${value}`);
    return n;
  };
  const only = values.only.split(',').map((p) => p.trim().toLowerCase());
  for (const p of only) {
    if (!PHASES.includes(p as Phase)) throw new Error(`--only: unknown phase ${p} (${PHASES.join(', ')})`);
  }
  if (values.targets !== '4' && values.targets !== '1') throw new Error('--targets: 4 or 1');
  if (values.db !== 'embedded' && values.db !== 'postgres') throw new Error('--db: embedded or postgres');
  if (values.roles !== 'start' && values.roles !== 'split') throw new Error('--roles: start or split');
  if (values.roles === 'split' && values.db !== 'postgres') throw new Error('--roles split needs --db postgres');
  return {
    concurrency: int('concurrency', values.concurrency, 1),
    warmupSeconds: int('warmup', values.warmup, 0),
    durationSeconds: int('duration', values.duration, 1),
    targets: Number(values.targets) as 1 | 4,
    db: values.db as 'embedded' | 'postgres',
    runs: int('runs', values.runs, 1),
    only: new Set(only as Phase[]),
    halfLoad: !values['no-half-load'],
    users: int('users', values.users, 1),
    campaignRecipients: int('campaign-recipients', values['campaign-recipients'], 1),
    /** The campaign's `pacing` (Herald's defaults when unset). */
    campaignPacing: {
      ...(values['campaign-page-size'] ? { pageSize: int('campaign-page-size', values['campaign-page-size'], 1) } : {}),
      ...(values['campaign-max-in-flight']
        ? { maxInFlight: int('campaign-max-in-flight', values['campaign-max-in-flight'], 1) }
        : {}),
    },
    profileDir: values.profile,
    roles: values.roles as 'start' | 'split',
  };
}
type Options = ReturnType<typeof options>;

/** A fresh database on the PostgreSQL server of DATABASE_URL (or the local default), dropped at the end. */
async function createBenchDatabase(): Promise<{ url: string; adminUrl: string; name: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const adminUrl = new URL(base);
  adminUrl.pathname = '/postgres';
  const name = `herald_bench_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    adminUrl: adminUrl.toString(),
    name,
    drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

type RunResult = Record<string, Record<string, unknown> | undefined>;

async function oneRun(
  run: number,
  opts: Options,
  temporal: { address: string; pid: number; connection: Connection; metricsUrl: string },
  tmp: string,
): Promise<RunResult> {
  const result: RunResult = {};
  const load = {
    concurrency: opts.concurrency,
    warmupMs: opts.warmupSeconds * 1000,
    durationMs: opts.durationSeconds * 1000,
  };
  const log = (message: string) =>
    console.error(`bench [run ${run}, ${((performance.now() - began) / 1000).toFixed(0)} s] ${message}`);

  const temporalProbe = { temporalPid: temporal.pid, metricsUrl: temporal.metricsUrl };
  if (opts.only.has('b0') || opts.only.has('b1')) {
    log('B0/B1: starting the baseline worker');
    const baseline = await startBaseline(temporal.address, temporal.connection);
    try {
      if (opts.only.has('b0')) {
        log('B0: empty workflow');
        result.b0 = await baselinePhase(baseline, 'benchEmpty', load, temporalProbe);
      }
      if (opts.only.has('b1')) {
        log('B1: one no-op activity');
        result.b1 = await baselinePhase(baseline, 'benchOneActivity', load, temporalProbe);
      }
    } finally {
      await baseline.stop();
    }
  }

  if (!opts.only.has('herald') && !opts.only.has('campaign')) return result;

  const cleanupsOfRun: (() => Promise<unknown>)[] = [];
  try {
    const counter = await startDeliveryCounter();
    cleanupsOfRun.push(() => counter.stop());
    let database: Awaited<ReturnType<typeof createBenchDatabase>> | undefined;
    let postgres: PostgresProbe | undefined;
    if (opts.db === 'postgres') {
      database = await createBenchDatabase();
      cleanupsOfRun.push(() => database!.drop());
      postgres = postgresProbe(database.adminUrl, database.name);
      cleanupsOfRun.push(() => postgres!.close());
    }
    const dataDir = path.join(tmp, `herald-${run}`);
    const spawned: number[] = [];
    let rss: ReturnType<typeof watchPeakRss> | undefined;
    cleanupsOfRun.push(async () => rss?.stop());
    log(`Herald: starting ${opts.roles === 'split' ? 'npm run worker + npm run api' : 'npm start'} (${opts.db})`);
    const herald = await startHeraldProcess({
      dataDir,
      temporalAddress: temporal.address,
      databaseUrl: database?.url,
      providerEnv: counter.env,
      profileDir: opts.profileDir,
      roles: opts.roles,
      onSpawn: (pid) => {
        killAtExit(pid, true);
        spawned.push(pid);
        rss ??= watchPeakRss(() => spawned);
      },
    });
    cleanupsOfRun.push(async () => {
      await herald.stop();
      herald.pids.forEach(forget);
    });
    const processes = herald.pids.reduce((sum, pid) => sum + processTree(pid).length, 0);
    // From here on: what it holds while working, without the start-up (workflow bundling) peak.
    const rssUnderLoad = watchPeakRss(() => herald.pids);
    cleanupsOfRun.push(async () => rssUnderLoad.stop());
    const probe = { ...temporalProbe, heraldPids: herald.pids, postgres, connection: temporal.connection };

    if (opts.only.has('herald')) {
      log(`Herald: ${opts.users} users with ${opts.targets} target(s) each`);
      const setup = await setupHerald(herald, opts.users, opts.targets);
      log(`Herald: closed loop, concurrency ${opts.concurrency}`);
      const herald1 = await heraldPhase(herald, counter, setup, load, probe);
      const b1 = result.b1?.ratePerSecond;
      result.herald = {
        ...herald1,
        heraldOverB1:
          typeof b1 === 'number' && b1 > 0 && herald1.ratePerSecond !== null
            ? Math.round((herald1.ratePerSecond / b1) * 100) / 100
            : null,
      };
      const half = (herald1.ratePerSecond ?? 0) / 2;
      if (opts.halfLoad && half > 0) {
        log(`Herald: open loop at ${half.toFixed(1)} notifications/s (half the saturation rate)`);
        result.halfLoad = await halfLoadPhase(herald, counter, setup, half, load.durationMs);
      }
    }
    if (opts.only.has('campaign')) {
      log(`campaign: ${opts.campaignRecipients} recipients`);
      // A failed campaign phase is reported as such, without losing the phases measured before it.
      result.campaign = await campaignPhase(herald, counter, opts.campaignRecipients, opts.campaignPacing, probe).catch(
        (error: Error) => {
          log(`campaign failed: ${error.stack ?? error.message}`);
          return { error: error.message };
        },
      );
    }
    rss?.stop();
    rssUnderLoad.stop();
    result.process = {
      /** Peak summed RSS of Herald's process trees over their whole life (start-up included), sampled every 200 ms. */
      peakRssMb: Math.round((rss?.peak() ?? 0) / 1024 / 1024),
      /** The same, from the end of start-up (ready) to the end of the run. */
      peakRssAfterStartMb: Math.round(rssUnderLoad.peak() / 1024 / 1024),
      /** Processes in Herald's trees once started: Herald's own (one for `npm start`, two split) and their helpers. */
      processes,
    };
  } finally {
    for (const cleanup of cleanupsOfRun.reverse()) await cleanup().catch((e) => log(`cleanup: ${e.message}`));
    fs.rmSync(path.join(tmp, `herald-${run}`), { recursive: true, force: true });
  }
  return result;
}

/** Per field: the median over runs; errors and duplicates are summed, peak RSS is the maximum. */
function combine(runs: RunResult[]): RunResult {
  const combined: RunResult = {};
  const phases = new Set(runs.flatMap((r) => Object.keys(r)));
  for (const phase of phases) {
    const present = runs.map((r) => r[phase]).filter((p): p is Record<string, unknown> => p !== undefined);
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(present[0] ?? {})) {
      const values = present.map((p) => p[key]);
      if (values.every((v) => typeof v === 'number' || v === null)) {
        const numbers = values.filter((v): v is number => typeof v === 'number');
        if (numbers.length === 0) fields[key] = null;
        else if (/errors|duplicate|failed/i.test(key)) fields[key] = numbers.reduce((a, b) => a + b, 0);
        else if (/^peak/.test(key)) fields[key] = Math.max(...numbers);
        else fields[key] = median(numbers);
      } else {
        fields[key] = values[values.length - 1];
      }
    }
    combined[phase] = fields;
  }
  return combined;
}

function table(opts: Options, result: RunResult, context: Record<string, unknown>): string {
  const rows: [string, unknown, string?][] = [];
  const get = (phase: string, key: string) => result[phase]?.[key];
  const add = (label: string, phase: string, key: string, target?: string) => {
    if (result[phase] && key in result[phase]!) rows.push([label, get(phase, key), target]);
  };
  const embedded = opts.db === 'embedded';
  add('B0 empty workflows/s', 'b0', 'ratePerSecond');
  add('B0 Temporal CPU ms/workflow', 'b0', 'temporalCpuMsPerWorkflow');
  add('B0 state transitions/workflow', 'b0', 'stateTransitionsPerWorkflow');
  add('B0 Temporal DB requests/workflow', 'b0', 'temporalDbRequestsPerWorkflow');
  add('B1 one-activity workflows/s', 'b1', 'ratePerSecond');
  add('B1 Temporal CPU ms/workflow', 'b1', 'temporalCpuMsPerWorkflow');
  add('B1 bench worker+client CPU ms/workflow', 'b1', 'benchCpuMsPerWorkflow');
  add('B1 state transitions/workflow', 'b1', 'stateTransitionsPerWorkflow');
  add('B1 Temporal DB requests/workflow', 'b1', 'temporalDbRequestsPerWorkflow');
  add('Herald notifications/s (closed loop)', 'herald', 'ratePerSecond');
  add('Herald ÷ B1', 'herald', 'heraldOverB1', '≥ 0.5');
  add('accept (POST→202) p50 ms', 'herald', 'acceptP50Ms');
  add('accept (POST→202) p99 ms', 'herald', 'acceptP99Ms');
  add('end-to-end p50 ms', 'herald', 'endToEndP50Ms');
  add('end-to-end p99 ms', 'herald', 'endToEndP99Ms');
  add('Herald process CPU ms/notification', 'herald', 'heraldCpuMsPerNotification', embedded ? '≤ 45' : '≤ 30');
  add('Temporal server CPU ms/notification', 'herald', 'temporalCpuMsPerNotification');
  add('PostgreSQL backends CPU ms/notification', 'herald', 'postgresBackendCpuMsPerNotification');
  add('workflow executions/notification', 'herald', 'workflowExecutionsPerNotification');
  add(
    'state transitions/notification',
    'herald',
    'stateTransitionsPerNotification',
    opts.targets === 4 ? '≤ 14' : '≤ 8',
  );
  add('history events/notification', 'herald', 'historyEventsPerNotification');
  add('Temporal DB requests/notification', 'herald', 'temporalDbRequestsPerNotification');
  add('DB transactions/notification', 'herald', 'dbTransactionsPerNotification');
  add('DB rows written/notification', 'herald', 'dbRowsWrittenPerNotification');
  add('notifications accepted', 'herald', 'notificationsAccepted');
  add('errors (POST ≠ 202, not delivered in 120 s)', 'herald', 'errors', '0');
  add('notifications not delivered (final status)', 'herald', 'failedNotifications', '0');
  add('duplicate sends', 'herald', 'duplicateSends', '0');
  add('half load: rate notifications/s', 'halfLoad', 'ratePerSecond');
  add('half load: accept p99 ms', 'halfLoad', 'acceptP99Ms', '≤ 50');
  add('half load: end-to-end p99 ms', 'halfLoad', 'endToEndP99Ms');
  add('half load: errors', 'halfLoad', 'errors', '0');
  add('campaign recipients/s', 'campaign', 'recipientsPerSecond', embedded ? '≥ 50' : undefined);
  add('campaign Herald CPU ms/recipient', 'campaign', 'heraldCpuMsPerRecipient');
  add('campaign Temporal CPU ms/recipient', 'campaign', 'temporalCpuMsPerRecipient');
  add('campaign bench CPU ms/recipient', 'campaign', 'benchCpuMsPerRecipient');
  add('campaign state transitions/recipient', 'campaign', 'stateTransitionsPerRecipient');
  add('campaign Temporal DB requests/recipient', 'campaign', 'temporalDbRequestsPerRecipient');
  add('campaign errors', 'campaign', 'errors', '0');
  add('campaign duplicate sends', 'campaign', 'duplicateSends', '0');
  add('campaign phase failed', 'campaign', 'error');
  add('peak RSS of Herald, whole life (MB)', 'process', 'peakRssMb', '≤ 400');
  add('peak RSS of Herald after start-up (MB)', 'process', 'peakRssAfterStartMb');
  const width = Math.max(...rows.map((r) => r[0].length));
  const lines = rows.map(
    ([label, value, target]) =>
      `  ${label.padEnd(width)}  ${String(value ?? 'n/a').padStart(9)}${target ? `   target ${target}` : ''}`,
  );
  return [
    `Herald benchmark — ${opts.db}${opts.roles === 'split' ? ' (worker + api processes)' : ''}, ${opts.targets} target(s)/notification, concurrency ${opts.concurrency}, ` +
      `warm-up ${opts.warmupSeconds} s, duration ${opts.durationSeconds} s, ` +
      `${opts.runs > 1 ? `median of ${opts.runs} runs` : '1 run'}; ${context.cpus} cores, ` +
      `load average at start ${context.loadAverageAtStart}`,
    ...lines,
  ].join('\n');
}

async function main() {
  const opts = options();
  if (process.platform !== 'linux') throw new Error('the benchmark reads CPU and memory from /proc: Linux only');
  // Bounded: whatever hangs, the benchmark ends and stops what it started.
  const budgetMs = 600_000 + opts.runs * (4 * (opts.warmupSeconds + opts.durationSeconds) * 1000 + 900_000);
  const watchdog = setTimeout(() => {
    console.error(`bench: gave up after ${Math.round(budgetMs / 1000)} s`);
    void runCleanups().finally(() => process.exit(1));
  }, budgetMs);
  watchdog.unref();

  // The baseline worker's SDK: errors only, and Rust core's log lines kept off stdout (the result line's home).
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }), forward: {} },
    },
  });
  const context = {
    cpus: os.cpus().length,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    startedAt: new Date().toISOString(),
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  onCleanup('temp folder', async () => fs.rmSync(tmp, { recursive: true, force: true }));

  // What `npm start` runs first (its prestart): the benchmark spawns Herald's node command directly, so without this a
  // workflow bundle older than the sources would have the worker bundle them at start-up — and be measured doing so.
  console.error('bench: npm run setup (as `npm start` does first)');
  execFileSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'setup.js')], {
    stdio: ['ignore', process.stderr, process.stderr],
  });
  console.error('bench: starting the Temporal dev server (as the embedded one is configured)');
  const temporalDir = path.join(tmp, 'temporal');
  const metricsPort = await unusedPort();
  const server = await startDevServer({
    dataDir: temporalDir,
    port: await unusedPort(),
    uiPort: await unusedPort(),
    metricsPort,
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const temporalPid = Number(fs.readFileSync(path.join(temporalDir, 'temporal.pid'), 'utf8'));
  killAtExit(temporalPid);
  onCleanup('Temporal dev server', () => server.stop());
  const connection = await Connection.connect({ address: server.address });
  onCleanup('Temporal connection', () => connection.close());

  const runs: RunResult[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    runs.push(await oneRun(run, opts, { address: server.address, pid: temporalPid, connection, metricsUrl }, tmp));
  }
  const combined = combine(runs);
  console.log(table(opts, combined, context));
  const json = {
    config: {
      db: opts.db,
      roles: opts.roles,
      targets: opts.targets,
      concurrency: opts.concurrency,
      warmupSeconds: opts.warmupSeconds,
      durationSeconds: opts.durationSeconds,
      runs: opts.runs,
      phases: [...opts.only],
      halfLoad: opts.halfLoad,
      users: opts.users,
      campaignRecipients: opts.campaignRecipients,
      campaignPacing: opts.campaignPacing,
    },
    context: { ...context, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    ...combined,
    ...(opts.runs > 1 ? { perRun: runs } : {}),
  };
  console.log(`BENCH_RESULT ${JSON.stringify(json)}`);
}

void main()
  .then(
    () => 0,
    (error) => {
      console.error(error);
      return 1;
    },
  )
  .then(async (code) => {
    await runCleanups();
    process.exit(code);
  });
