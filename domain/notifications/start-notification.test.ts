/**
 * How the API starts a notification's workflow, on a real Temporal dev server: the same key is one workflow, and a
 * client that shares a running worker's native connection (`npm start`) has the first workflow task handed to that
 * worker in the start's own answer (eager start), while a client of its own (`npm run api`) does not ask for it.
 */
import { randomUUID } from 'node:crypto';
import { Client, type WorkflowStartOutput } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { createLocalTemporal } from '../../test/support/temporal';
import { startNotificationWorkflow } from './start-notification';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `start-notification-${randomUUID()}`;

beforeAll(async () => {
  env = await createLocalTemporal();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../test/support/fixtures/notification-stand-in.workflow'),
    activities: {
      // As a campaign page and the intake workflow start theirs: on the activity's own client and task queue.
      async startFromActivity(key: string) {
        const { client, info } = Context.current();
        return startNotificationWorkflow(client, info.taskQueue, key, { notificationId: 'ntf_activity' });
      },
    },
  });
  running = worker.run();
}, 120_000);
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

/** A client that remembers whether each start was eager. */
function clientOn(connection: Client['connection']) {
  const eager: boolean[] = [];
  const client = new Client({
    connection,
    interceptors: {
      workflow: [
        {
          async startWithDetails(input, next): Promise<WorkflowStartOutput> {
            const output = await next(input);
            eager.push(output.eagerlyStarted);
            return output;
          },
        },
      ],
    },
  });
  return { client, eager };
}

it('npm start: a client on the worker’s native connection starts the notification eagerly, once per key', async () => {
  const { client, eager } = clientOn(env.nativeConnection);
  const key = `key-${randomUUID()}`;
  const workflowId = await startNotificationWorkflow(client, taskQueue, key, { notificationId: 'ntf_eager' });
  expect(eager).toEqual([true]);
  expect(await client.workflow.getHandle(workflowId).result()).toBe('started ntf_eager');
  // The same key again, now that its workflow has closed: the same id, nothing started twice.
  expect(await startNotificationWorkflow(client, taskQueue, key, { notificationId: 'ntf_eager' })).toBe(workflowId);
  const { executions } = await env.connection.workflowService.listWorkflowExecutions({
    namespace: 'default',
    query: `WorkflowId = '${workflowId}'`,
  });
  expect(executions).toHaveLength(1);
});

it('npm run api: a client of its own does not ask for eager start, and the worker still runs the notification', async () => {
  const { client, eager } = clientOn(env.connection);
  const workflowId = await startNotificationWorkflow(client, taskQueue, `key-${randomUUID()}`, {
    notificationId: 'ntf_polled',
  });
  expect(eager).toEqual([false]);
  expect(await client.workflow.getHandle(workflowId).result()).toBe('started ntf_polled');
});

it('campaign pages and the intake workflow: an activity starts the notification eagerly on its own client', async () => {
  const client = new Client({ connection: env.connection });
  const transitionsOf = async (workflowId: string) =>
    Number((await client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo!.stateTransitionCount);
  // The same notification started through the task queue, by a client of its own.
  const polled = await startNotificationWorkflow(client, taskQueue, `key-${randomUUID()}`, { notificationId: 'ntf_q' });
  expect(await client.workflow.getHandle(polled).result()).toBe('started ntf_q');
  const fromActivity = await client.workflow.execute('startsFromActivity', {
    taskQueue,
    workflowId: `activity-${randomUUID()}`,
    args: [`key-${randomUUID()}`],
  });
  expect(await client.workflow.getHandle(fromActivity).result()).toBe('started ntf_activity');
  // An eager start records its first workflow task with the start: one state transition fewer.
  expect(await transitionsOf(fromActivity)).toBe((await transitionsOf(polled)) - 1);
});
