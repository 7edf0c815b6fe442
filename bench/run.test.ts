/**
 * Keeps the benchmark harness from rotting: `npm run bench` in a tiny configuration must still start everything,
 * deliver through the fakes and print one parseable result line. It asserts what the harness reports about
 * correctness (deliveries, errors, duplicates, that every figure is present), never a timing: on a shared machine a
 * rate or a latency proves nothing.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

jest.setTimeout(240_000);

const root = path.resolve(__dirname, '..');

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The harness bounds itself; this is only the last resort (SIGINT lets it stop what it started).
    const timer = setTimeout(() => child.kill('SIGINT'), 220_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

it('runs B1 and Herald end to end and prints one BENCH_RESULT line with every figure', async () => {
  const db = process.env.DATABASE_URL ? 'postgres' : 'embedded';
  const { code, stdout, stderr } = await runBench([
    ...['--duration', '4', '--warmup', '0', '--concurrency', '2', '--users', '4'],
    ...['--only', 'b1,herald', '--runs', '1', '--no-half-load', '--db', db],
  ]);
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });

  const lines = stdout.split('\n').filter((line) => line.startsWith('BENCH_RESULT '));
  expect(lines).toHaveLength(1);
  const result = JSON.parse(lines[0]!.slice('BENCH_RESULT '.length));

  expect(result.config).toMatchObject({ db, targets: 4, concurrency: 2, phases: ['b1', 'herald'] });
  expect(result.b1.completedInWindow).toBeGreaterThan(0);
  expect(result.b1.stateTransitionsPerWorkflow).toBeGreaterThan(0);
  // The server's own counters: one execution created per workflow the loop ran, and visibility rows for it.
  expect(result.b1.temporalDbRequestsPerWorkflow).toBeGreaterThan(0);
  expect(result.b1.temporalDbRequestsByOperationPerWorkflow.CreateWorkflowExecution).toBeCloseTo(1, 0);

  const herald = result.herald;
  expect(herald.notificationsAccepted).toBeGreaterThan(0);
  // Every accepted notification reached all four targets, once each.
  expect(herald.finalStatuses).toEqual({ delivered: herald.notificationsAccepted });
  expect(herald.errors).toBe(0);
  expect(herald.failedNotifications).toBe(0);
  expect(herald.duplicateSends).toBe(0);
  expect(herald.workflowExecutionsPerNotification).toBeGreaterThanOrEqual(1);
  expect(herald.stateTransitionsPerNotification).toBeGreaterThan(0);
  expect(herald.historyEventsPerNotification).toBeGreaterThan(0);
  expect(herald.temporalDbRequestsPerNotification).toBeGreaterThan(0);
  expect(herald.temporalDbRequestsByOperationPerNotification).toMatchObject({
    CreateWorkflowExecution: expect.closeTo(1, 0),
    'visibility:RecordWorkflowExecutionStarted': expect.closeTo(1, 0),
  });
  for (const key of [
    'ratePerSecond',
    'heraldOverB1',
    'acceptP50Ms',
    'acceptP99Ms',
    'endToEndP50Ms',
    'endToEndP99Ms',
    'heraldCpuMsPerNotification',
    'temporalCpuMsPerNotification',
    'postgresBackendCpuMsPerNotification',
    'dbTransactionsPerNotification',
    'dbRowsWrittenPerNotification',
  ]) {
    expect(herald).toHaveProperty(key);
  }
  if (db === 'postgres') expect(herald.dbTransactionsPerNotification).toBeGreaterThan(0);
  else expect(herald.dbTransactionsPerNotification).toBeNull();
  expect(result.process.processes).toBeGreaterThanOrEqual(1);
  expect(result.process.peakRssMb).toBeGreaterThan(50);
});
