/**
 * `npx tsx bench/worker-cpu.ts`: the CPU a worker process spends per notification, for docs/operations.md's sizing.
 * The API runs in this process; one `npm run worker` runs as a child process (on PostgreSQL: DATABASE_URL is
 * required) with every channel on the outbox provider, so what is measured is Herald's own work — Temporal tasks,
 * payload encryption, database writes — not a provider SDK. Its CPU time is read from /proc before and after N
 * notifications with four targets each (an iOS and an Android device, a phone, an email address). Printed, never
 * asserted.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatEncryptionKeys, generateEncryptionKey } from '../lib/codec';
import { unusedPort } from '../test/fakes/http-fake-server';
import { startTestHerald } from '../test/support/herald';
import { createLocalTemporal } from '../test/support/temporal';

const N = Number(process.env.BENCH_NOTIFICATIONS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);

/** User + system CPU seconds of a process, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

async function main() {
  if (!process.env.DATABASE_URL)
    throw new Error('DATABASE_URL (PostgreSQL) is required: the worker is another process');
  const temporal = await createLocalTemporal();
  const keys = formatEncryptionKeys([generateEncryptionKey('bench')]);
  const herald = await startTestHerald({ temporal, worker: false, env: { HERALD_ENCRYPTION_KEYS: keys } });
  const port = await unusedPort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  // BENCH_PROFILE=<dir>: also write the worker's V8 CPU profile there (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const worker = spawn(process.execPath, [...profile, '--import', 'tsx', 'scripts/worker.ts'], {
    cwd: path.resolve(__dirname, '..'),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HERALD_OPS_PORT: String(port),
      DATABASE_URL: herald.db.url!,
      TEMPORAL_ADDRESS: temporal.address,
      HERALD_TASK_QUEUE: herald.taskQueue,
      HERALD_ENCRYPTION_KEYS: keys,
      HERALD_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await herald.api('PUT', '/v1/templates/bench', {
      channels: {
        push: { title: 'Shipped', body: 'Order {{ n }}' },
        sms: { body: 'Order {{ n }} shipped' },
        email: { subject: 'Order {{ n }}', text: 'On its way' },
      },
    });
    await herald.api('PUT', '/v1/users/bench', { email: 'bench@example.com', phone: '+14155550100' });
    await herald.api('POST', '/v1/users/bench/devices', { platform: 'ios', token: 'ab'.repeat(32) });
    await herald.api('POST', '/v1/users/bench/devices', { platform: 'android', token: 'bench-android-token' });

    const run = async (count: number) => {
      const ids: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < count) {
            const n = next++;
            const response = await herald.api('POST', '/v1/notifications', {
              userId: 'bench',
              template: 'bench',
              data: { n },
            });
            ids.push(response.body.id);
          }
        }),
      );
      for (;;) {
        const pending = await herald.db.prisma.notification.count({
          where: { id: { in: ids }, status: { notIn: ['delivered', 'failed', 'partially_delivered', 'suppressed'] } },
        });
        if (pending === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    await run(20); // warm-up: first workflow activations, connection pools, JIT
    // Herald's database work (API and worker): transactions and rows written, from PostgreSQL's own statistics.
    const dbStats = async () => {
      await new Promise((resolve) => setTimeout(resolve, 1500)); // statistics are flushed about once a second
      const [row] = await herald.db.prisma.$queryRawUnsafe<{ commits: number; inserted: number; updated: number }[]>(
        `SELECT xact_commit::int AS commits, tup_inserted::int AS inserted, tup_updated::int AS updated
           FROM pg_stat_database WHERE datname = current_database()`,
      );
      return row!;
    };
    const dbBefore = await dbStats();
    const workerBefore = cpuSeconds(worker.pid!);
    const selfBefore = process.cpuUsage();
    const started = Date.now();
    await run(N);
    const seconds = (Date.now() - started) / 1000;
    const workerMs = ((cpuSeconds(worker.pid!) - workerBefore) * 1000) / N;
    const self = process.cpuUsage(selfBefore);
    const dbAfter = await dbStats();
    console.log(`worker CPU per notification (4 targets, outbox): ${workerMs.toFixed(1)} ms`);
    console.log(
      `API process CPU per notification (API + this driver): ${((self.user + self.system) / 1000 / N).toFixed(1)} ms`,
    );
    console.log(
      `Herald's database per notification: ${((dbAfter.commits - dbBefore.commits) / N).toFixed(1)} transactions, ` +
        `${((dbAfter.inserted - dbBefore.inserted) / N).toFixed(1)} rows inserted, ` +
        `${((dbAfter.updated - dbBefore.updated) / N).toFixed(1)} rows updated`,
    );
    console.log(`throughput on this machine: ${(N / seconds).toFixed(1)} notifications/s (${os.cpus().length} cores)`);
  } finally {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
    await herald.stop();
    await temporal.teardown();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
