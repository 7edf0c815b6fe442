/**
 * A failing test ends the run: a jest of its own runs tests that time out with a Temporal worker running, one of them
 * with a client call in flight (test/support/fixtures/worker-left-running.fixture.ts). That jest must report both
 * failures, exit by itself, and leave no process behind (the dev server included). Before test/support/teardown.ts,
 * the first kept jest alive, its worker retrying against the server its afterAll had killed, until the run was
 * killed; the second crashed it with "Channel has been shut down".
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { until } from './until';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '..', '..');

function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

it('tests that time out with a worker running fail, and jest exits on its own and leaves nothing running', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-teardown-'));
  const report = path.join(dir, 'report.json');
  let output = '';
  // Its own process group, so that whatever it starts can be found (and, if it hangs, killed) afterwards.
  const child = spawn(
    process.execPath,
    [
      '--experimental-vm-modules',
      path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--runInBand', // as `npm test` used to run: one process, which a leaked worker keeps alive
      '--testMatch',
      '**/test/support/fixtures/worker-left-running.fixture.ts',
      '--json',
      '--outputFile',
      report,
    ],
    { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } },
  );
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let code: number | null | undefined;
  void exited.then((c) => (code = c));

  try {
    await until(
      () => `the fixture's jest to exit by itself; its output:\n${output}`,
      async () => (code === undefined ? undefined : true),
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    expect(code).toBe(1);
    const result = JSON.parse(fs.readFileSync(report, 'utf8'));
    expect({ passed: result.numPassedTests, failed: result.numFailedTests }).toEqual({ passed: 0, failed: 2 });
    for (const test of result.testResults[0].assertionResults) {
      expect(test.failureMessages.join('\n')).toMatch(/Exceeded timeout/);
    }
    // The SDK retrying on a closed connection used to throw out of a timer and crash the worker.
    expect(output).not.toMatch(/Channel has been shut down/);
    // The dev server it started has been stopped, not orphaned.
    await until("the fixture's processes to be gone", async () => (processGroupAlive(child.pid!) ? undefined : true), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
  } finally {
    if (processGroupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
