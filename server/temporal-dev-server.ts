/**
 * The embedded Temporal: `temporal server start-dev` with a SQLite file database (WAL) under the data folder, the Web
 * UI on :8233. A pid file lets the next start clean up a server orphaned by a `kill -9` of its parent.
 *
 * It is supervised: if the server exits while Herald runs (the OOM killer, a crash, a stray `kill -9`), it is started
 * again on the same data and ports, after a backoff that doubles while it keeps dying soon after starting. Herald's
 * clients and workers reconnect to the same address on their own, so everything accepted or scheduled carries on.
 * After too many quick deaths in a row the supervisor gives up and reports a fatal error (the process then exits
 * non-zero, for an orchestrator or a person to look at temporal.log).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ConfigError } from '../platform/config';
import type { Logger } from '../platform/logger';
import { temporalBinary } from './temporal-binaries';

export interface SupervisionOptions {
  /** The first restart's delay; it doubles for each quick death in a row (default 1 s). */
  initialBackoffMs?: number;
  /** The longest delay between restarts (default 30 s). */
  maxBackoffMs?: number;
  /** A server that exits sooner than this after starting died "quickly" (default 60 s). */
  quickDeathMs?: number;
  /** Quick deaths in a row after which the supervisor gives up (default 5). */
  maxQuickDeaths?: number;
  /** How long one start may take to answer (default 60 s). */
  readyTimeoutMs?: number;
}

export interface DevServerOptions {
  dataDir: string;
  port?: number;
  uiPort?: number;
  namespace?: string;
  logger?: Logger;
  /** The Web UI decodes payloads through this codec server (Herald's `<public URL>/codec`). */
  uiCodecEndpoint?: string;
  /** Serve the server's own Prometheus metrics on 127.0.0.1:<port>/metrics (the benchmark reads them). Off by default. */
  metricsPort?: number;
  supervision?: SupervisionOptions;
  /** Every change of state (running → restarting → running, or failed). */
  onStateChange?: (status: DevServerStatus) => void;
  /** The supervisor gave up: the server keeps dying. Called once. */
  onFatal?: (error: Error) => void;
}

export type DevServerState = 'running' | 'restarting' | 'failed' | 'stopped';

export interface DevServerStatus {
  state: DevServerState;
  /** Restarts since Herald started. */
  restarts: number;
  /** What happened, for /readyz and the log (absent while running normally). */
  detail?: string;
  /** When the state last changed (ISO 8601). */
  since: string;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  status(): DevServerStatus;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function stopOrphan(pidFile: string, logger?: Logger): Promise<void> {
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    const cmdline = fs.existsSync(`/proc/${pid}/cmdline`) ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (cmdline.includes('temporal') && cmdline.includes('start-dev')) {
      logger?.warn({ pid }, 'stopping a Temporal dev server left over from an earlier run');
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !alive(pid), 15_000, 'the old Temporal dev server to stop').catch(() =>
        process.kill(pid, 'SIGKILL'),
      );
    }
  }
  fs.rmSync(pidFile, { force: true });
}

/**
 * Where the embedded server departs from `temporal server start-dev`'s defaults, which are made for development, to
 * run as a production server does (docs/performance.md, eighth and ninth rounds). Passed as `--dynamic-config-value`.
 */
const DYNAMIC_CONFIG: Record<string, string | number | boolean> = {
  // The dev server reads the search attributes from its database on every use unless told otherwise (so a test sees
  // a new one at once): three to five reads per workflow. A production server caches them; so does Herald's.
  'system.forceSearchAttributesCacheRefreshOnRead': false,
  // Every task queue in one partition. Partitions spread a busy queue over several matching hosts; this server is one
  // process, so four (the default) only split the waiting pollers four ways. A task that lands on a partition where
  // no poller waits is written to the database and read back instead of being handed over at once: ≈2.6 such writes
  // per notification with four, ≈1.8 with one; a campaign runs ≈13 % faster.
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
};

/** Fails with a message naming the variable when something already listens on the port (the server would only log it). */
async function assertPortFree(port: number, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(
              `${variable}: port ${port} is already in use (another Herald?); set ${variable} to a free port`,
            )
          : error,
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/** The last lines of temporal.log that say why the server stopped (no secrets there: the dev server has none). */
function lastLogLines(logPath: string, count = 3): string {
  try {
    const text = fs.readFileSync(logPath, 'utf8');
    return text.trim().split('\n').slice(-count).join(' | ').slice(0, 800);
  } catch {
    return '';
  }
}

/** Where to look, and what the log says last: how every failure of the server is reported. */
function seeLog(logPath: string): string {
  const tail = lastLogLines(logPath);
  return `see ${logPath}` + (tail ? ` (it ends with: ${tail})` : '');
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const namespace = options.namespace ?? 'default';
  const logger = options.logger;
  const supervision = {
    initialBackoffMs: 1_000,
    maxBackoffMs: 30_000,
    quickDeathMs: 60_000,
    maxQuickDeaths: 5,
    readyTimeoutMs: 60_000,
    ...options.supervision,
  };
  fs.mkdirSync(options.dataDir, { recursive: true });
  const pidFile = path.join(options.dataDir, 'temporal.pid');
  const logPath = path.join(options.dataDir, 'temporal.log');
  await stopOrphan(pidFile, logger);
  await assertPortFree(port, 'HERALD_TEMPORAL_PORT');
  await assertPortFree(uiPort, 'HERALD_TEMPORAL_UI_PORT');

  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(options.dataDir, 'temporal.db'),
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=NORMAL',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...Object.entries(DYNAMIC_CONFIG).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]),
    ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
    ...(options.metricsPort !== undefined ? ['--metrics-port', String(options.metricsPort)] : []),
  ];
  const address = `127.0.0.1:${port}`;

  let child: ChildProcess | undefined;
  let exited = true;
  // Supervision starts once the first start has answered: a server that cannot start at all is a start-up error.
  let supervised = false;
  let startedAt = 0;
  let stopping = false;
  let quickDeaths = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let downSince = 0;
  let status: DevServerStatus = { state: 'running', restarts: 0, since: new Date().toISOString() };
  const setStatus = (next: Omit<DevServerStatus, 'since'>) => {
    status = { ...next, since: new Date().toISOString() };
    options.onStateChange?.(status);
  };

  const launch = (): ChildProcess => {
    const logFile = fs.openSync(logPath, 'a');
    const proc = spawn(temporalBinary('temporal'), args, { stdio: ['ignore', logFile, logFile] });
    fs.closeSync(logFile);
    fs.writeFileSync(pidFile, String(proc.pid));
    child = proc;
    exited = false;
    startedAt = Date.now();
    proc.once('exit', (code, signal) => {
      if (proc !== child) return;
      exited = true;
      if (!stopping && supervised) onUnexpectedExit(code, signal);
    });
    return proc;
  };

  const answers = async (): Promise<boolean> => {
    // Lazy, so that a failed attempt is closed too (a failed Connection.connect leaves its channel open).
    const connection = Connection.lazy({ address, connectTimeout: 1000 });
    try {
      await connection.ensureConnected();
      await connection.withDeadline(Date.now() + 5_000, () =>
        connection.workflowService.describeNamespace({ namespace }),
      );
      return true;
    } catch {
      return false;
    } finally {
      await connection.close().catch(() => undefined);
    }
  };

  const waitUntilAnswering = (proc: ChildProcess) =>
    waitFor(
      async () => {
        if (proc !== child || exited) throw new Error(`temporal server exited; ${seeLog(logPath)}`);
        return answers();
      },
      supervision.readyTimeoutMs,
      `Temporal at ${address}`,
    );

  function onUnexpectedExit(code: number | null, signal: NodeJS.Signals | null): void {
    const uptimeMs = Date.now() - startedAt;
    quickDeaths = uptimeMs < supervision.quickDeathMs ? quickDeaths + 1 : 1;
    if (status.state === 'running') downSince = Date.now();
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    if (quickDeaths > supervision.maxQuickDeaths) {
      const detail =
        `the embedded Temporal dev server keeps dying (${quickDeaths} times in a row, each within ` +
        `${Math.round(supervision.quickDeathMs / 1000)} s of starting; last: ${how}); giving up; ${seeLog(logPath)}`;
      logger?.fatal({ code, signal, restarts: status.restarts, log: logPath }, detail);
      setStatus({ state: 'failed', restarts: status.restarts, detail });
      options.onFatal?.(new Error(detail));
      return;
    }
    const delayMs = Math.min(supervision.initialBackoffMs * 2 ** (quickDeaths - 1), supervision.maxBackoffMs);
    const detail = `the embedded Temporal dev server stopped (${how}); restarting it on the same data in ${delayMs} ms`;
    logger?.error({ temporalPid: child?.pid, code, signal, restarts: status.restarts, delayMs, log: logPath }, detail);
    setStatus({ state: 'restarting', restarts: status.restarts, detail });
    restartTimer = setTimeout(() => void restart(), delayMs);
  }

  async function restart(): Promise<void> {
    restartTimer = undefined;
    if (stopping) return;
    const restarts = status.restarts + 1;
    setStatus({
      state: 'restarting',
      restarts,
      detail: `starting the embedded Temporal dev server again (restart ${restarts})`,
    });
    const proc = launch();
    try {
      await waitUntilAnswering(proc);
    } catch {
      // It exited (the exit handler schedules the next attempt) or never answered: kill it, which does the same.
      if (proc === child && !exited) proc.kill('SIGKILL');
      return;
    }
    if (stopping || proc !== child) return;
    logger?.warn(
      { temporalPid: proc.pid, restarts, downMs: Date.now() - downSince },
      'the embedded Temporal dev server is back (restart %d, down for %d ms)',
      restarts,
      Date.now() - downSince,
    );
    setStatus({ state: 'running', restarts });
  }

  const first = launch();
  await waitUntilAnswering(first).catch((error: unknown) => {
    if (!exited) first.kill('SIGKILL');
    fs.rmSync(pidFile, { force: true });
    throw error;
  });
  supervised = true;

  return {
    address,
    uiUrl: `http://localhost:${uiPort}`,
    status: () => status,
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const proc = child;
      if (proc && !exited) {
        proc.kill('SIGTERM');
        await waitFor(() => exited, 15_000, 'Temporal to stop').catch(() => proc.kill('SIGKILL'));
      }
      fs.rmSync(pidFile, { force: true });
      if (status.state !== 'failed') setStatus({ state: 'stopped', restarts: status.restarts });
    },
  };
}
