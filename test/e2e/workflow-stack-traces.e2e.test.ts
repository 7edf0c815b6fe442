/**
 * Workflow stack traces (the Web UI's "Stack Trace" tab, which sends the `__stack_trace` query) are off by default and
 * on with HERALD_WORKFLOW_STACK_TRACES=true (platform/workflow-stack-traces.ts). Checked on the real `npm start`, as the
 * Web UI would ask: a notification scheduled an hour ahead is a running workflow; its stack trace is refused with a
 * readable message while the setting is off (and workflows still wait and wake: another one, due in seconds, is
 * delivered), and after a restart with it on the same workflow answers with its stack.
 */
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { AesGcmPayloadCodec, embeddedEncryptionKeys, heraldClientDataConverter } from '../../contract/codec';
import { notificationWorkflowId } from '../../contract/ids';
import { setUpNpmStart, type NpmStartSetup } from '../support/npm-start';
import { until } from '../support/until';

jest.setTimeout(240_000);

const KEY = 'stack-trace-reminder-1';

let setup: NpmStartSetup;
let child: ChildProcess | undefined;
let connection: Connection | undefined;

async function startHerald(): Promise<void> {
  child = setup.start();
  await setup.waitReady();
}

async function stopHerald(): Promise<void> {
  const proc = child!;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  process.kill(-proc.pid!, 'SIGTERM');
  await exited;
  child = undefined;
}

/** The `__stack_trace` query, through a client that reads Herald's encrypted payloads as the Web UI's codec does. */
async function stackTrace(): Promise<string> {
  connection ??= await Connection.connect({ address: `127.0.0.1:${setup.env.HERALD_TEMPORAL_PORT}` });
  const codec = new AesGcmPayloadCodec(embeddedEncryptionKeys(setup.dataDir).keys);
  const client = new Client({ connection, dataConverter: heraldClientDataConverter(codec) });
  return client.workflow.getHandle(notificationWorkflowId(KEY)).query<string>('__stack_trace');
}

beforeAll(async () => {
  setup = await setUpNpmStart('stack-traces', 'stack-traces-api-key-0123456789', 'info');
});

afterAll(async () => {
  await connection?.close();
  await setup?.cleanup(child);
});

it('the stack trace of a running notification is refused by default and shown with HERALD_WORKFLOW_STACK_TRACES=true', async () => {
  await startHerald();
  expect((await setup.api('PUT', '/v1/users/stack-user', { phone: '+14155550123' })).status).toBe(201);
  expect((await setup.api('PUT', '/v1/templates/reminder', { channels: { sms: { body: 'later' } } })).status).toBe(201);
  const schedule = (key: string, sendAt: Date) =>
    setup.api(
      'POST',
      '/v1/notifications',
      { userId: 'stack-user', template: 'reminder', sendAt: sendAt.toISOString() },
      { 'idempotency-key': key },
    );
  const later = await schedule(KEY, new Date(Date.now() + 3_600_000));
  expect(later.status).toBe(202);
  // Without stack traces, workflows still wait and wake as before (timers, cancellation scopes): one due in seconds.
  const soon = await schedule('stack-trace-reminder-soon', new Date(Date.now() + 2_000));
  expect(soon.status).toBe(202);
  await until(
    'the notification due in seconds to be delivered',
    async () =>
      (await setup.api('GET', `/v1/notifications/${soon.body.id}`)).body.status === 'delivered' ? true : undefined,
    { timeoutMs: 60_000 },
  );

  // A query's failure reaches a client (and the Web UI) as its message only: readable, not "Encoded failure".
  await expect(stackTrace()).rejects.toThrow(
    "Workflow stack traces are not enabled on this worker: Herald's workers run without them unless HERALD_WORKFLOW_STACK_TRACES=true",
  );
  const started = setup
    .log()
    .split('\n')
    .find((line) => line.includes('"worker running"'));
  expect(JSON.parse(started!)).toMatchObject({ workflowStackTraces: false });
  expect(setup.log()).not.toContain('Failing workflow task');

  await stopHerald();
  setup.env.HERALD_WORKFLOW_STACK_TRACES = 'true';
  await startHerald();
  const stack = await stackTrace();
  // Where the workflow waits for its time: its own function, at its place in Herald's sources.
  expect(stack).toMatch(/at waitAndPlan \(\S*workflows\/send-notification\.workflow\.ts:\d+:\d+\)/);
  const restarted = setup
    .log()
    .split('\n')
    .filter((line) => line.includes('"worker running"'));
  expect(JSON.parse(restarted.at(-1)!)).toMatchObject({ workflowStackTraces: true });
  // The hour-ahead notification is still waiting for its time; only the other one was sent.
  expect(setup.twilio.requests).toHaveLength(1);
  expect((await setup.api('GET', `/v1/notifications/${later.body.id}`)).body.status).toBe('scheduled');
  expect(setup.log()).not.toContain('Failing workflow task');
});
