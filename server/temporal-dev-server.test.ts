/**
 * The embedded Temporal dev server is supervised: killed while Herald runs, it comes back on the same data and
 * address; dying again and again right after each start, it is given up on with a clear error.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { readPersistenceCounts } from '../bench/server-metrics';
import { unusedPort } from '../test/fakes/http-fake-server';
import { until } from '../test/support/until';
import { startDevServer, type DevServer, type DevServerStatus } from './temporal-dev-server';

jest.setTimeout(120_000);

let dataDir: string;
let server: DevServer | undefined;
let blocker: net.Server | undefined;

/** Takes the port (synchronously, for an IP address) and drops whatever connects. */
function takePort(port: number): net.Server {
  return net.createServer((socket) => socket.destroy()).listen(port, '127.0.0.1');
}

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-devserver-'));
});

afterEach(async () => {
  await server?.stop();
  server = undefined;
  await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
  blocker = undefined;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const pidOf = () => Number(fs.readFileSync(path.join(dataDir, 'temporal.pid'), 'utf8'));

it('after kill -9 of the dev server, starts it again on the same data and address, and says so meanwhile', async () => {
  const states: DevServerStatus[] = [];
  server = await startDevServer({
    dataDir,
    port: await unusedPort(),
    uiPort: await unusedPort(),
    supervision: { initialBackoffMs: 200 },
    onStateChange: (status) => states.push(status),
  });
  const connection = await Connection.connect({ address: server.address });
  try {
    const client = new Client({ connection });
    // A workflow no worker runs: it stays open, in the SQLite file.
    await client.workflow.start('nobodyRunsThis', { taskQueue: 'nobody', workflowId: 'survives-a-restart' });
    const firstPid = pidOf();

    process.kill(firstPid, 'SIGKILL');
    await until('the supervisor to notice', async () => (server!.status().state === 'restarting' ? true : undefined));
    await until('the server to be back', async () => (server!.status().state === 'running' ? true : undefined));

    expect(pidOf()).not.toBe(firstPid);
    expect(server.status()).toMatchObject({ state: 'running', restarts: 1 });
    expect(states.map((s) => s.state)).toEqual(['restarting', 'restarting', 'running']);
    expect(states[0]!.detail).toMatch(/stopped \(killed by SIGKILL\); restarting it on the same data/);
    // The same data, at the same address, through the connection made before the kill.
    const description = await client.workflow.getHandle('survives-a-restart').describe();
    expect(description.status.name).toBe('RUNNING');
  } finally {
    await connection.close();
  }
});

it('caches its search attributes as a production server does: running workflows reads no cluster metadata', async () => {
  const metricsPort = await unusedPort();
  server = await startDevServer({ dataDir, port: await unusedPort(), uiPort: await unusedPort(), metricsPort });
  const counts = () => readPersistenceCounts(`http://127.0.0.1:${metricsPort}/metrics`);
  const connection = await Connection.connect({ address: server.address });
  try {
    const client = new Client({ connection });
    const service = connection.workflowService;
    // A workflow that completes in its first task, run by hand: start it, take its task, answer "completed".
    const runOne = async (i: number) => {
      await client.workflow.start('completesAtOnce', { taskQueue: 'by-hand', workflowId: `sa-${i}` });
      const task = await connection.withDeadline(Date.now() + 30_000, () =>
        service.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: 'by-hand' }, identity: 'test' }),
      );
      await service.respondWorkflowTaskCompleted({
        namespace: 'default',
        taskToken: task.taskToken,
        identity: 'test',
        commands: [
          {
            commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
            completeWorkflowExecutionCommandAttributes: {},
          },
        ],
      });
    };
    await runOne(0);
    const closed = (c: Record<string, number>) => c['visibility:RecordWorkflowExecutionClosed'] ?? 0;
    const before = await until('the first workflow to be recorded closed', async () => {
      const c = await counts();
      return closed(c) >= 1 ? c : undefined;
    });
    for (let i = 1; i <= 10; i++) await runOne(i);
    // The server publishes its counters every second or so: wait until the ten closes are in them.
    const after = await until('the ten workflows to be recorded closed', async () => {
      const c = await counts();
      return closed(c) - closed(before) >= 10 ? c : undefined;
    });
    // Without the cache, recording a workflow's start, first task and close for the Web UI's list reads the search
    // attributes from the database: ≈30 reads here. A cache refresh may fall inside the loop.
    const reads = (c: Record<string, number>) => c.GetCurrentClusterMetadata ?? 0;
    expect(reads(after) - reads(before)).toBeLessThanOrEqual(2);
  } finally {
    await connection.close();
  }
});

it('keeps each task queue in one partition, where every waiting worker can take a task at once', async () => {
  server = await startDevServer({ dataDir, port: await unusedPort(), uiPort: await unusedPort() });
  const connection = await Connection.connect({ address: server.address });
  try {
    const { workflowTaskQueuePartitions, activityTaskQueuePartitions } =
      await connection.workflowService.listTaskQueuePartitions({
        namespace: 'default',
        taskQueue: { name: 'herald' },
      });
    // The dev server's default is four of each.
    expect(workflowTaskQueuePartitions).toHaveLength(1);
    expect(activityTaskQueuePartitions).toHaveLength(1);
  } finally {
    await connection.close();
  }
});

it('gives up with a clear error when the server dies again right after each restart', async () => {
  const port = await unusedPort();
  let fatal: Error | undefined;
  server = await startDevServer({
    dataDir,
    port,
    uiPort: await unusedPort(),
    supervision: { initialBackoffMs: 100, maxQuickDeaths: 2 },
    onStateChange: (status) => {
      // As soon as it is down, something else takes its port: every restart fails at once. (listen() binds
      // synchronously for an IP address, so the port is taken before the first restart is even scheduled.)
      if (status.state === 'restarting' && !blocker) blocker = takePort(port);
    },
    onFatal: (error) => (fatal = error),
  });
  process.kill(pidOf(), 'SIGKILL');
  await until('the supervisor to give up', async () => fatal, { timeoutMs: 90_000 });

  expect(server.status()).toMatchObject({ state: 'failed', restarts: 2 });
  expect(fatal!.message).toMatch(/keeps dying \(3 times in a row, each within 60 s of starting; last: exit code \d+\)/);
  expect(fatal!.message).toContain(path.join(dataDir, 'temporal.log'));
  expect(server.status().detail).toBe(fatal!.message);
});

it('when it cannot start, says why in its own words', async () => {
  // A port Herald does not check for itself (the server's metrics), taken: the server exits at once.
  const metricsPort = await unusedPort();
  blocker = takePort(metricsPort);
  await expect(
    startDevServer({ dataDir, port: await unusedPort(), uiPort: await unusedPort(), metricsPort }),
  ).rejects.toThrow(/temporal server exited; see .*temporal\.log \(it ends with: .*address already in use/);
});

it('refuses to start on a port already in use, naming the variable', async () => {
  const port = await unusedPort();
  blocker = takePort(port);
  await expect(startDevServer({ dataDir, port, uiPort: await unusedPort() })).rejects.toThrow(
    `HERALD_TEMPORAL_PORT: port ${port} is already in use`,
  );
});
