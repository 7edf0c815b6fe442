/**
 * /metrics moves with the work: API requests and latency, notifications by status, deliveries and provider latency by
 * channel and provider, and the Temporal SDK's worker metrics on the same page. With the worker stopped, the task
 * queue backlog (count and age, from Temporal's DescribeTaskQueue) shows in GET /v1/ops/queues and in the gauges,
 * and drains once a worker is back.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTestHerald, waitForNotification, type TestHerald } from '../support/herald';
import { startProviderFakes, type ProviderFakes } from '../support/provider-fakes';
import { createLocalTemporal } from '../support/temporal';
import { until } from '../support/until';

jest.setTimeout(180_000);

let temporal: TestWorkflowEnvironment;
let fakes: ProviderFakes;
let herald: TestHerald;

/** Prometheus text → `name{labels}` → value (label order as served). */
async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(`${herald.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** Sum of the samples of `name` whose labels include all of `labels`. */
function value(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, v] of samples) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    const text = brace < 0 ? '' : key.slice(brace);
    if (Object.entries(labels).every(([k, want]) => text.includes(`${k}="${want}"`))) total += v;
  }
  return total;
}

beforeAll(async () => {
  temporal = await createLocalTemporal();
  fakes = await startProviderFakes();
  herald = await startTestHerald({ env: fakes.env, temporal });
  await herald.api('PUT', '/v1/templates/ping', {
    channels: {
      push: { title: 'Ping', body: 'Ping {{ n }}' },
      sms: { body: 'Ping {{ n }}' },
      email: { subject: 'Ping', text: 'Ping' },
    },
  });
  await herald.api('PUT', '/v1/users/m1', { email: 'm1@example.com', phone: '+14155550111' });
  await herald.api('POST', '/v1/users/m1/devices', { platform: 'android', token: 'fcm-token-metrics-0001' });
});

afterAll(async () => {
  await herald?.stop();
  await fakes?.stop();
  await temporal?.teardown();
});

it('after a run, request, notification, delivery, provider and Temporal SDK metrics have moved', async () => {
  const before = await scrape();
  const sent = await herald.api('POST', '/v1/notifications', { userId: 'm1', template: 'ping', data: { n: 1 } });
  expect(sent.status).toBe(202);
  expect((await waitForNotification(herald, sent.body.id)).status).toBe('delivered');
  await herald.api('GET', `/v1/notifications/${sent.body.id}`);
  await herald.api('GET', '/v1/users/nobody');
  const after = await scrape();
  const moved = (name: string, labels: Record<string, string> = {}) =>
    value(after, name, labels) - value(before, name, labels);

  // API: by route pattern (never the raw path), method and status.
  const post = { method: 'POST', route: '/v1/notifications', status: '202' };
  expect(moved('herald_http_requests_total', post)).toBe(1);
  expect(moved('herald_http_request_duration_seconds_count', post)).toBe(1);
  expect(
    moved('herald_http_requests_total', { method: 'GET', route: '/v1/notifications/:id', status: '200' }),
  ).toBeGreaterThanOrEqual(2);
  expect(moved('herald_http_requests_total', { route: '/v1/users/:userId', status: '404' })).toBe(1);
  expect([...after.keys()].some((k) => k.includes(sent.body.id))).toBe(false);

  // Notifications through their statuses.
  expect(moved('herald_notifications_total', { status: 'accepted' })).toBe(1);
  expect(moved('herald_notifications_total', { status: 'sending' })).toBe(1);
  expect(moved('herald_notifications_total', { status: 'delivered' })).toBe(1);

  // Deliveries and provider calls, per channel and provider.
  for (const [channel, provider] of [
    ['push', 'fcm'],
    ['sms', 'twilio'],
    ['email', 'sendgrid'],
  ] as const) {
    expect(moved('herald_deliveries_total', { channel, provider, outcome: 'sent' })).toBe(1);
    expect(moved('herald_provider_requests_total', { channel, provider, result: 'ok' })).toBe(1);
    expect(moved('herald_provider_request_duration_seconds_count', { channel, provider, result: 'ok' })).toBe(1);
    expect(moved('herald_provider_request_duration_seconds_sum', { channel, provider })).toBeGreaterThan(0);
  }

  // The Temporal SDK's own worker metrics, on the same page.
  const taskQueue = { task_queue: herald.taskQueue };
  expect(moved('temporal_workflow_completed', { ...taskQueue, workflow_type: 'sendNotification' })).toBe(1);
  // Provider calls run on the channel's own task queue.
  const smsQueue = { task_queue: `${herald.taskQueue}-sms`, activity_type: 'sendChannel' };
  expect(moved('temporal_activity_execution_latency_count', smsQueue)).toBe(1);
  expect(value(after, 'temporal_worker_task_slots_available', taskQueue)).toBeGreaterThan(0);

  // Queue gauges are present (and empty: the worker keeps up).
  expect(after.has(`herald_task_queue_backlog_count{task_queue="${herald.taskQueue}",type="workflow"}`)).toBe(true);
  expect(value(after, 'herald_task_queue_pollers', { task_queue: herald.taskQueue, type: 'activity' })).toBeGreaterThan(
    0,
  );
  expect(after.has(`herald_task_queue_backlog_count{task_queue="${herald.taskQueue}-sms",type="activity"}`)).toBe(true);
});

it('with the worker stopped, the backlog and its age show in /v1/ops/queues and the gauges, and drain when it is back', async () => {
  await herald.stopWorker();
  const ids: string[] = [];
  for (let n = 0; n < 3; n++) {
    const response = await herald.api('POST', '/v1/notifications', { userId: 'm1', template: 'ping', data: { n } });
    expect(response.status).toBe(202);
    ids.push(response.body.id);
  }

  type Queue = { taskQueue: string; type: string; backlogCount: number; backlogAgeSeconds: number };
  const workflowQueue = async () => {
    const response = await herald.api('GET', '/v1/ops/queues');
    expect(response.status).toBe(200);
    return (response.body.taskQueues as Queue[]).find(
      (q) => q.taskQueue === herald.taskQueue && q.type === 'workflow',
    )!;
  };
  const backlog = await until('the backlog to show', async () => {
    const queue = await workflowQueue();
    return queue.backlogCount >= 3 && queue.backlogAgeSeconds > 0 ? queue : undefined;
  });
  expect(backlog.backlogCount).toBe(3);
  const gauges = await scrape();
  const labels = { task_queue: herald.taskQueue, type: 'workflow' };
  expect(value(gauges, 'herald_task_queue_backlog_count', labels)).toBe(3);
  expect(value(gauges, 'herald_task_queue_backlog_age_seconds', labels)).toBeGreaterThan(0);

  await herald.startWorker();
  for (const id of ids) expect((await waitForNotification(herald, id)).status).toBe('delivered');
  await until('the backlog to drain', async () => ((await workflowQueue()).backlogCount === 0 ? true : undefined));
});
