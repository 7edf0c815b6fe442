/**
 * Herald as its users run it: `npm start` (scripts/start.ts) in a child process of its own, configured only through
 * the environment of CONTRACT.md, reached only through its HTTP API. TEMPORAL_ADDRESS points at the benchmark's
 * Temporal server, so the process holds the API, the worker and (without DATABASE_URL) the embedded database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { formatEncryptionKeys, generateEncryptionKey } from '../lib/codec';
import { unusedPort } from '../test/fakes/http-fake-server';

const root = path.resolve(__dirname, '..');

export interface HeraldProcess {
  url: string;
  pid: number;
  taskQueue: string;
  /** Calls the API; returns the status and parsed JSON, or throws on a network error or after `timeoutMs`. */
  api(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** SIGTERM, then SIGKILL of its process group after 20 s. Writes the CPU profile when profiling. */
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface HeraldProcessOptions {
  dataDir: string;
  temporalAddress: string;
  databaseUrl?: string;
  providerEnv: Record<string, string>;
  /** Extra environment (HERALD_* tuning), applied last. */
  env?: Record<string, string>;
  /** Write a V8 CPU profile of the process into this folder when it stops. */
  profileDir?: string;
  startTimeoutMs?: number;
}

export async function startHeraldProcess(options: HeraldProcessOptions): Promise<HeraldProcess> {
  const port = await unusedPort();
  const apiKey = `hk_bench_${randomBytes(16).toString('hex')}`;
  const taskQueue = `herald-bench-${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(options.dataDir, { recursive: true });
  const logPath = path.join(options.dataDir, 'herald.log');
  const log = fs.openSync(logPath, 'a');
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profileDir)}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    // Its own process group, so that stopping it stops anything it started.
    detached: true,
    stdio: ['ignore', log, log],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      HERALD_TASK_QUEUE: taskQueue,
      HERALD_DATA_DIR: options.dataDir,
      HERALD_API_KEY: apiKey,
      HERALD_ENCRYPTION_KEYS: formatEncryptionKeys([generateEncryptionKey('bench')]),
      LOG_LEVEL: 'warn',
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      ...options.providerEnv,
      ...options.env,
    },
  });
  fs.closeSync(log);
  let exited: number | string | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? signal;
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const tail = () => fs.readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n');

  const api: HeraldProcess['api'] = async (method, route, body, headers = {}) => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text for the error report
    }
    return { status: response.status, body: parsed };
  };

  const stop = async () => {
    if (exited === undefined && child.pid) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid!), 20_000);
      await exit;
      clearTimeout(timer);
    }
    // Anything it started that outlived it.
    if (child.pid) killGroup(child.pid);
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`Herald exited (${exited}) while starting:\n${tail()}`);
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Herald was not ready after ${options.startTimeoutMs ?? 120_000} ms:\n${tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, pid: child.pid!, taskQueue, api, stop };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
