/**
 * The numbers behind docs/operations.md's sizing section, measured from a real run: notifications to a user with four
 * targets (an iOS and an Android device, a phone, an email address), through the real workflow on a real Temporal
 * server. Per notification: history events, Temporal Cloud-style actions (workflow start, activity attempts,
 * timers, local activities, updates) counted from the histories, and the server's own count of state transitions and
 * history bytes for each execution (DescribeWorkflowExecution: `state_transition_count`, `history_size_bytes`). The
 * user's throttle workflow is measured too: each notification asks it once, through an update.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal as proto } from '@temporalio/proto';
import { userThrottleWorkflowId } from '../../contract/ids';
import { startTestHerald, waitForNotification, type TestHerald } from '../support/herald';
import { startProviderFakes, type ProviderFakes } from '../support/provider-fakes';
import { createLocalTemporal } from '../support/temporal';

jest.setTimeout(240_000);

const NOTIFICATIONS = 20;
const EventType = proto.api.enums.v1.EventType;

let env: TestWorkflowEnvironment;
let fakes: ProviderFakes;
let herald: TestHerald;

beforeAll(async () => {
  env = await createLocalTemporal();
  fakes = await startProviderFakes();
  // A per-user limit on every channel, generous enough never to hold one of these back: production's shape, where each
  // notification asks the user's throttle workflow for its slot.
  const rules = ['push', 'sms', 'email'].map((channel) => ({ channel, limit: 1000, per: '1h' }));
  herald = await startTestHerald({
    env: { ...fakes.env, HERALD_THROTTLE_RULES: JSON.stringify(rules) },
    temporal: env,
  });
  await herald.api('PUT', '/v1/templates/order-shipped', {
    channels: {
      push: { title: 'Shipped', body: 'Order {{ order }} is on its way' },
      sms: { body: 'Order {{ order }} shipped' },
      email: { subject: 'Order {{ order }} shipped', html: '<p>On its way</p>', text: 'On its way' },
    },
  });
  await herald.api('PUT', '/v1/users/sizing', { email: 'sizing@example.com', phone: '+14155550142' });
  await herald.api('POST', '/v1/users/sizing/devices', { platform: 'ios', token: 'ab'.repeat(32) });
  await herald.api('POST', '/v1/users/sizing/devices', { platform: 'android', token: 'fcm-sizing-token-0001' });
});

afterAll(async () => {
  await herald?.stop();
  await fakes?.stop();
  await env?.teardown();
});

it(`measures events, actions and state transitions per notification with four targets (${NOTIFICATIONS} runs)`, async () => {
  const cpuBefore = process.cpuUsage();
  const ids: string[] = [];
  for (let n = 0; n < NOTIFICATIONS; n++) {
    const response = await herald.api('POST', '/v1/notifications', {
      userId: 'sizing',
      template: 'order-shipped',
      data: { order: `S-${n}` },
    });
    ids.push(response.body.id);
  }
  for (const id of ids) {
    const notification = await waitForNotification(herald, id);
    expect(notification.status).toBe('delivered');
    expect(notification.deliveries).toHaveLength(4);
  }
  const cpu = process.cpuUsage(cpuBefore);
  // Herald's own rows for these notifications, as PostgreSQL stores them (rendered content is dropped once sent).
  const [rows] = await herald.db.prisma.$queryRawUnsafe<
    { notifications: number; deliveries: number; events: number }[]
  >(
    `SELECT (SELECT sum(pg_column_size(n.*)) FROM notifications n WHERE n.id = ANY($1))::int AS notifications,
            (SELECT sum(pg_column_size(d.*)) FROM deliveries d WHERE d.notification_id = ANY($1))::int AS deliveries,
            (SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM tracking_events t WHERE t.notification_id = ANY($1))::int
              AS events`,
    ids,
  );
  let transitions = 0;
  let serverBytes = 0;
  let events = 0;
  let actions = 0;
  let workflowTasks = 0;
  let localActivityTasks = 0;
  const activityTypes = new Map<string, number>();
  for (const id of ids) {
    const row = await herald.db.prisma.notification.findUniqueOrThrow({ where: { id } });
    const handle = herald.client.workflow.getHandle(row.workflowId);
    const info = (await handle.describe()).raw.workflowExecutionInfo!;
    transitions += Number(info.stateTransitionCount);
    serverBytes += Number(info.historySizeBytes);
    const history = await handle.fetchHistory();
    // Temporal Cloud bills the local activities of one workflow task as one action: their markers follow the task's
    // Completed event, among the commands it produced.
    let markerCounted = false;
    for (const event of history.events ?? []) {
      events++;
      const type = event.eventType;
      if (type === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) markerCounted = false;
      if (type === EventType.EVENT_TYPE_MARKER_RECORDED && !markerCounted) {
        actions++;
        localActivityTasks++;
        markerCounted = true;
      }
      if (type === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) actions++;
      if (type === EventType.EVENT_TYPE_TIMER_STARTED) actions++;
      if (type === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) workflowTasks++;
      // Every attempt of an activity is an action; history keeps one Started event carrying the attempt number.
      if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
        actions += event.activityTaskStartedEventAttributes?.attempt ?? 1;
      const scheduled = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (scheduled) activityTypes.set(scheduled, (activityTypes.get(scheduled) ?? 0) + 1);
    }
  }
  // The user's throttle: one workflow for all twenty, asked once per notification (an update, an action each).
  const throttle = herald.client.workflow.getHandle(userThrottleWorkflowId('sizing'));
  const throttleInfo = (await throttle.describe()).raw.workflowExecutionInfo!;
  const throttleHistory = await throttle.fetchHistory();
  const throttleUpdates = (throttleHistory.events ?? []).filter(
    (event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  ).length;
  expect(throttleUpdates).toBe(NOTIFICATIONS);
  const per = (total: number) => Math.round((total / NOTIFICATIONS) * 10) / 10;
  const result = {
    notifications: NOTIFICATIONS,
    eventsPerNotification: per(events),
    actionsPerNotification: per(actions),
    workflowTasksPerNotification: per(workflowTasks),
    localActivityTasksPerNotification: per(localActivityTasks),
    stateTransitionsPerNotification: per(transitions),
    historyBytesPerNotification: Math.round(serverBytes / NOTIFICATIONS),
    // Table rows only (no indexes): the notification, its four deliveries and its tracking events (sent, ...).
    heraldRowBytesPerNotification: Math.round((rows!.notifications + rows!.deliveries + rows!.events) / NOTIFICATIONS),
    // API + worker + provider fakes in this process: an upper bound for Herald's own CPU per notification.
    cpuMillisecondsPerNotification: Math.round((cpu.user + cpu.system) / 1000 / NOTIFICATIONS),
    activitiesPerNotification: Object.fromEntries([...activityTypes].map(([name, count]) => [name, per(count)])),
    throttle: {
      eventsPerNotification: per(throttleHistory.events?.length ?? 0),
      stateTransitionsPerNotification: per(Number(throttleInfo.stateTransitionCount)),
      workflowTasksPerNotification: per(
        (throttleHistory.events ?? []).filter(
          (event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        ).length,
      ),
      historyBytesPerNotification: Math.round(Number(throttleInfo.historySizeBytes) / NOTIFICATIONS),
      // The update (one per notification) and the throttle workflow's start (once per user per quiet period).
      actionsPerNotification: per(throttleUpdates + 1),
    },
  };
  console.log(`sizing: ${JSON.stringify(result, null, 2)}`);

  // One workflow start, one action per activity (nothing retried, no timer): the throttle's request and one provider
  // activity per channel (both push devices in one), and one per workflow task that ran local activities — the plan
  // (with the first task). The channel that records the last answer also writes the final status, so no record step
  // runs after the answers (only when a record could not be written).
  const activities = Object.values(result.activitiesPerNotification).reduce((a, b) => a + b, 0);
  expect(result.activitiesPerNotification).toEqual({ requestThrottle: 1, sendChannel: 3 });
  expect(result.localActivityTasksPerNotification).toBe(1);
  expect(result.actionsPerNotification).toBe(1 + activities + result.localActivityTasksPerNotification);
  expect(result.eventsPerNotification).toBeGreaterThan(15);
  expect(result.eventsPerNotification).toBeLessThan(60);
  expect(result.stateTransitionsPerNotification).toBeGreaterThan(5);
  expect(result.stateTransitionsPerNotification).toBeLessThan(result.eventsPerNotification);
});
