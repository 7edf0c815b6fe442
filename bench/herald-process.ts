/**
 * Herald as its users run it: `npm start` (scripts/start.ts) in a child process of its own — or `npm run worker` and
 * `npm run api` as two — configured only through the environment of CONTRACT.md, reached only through its HTTP API.
 * TEMPORAL_ADDRESS points at the benchmark's Temporal server, so `npm start` holds the API, the worker and (without
 * DATABASE_URL) the embedded database, and no Temporal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { formatEncryptionKeys, generateEncryptionKey } from '../contract/codec';
import { unusedPort } from '../test/fakes/http-fake-server';
import { npmScriptCommand } from '../test/support/npm-script';

const root = path.resolve(__dirname, '..');

export interface HeraldProcess {
  url: string;
  /** The processes Herald runs as: one for `npm start`, the worker and the API for `split`. */
  pids: number[];
  taskQueue: string;
  /** Calls the API; returns the status and parsed JSON, or throws on a network error or after 30 s. */
  api(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** SIGTERM, then SIGKILL of each process group after 20 s. Writes the CPU profile when profiling. */
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
  /** `start`: `npm start`, every role in one process; `split`: `npm run worker` + `npm run api` (PostgreSQL only). */
  roles?: 'start' | 'split';
  /** Extra environment (HERALD_* tuning), applied last. */
  env?: Record<string, string>;
  /** Write a V8 CPU profile of each process into this folder when it stops. */
  profileDir?: string;
  startTimeoutMs?: number;
  /** Called with each process as soon as it is spawned, so that it can be killed whatever happens next. */
  onSpawn?: (pid: number) => void;
}

interface RoleProcess {
  pid: number;
  exited(): number | string | null | undefined;
  tail(): string;
  stop(): Promise<void>;
}

function spawnRole(
  script: 'start' | 'api' | 'worker',
  env: Record<string, string>,
  dataDir: string,
  profileDir?: string,
): RoleProcess {
  const logPath = path.join(dataDir, `herald-${script}.log`);
  const log = fs.openSync(logPath, 'a');
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
  const command = npmScriptCommand(script);
  const child: ChildProcess = spawn(process.execPath, [...profile, ...command.nodeArgs], {
    cwd: root,
    // Its own process group, so that stopping it stops anything it started.
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...command.env, ...env },
  });
  fs.closeSync(log);
  let exited: number | string | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? signal;
      resolve();
    }),
  );
  return {
    pid: child.pid!,
    exited: () => exited,
    tail: () => `${script}: ${fs.readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n')}`,
    async stop() {
      if (exited === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => killGroup(child.pid!), 20_000);
        await exit;
        clearTimeout(timer);
      }
      killGroup(child.pid!); // anything it started that outlived it
    },
  };
}

export async function startHeraldProcess(options: HeraldProcessOptions): Promise<HeraldProcess> {
  const roles = options.roles ?? 'start';
  if (roles === 'split' && !options.databaseUrl) throw new Error('split roles need PostgreSQL (--db postgres)');
  const apiKey = `hk_bench_${randomBytes(16).toString('hex')}`;
  const taskQueue = `herald-bench-${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(options.dataDir, { recursive: true });
  const env = (port: number) => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PORT: String(port),
    // A worker-only process serves /healthz on its own port (HERALD_OPS_PORT); `npm start` ignores it.
    HERALD_OPS_PORT: String(port),
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    HERALD_TASK_QUEUE: taskQueue,
    HERALD_DATA_DIR: options.dataDir,
    HERALD_API_KEY: apiKey,
    HERALD_ENCRYPTION_KEYS: encryptionKeys,
    LOG_LEVEL: 'warn',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...options.providerEnv,
    ...options.env,
  });
  const encryptionKeys = formatEncryptionKeys([generateEncryptionKey('bench')]);
  const apiPort = await unusedPort();
  const processes: RoleProcess[] = [];
  const waits: { url: string; role: RoleProcess }[] = [];
  if (roles === 'split') {
    const workerPort = await unusedPort();
    const worker = spawnRole('worker', env(workerPort), options.dataDir, options.profileDir);
    processes.push(worker);
    waits.push({ url: `http://127.0.0.1:${workerPort}/healthz`, role: worker });
  }
  const main = spawnRole(roles === 'split' ? 'api' : 'start', env(apiPort), options.dataDir, options.profileDir);
  processes.push(main);
  waits.push({ url: `http://127.0.0.1:${apiPort}/readyz`, role: main });
  for (const p of processes) options.onSpawn?.(p.pid);
  const url = `http://127.0.0.1:${apiPort}`;

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
    await Promise.all(processes.map((p) => p.stop()));
  };

  const timeoutMs = options.startTimeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  for (const { url: probe, role } of waits) {
    for (;;) {
      const dead = processes.find((p) => p.exited() !== undefined);
      if (dead) {
        await stop();
        throw new Error(`Herald exited (${dead.exited()}) while starting:\n${dead.tail()}`);
      }
      const ready = await fetch(probe, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`Herald was not ready after ${timeoutMs} ms:\n${role.tail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return { url, pids: processes.map((p) => p.pid), taskQueue, api, stop };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
