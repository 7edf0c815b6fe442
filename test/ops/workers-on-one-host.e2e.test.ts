/**
 * "Run as many workers as the load needs", on one host, as written: two `npm run worker` processes started side by
 * side with nothing but the shared settings both come up, each with /healthz and /metrics on a port of its own
 * (HERALD_OPS_PORT, any free port by default, in the start-up log line). A worker told to use a port that is taken
 * stops at once with a message naming the variable, and a non-zero exit.
 *
 * Needs PostgreSQL (DATABASE_URL): the embedded PGlite database lives inside one process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { formatEncryptionKeys, generateEncryptionKey } from '../../contract/codec';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { npmScriptCommand } from '../support/npm-script';
import { createLocalTemporal } from '../support/temporal';
import { until } from '../support/until';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '..', '..');
const postgres = Boolean(process.env.DATABASE_URL);
const title = 'two workers started side by side on one host both come up; a taken ops port is named';

let temporal: TestWorkflowEnvironment | undefined;
let database: TestDatabase | undefined;
let logDir: string | undefined;
const workers: { proc: ChildProcess; log: string }[] = [];

afterAll(async () => {
  for (const { proc } of workers) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  await temporal?.teardown();
  await database?.close();
  if (logDir) fs.rmSync(logDir, { recursive: true, force: true });
});

(postgres ? it : it.skip)(
  postgres
    ? title
    : `${title} — SKIPPED: set DATABASE_URL (PostgreSQL); the embedded PGlite database is single-process`,
  async () => {
    temporal = await createLocalTemporal();
    database = await createTestDatabase();
    logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-workers-'));
    // Only what every worker of a deployment shares: no PORT, no HERALD_OPS_PORT.
    const shared = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: database.url!,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace ?? 'default',
      HERALD_TASK_QUEUE: `workers-one-host-${process.pid}`,
      HERALD_ENCRYPTION_KEYS: formatEncryptionKeys([generateEncryptionKey('one-host')]),
      LOG_LEVEL: 'info',
    };
    const startWorker = (name: string, env: Record<string, string> = {}) => {
      const log = path.join(logDir!, `worker-${name}.log`);
      const out = fs.openSync(log, 'a');
      const command = npmScriptCommand('worker');
      const proc = spawn(process.execPath, command.nodeArgs, {
        cwd: ROOT,
        env: { ...command.env, ...shared, HERALD_DATA_DIR: path.join(logDir!, name), ...env },
        stdio: ['ignore', out, out],
      });
      fs.closeSync(out);
      workers.push({ proc, log });
      return { proc, log };
    };
    /** The ops URL from the worker's start-up line. */
    const opsUrl = (log: string) =>
      until(
        () => `the ops URL in ${log}: ${fs.readFileSync(log, 'utf8').slice(-2000)}`,
        async () => {
          const line = fs
            .readFileSync(log, 'utf8')
            .split('\n')
            .find((l) => l.includes('health and metrics on'));
          return line ? (JSON.parse(line) as { url: string; port: number }) : undefined;
        },
        { timeoutMs: 180_000 },
      );

    const a = startWorker('a');
    const b = startWorker('b');
    const [opsA, opsB] = await Promise.all([opsUrl(a.log), opsUrl(b.log)]);
    expect(opsA.port).not.toBe(opsB.port);
    for (const ops of [opsA, opsB]) {
      expect((await fetch(`http://127.0.0.1:${ops.port}/healthz`)).status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text()).toContain(
        'temporal_worker_task_slots_available{',
      );
    }
    expect([a.proc.exitCode, b.proc.exitCode]).toEqual([null, null]);

    // A third, told to share the first one's port.
    const c = startWorker('c', { HERALD_OPS_PORT: String(opsA.port) });
    const code = await new Promise<number | null>((resolve) => c.proc.once('exit', resolve));
    expect(code).toBe(2);
    expect(fs.readFileSync(c.log, 'utf8')).toContain(
      `herald: HERALD_OPS_PORT: port ${opsA.port} is already in use (another Herald process or another program ` +
        'listens there); set HERALD_OPS_PORT to a free port, or 0 for any free port',
    );
    // The first two are unaffected.
    for (const ops of [opsA, opsB]) expect((await fetch(`http://127.0.0.1:${ops.port}/healthz`)).status).toBe(200);
  },
);
