import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  TemporalFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, DeliveryPolicy, NotificationPlan, PlannedDelivery, TargetOutcome } from '../activities';
import {
  cancelUpdate,
  channelTaskQueue,
  notificationOpenedSignal,
  phaseQuery,
  preferencesChangedSignal,
  rescheduleUpdate,
  type NotificationPhase,
  type SendNotificationWorkflowInput,
} from '../contract/workflows/notification.definitions';
import { NON_RETRYABLE, NON_RETRYABLE_TYPES } from '../contract/failures';

/**
 * Herald's database steps run as local activities, inside the workflow's own task: planning, recording answers and
 * statuses cost no round trip through the server and no extra history events. Retried until the database is back
 * (nothing accepted is lost), except for permanent errors.
 */
const store = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
});

/**
 * The user's throttle is another workflow (an update-with-start): asked from an ordinary activity, whose answer
 * arrives in a later workflow task, so a slot granted "now" is not in this task's future. Only when a rule applies.
 */
const throttle = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
  },
});

type Sender = (deliveryIds: string[]) => Promise<TargetOutcome[]>;

/**
 * Provider calls run on their channel's task queue, where the server enforces the channel's rate; each channel retries
 * by its configured policy. Permanent failures are never retried.
 */
function channelSenders(policy: DeliveryPolicy): Record<PlannedDelivery['channel'], Sender> {
  const proxy = (channel: PlannedDelivery['channel']): Sender => {
    const p = policy.channels[channel];
    const { sendChannel } = proxyActivities<Activities>({
      taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
      startToCloseTimeout: p.startToCloseMs,
      ...(p.scheduleToCloseMs ? { scheduleToCloseTimeout: p.scheduleToCloseMs } : {}),
      retry: {
        initialInterval: p.retry.initialInterval,
        backoffCoefficient: p.retry.backoffCoefficient,
        ...(p.retry.maximumInterval ? { maximumInterval: p.retry.maximumInterval } : {}),
        // 0 in configuration: no attempt limit (the schedule-to-close timeout bounds the retries).
        ...(p.retry.maximumAttempts > 0 ? { maximumAttempts: p.retry.maximumAttempts } : {}),
        nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
      },
    });
    return (deliveryIds) => sendChannel({ channel, deliveryIds });
  };
  // Made when a channel is sent on (making one issues no command): a policy recorded before a channel existed (the
  // plan of a notification that was waiting when `inbox` was added) has no entry for it, and needs none.
  const lazy =
    (channel: PlannedDelivery['channel']): Sender =>
    (deliveryIds) =>
      proxy(channel)(deliveryIds);
  return { push: lazy('push'), sms: lazy('sms'), email: lazy('email'), inbox: lazy('inbox') };
}

/** A dead target or a broken template is not the provider's fault: another provider would fail the same way. */
const NO_FAILOVER: string[] = [NON_RETRYABLE.InvalidRecipient, NON_RETRYABLE.TemplateError, NON_RETRYABLE.NotFound];

function failureOf(error: unknown): { errorType: string; message: string } {
  let cause = error instanceof ActivityFailure ? error.cause : error;
  // A retry policy ended by its schedule-to-close timeout: the provider's last answer is the timeout's cause.
  while (cause instanceof TemporalFailure && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) {
    return {
      errorType: cause.type ?? 'Error',
      message: `${cause.type ?? 'Error'}: ${cause.message}`,
    };
  }
  return {
    errorType: 'Error',
    message: cause instanceof Error ? cause.message : String(cause),
  };
}

/**
 * One channel's targets: sent together; targets answered are done, the others go again (a retry never repeats an
 * answered target). When the primary provider has failed past its policy (or refused the request), the targets
 * that can move go to the channel's secondary, once.
 */
async function deliverChannel(send: Sender, planned: PlannedDelivery[], canFailOver = true): Promise<TargetOutcome[]> {
  const outcomes: TargetOutcome[] = [];
  let remaining = planned.map((d) => d.deliveryId);
  while (remaining.length > 0) {
    let answers: TargetOutcome[];
    try {
      answers = await send(remaining);
    } catch (error) {
      // The retry policy gave up on every target still waiting.
      const { errorType, message } = failureOf(error);
      answers = remaining.map((deliveryId) => ({
        deliveryId,
        outcome: 'failed' as const,
        errorType,
        message,
        at: Date.now(),
        recorded: false,
      }));
    }
    outcomes.push(...answers.filter((a) => a.outcome !== 'retry'));
    const again = new Set(answers.filter((a) => a.outcome === 'retry').map((a) => a.deliveryId));
    remaining = remaining.filter((id) => again.has(id));
  }
  if (!canFailOver) return outcomes;

  const movable = planned.filter((d) =>
    outcomes.some(
      (o) =>
        o.deliveryId === d.deliveryId && o.outcome === 'failed' && !o.recorded && !NO_FAILOVER.includes(o.errorType),
    ),
  );
  if (movable.length === 0) return outcomes;
  const moved = (
    await Promise.all(
      movable.map(async (d) => (d.provider && (await store.failoverDelivery(d.deliveryId, d.provider)) ? [d] : [])),
    )
  ).flat();
  if (moved.length === 0) return outcomes;
  const movedIds = new Set(moved.map((d) => d.deliveryId));
  const secondary = await deliverChannel(send, moved, false);
  return [...outcomes.filter((o) => !movedIds.has(o.deliveryId)), ...secondary];
}

/**
 * The final status a channel activity already wrote along with the last recorded answer, when every answer is
 * recorded: then there is nothing for recordDeliveries to do. (Histories from before carry no `final`: they record.)
 */
function finishedByChannels(outcomes: TargetOutcome[]): Extract<TargetOutcome, { outcome: 'sent' }>['final'] {
  if (!outcomes.every((o) => o.outcome === 'skipped' || (o.outcome !== 'retry' && o.recorded))) return undefined;
  for (const o of outcomes) if ((o.outcome === 'sent' || o.outcome === 'failed') && o.final) return o.final;
  return undefined;
}

/** Every channel at once, each after its throttle slot (if any). */
async function deliverAll(
  policy: DeliveryPolicy,
  deliveries: PlannedDelivery[],
  slot: Partial<Record<PlannedDelivery['channel'], number>> = {},
): Promise<TargetOutcome[]> {
  const senders = channelSenders(policy);
  const channels = [...new Set(deliveries.map((d) => d.channel))];
  const answers = await Promise.all(
    channels.map(async (channel) => {
      const wait = (slot[channel] ?? 0) - Date.now();
      if (wait > 0) await sleep(wait);
      return deliverChannel(
        senders[channel],
        deliveries.filter((d) => d.channel === channel),
      );
    }),
  );
  return answers.flat();
}

/** What the handlers and the steps of one notification share. */
interface NotificationState {
  phase: NotificationPhase;
  canceled: boolean;
  cancelRecorded: boolean;
  sendAt?: string;
  /** How many times `reschedule` moved the send time. */
  moves: number;
  opened: boolean;
  preferencesChanged: boolean;
}

type Planned = Extract<NotificationPlan, { kind: 'planned' }>;

/** One notification: wait for its time, prepare, deliver to every target in parallel, record the outcome. */
export async function sendNotification(input: SendNotificationWorkflowInput): Promise<string> {
  const id = input.notificationId;
  const state = answerMessages(input);
  if (input.redrive) return redrive(state, id, input.redrive);

  const plan = await waitAndPlan(state, input);
  if (plan === 'failed') return 'failed';
  if (plan === 'canceled') return cancel(state, id);

  const throttled = await throttleChannels(state, id, plan);
  if (throttled === 'canceled') return cancel(state, id);

  state.phase = 'sending';
  const outcomes = await deliverAll(plan.policy, throttled.deliveries, throttled.slot);
  // The answers are in this history now; recording them (and the final status) is retried until the database is back.
  // (unless the channel that recorded the last answer also wrote the final status: see finishedByChannels).
  const status =
    plan.deliveries.length > 0
      ? (finishedByChannels(outcomes) ?? (await store.recordDeliveries(id, outcomes)))
      : plan.status;
  const final = await escalate(state, input, plan, status);
  state.phase = 'done';
  return final;
}

/** The queries, signals and updates a notification answers: its phase, the open, cancel and reschedule. */
function answerMessages(input: SendNotificationWorkflowInput): NotificationState {
  const state: NotificationState = {
    phase: 'waiting',
    canceled: false,
    cancelRecorded: false,
    sendAt: input.sendAt,
    moves: 0,
    opened: false,
    preferencesChanged: false,
  };
  setHandler(phaseQuery, () => state.phase);
  setHandler(notificationOpenedSignal, () => {
    state.opened = true;
  });
  setHandler(cancelUpdate, async () => {
    if (state.phase === 'waiting') state.canceled = true;
    // Answer once the database says canceled, so whoever asked can read it back at once.
    if (state.canceled) await condition(() => state.cancelRecorded);
    return {
      canceled: state.canceled,
      phase: state.canceled ? 'done' : state.phase,
    };
  });
  setHandler(
    rescheduleUpdate,
    (to) => {
      state.sendAt = new Date(to).toISOString();
      state.moves++;
      return { sendAt: state.sendAt };
    },
    {
      validator: (to) => {
        if (state.phase !== 'waiting' || state.canceled) {
          throw ApplicationFailure.nonRetryable(`notification is ${state.phase}`);
        }
        if (typeof to !== 'string' || Number.isNaN(Date.parse(to))) {
          throw ApplicationFailure.nonRetryable('sendAt must be an ISO time');
        }
      },
    },
  );
  return state;
}

/** A re-drive: only the targets that failed, through the same delivery path; nothing else runs again. */
async function redrive(state: NotificationState, id: string, redrive: number): Promise<string> {
  state.phase = 'sending';
  const begun = await store.beginRedrive(id, redrive);
  if (!begun.started) {
    state.phase = 'done';
    return 'not_redriven';
  }
  const outcomes = await deliverAll(begun.policy, begun.deliveries);
  const status = await store.recordDeliveries(id, outcomes);
  state.phase = 'done';
  return status;
}

/**
 * Waits for the send time, then for the end of quiet hours, and plans the deliveries. A move restarts the send-time
 * timer (also while held by quiet hours). Without a move the commands are exactly those this workflow issued before
 * `reschedule` existed, so notifications already waiting replay.
 */
async function waitAndPlan(
  state: NotificationState,
  input: SendNotificationWorkflowInput,
): Promise<Planned | 'failed' | 'canceled'> {
  // Quiet hours are re-read whenever the user's preferences change.
  const listenForPreferences = () =>
    setHandler(preferencesChangedSignal, () => {
      state.preferencesChanged = true;
    });

  let plan: Planned | undefined;
  for (;;) {
    let markedScheduled = false;
    for (;;) {
      const delay = state.sendAt ? Date.parse(state.sendAt) - Date.now() : 0;
      if (delay <= 0) break;
      // As before `reschedule`: the status is written even when a cancel arrived with the start, then the wait ends.
      if (state.canceled && markedScheduled) break;
      const seen = state.moves;
      if (!markedScheduled) {
        markedScheduled = true;
        await store.setNotificationStatus(input.notificationId, 'scheduled');
      }
      await condition(() => state.canceled || state.moves !== seen, delay);
    }

    // Quiet hours, then the plan, in one local activity: held, it waits (and re-reads the user's window when their
    // preferences change); not held, the deliveries are recorded and the notification is sending.
    listenForPreferences();
    const seen = state.moves;
    while (!state.canceled && state.moves === seen) {
      state.preferencesChanged = false;
      state.phase = 'preparing';
      try {
        const next = await store.planNotification(input.notificationId, new Date(Date.now()).toISOString());
        if (next.kind === 'planned') {
          plan = next;
          break;
        }
        state.phase = 'waiting';
        const wait = Math.max(Date.parse(next.releaseAt) - Date.now(), 1_000);
        await condition(() => state.canceled || state.preferencesChanged || state.moves !== seen, wait);
      } catch (error) {
        // Permanent (unknown template, missing variable, user gone): the activity has recorded why; nothing to send.
        state.phase = 'done';
        const cause = error instanceof ActivityFailure ? error.cause : error;
        if (
          cause instanceof ApplicationFailure &&
          (cause.nonRetryable || NON_RETRYABLE_TYPES.includes(cause.type ?? ''))
        ) {
          return 'failed';
        }
        throw error;
      }
    }
    if (state.canceled || plan || state.moves === seen) break;
  }
  if (state.canceled) return 'canceled';
  if (!plan) throw ApplicationFailure.nonRetryable('no plan after waiting');
  return plan;
}

/** Canceled before sending: recorded, then the update that asked is answered. */
async function cancel(state: NotificationState, id: string): Promise<string> {
  state.phase = 'done';
  await store.setNotificationStatus(id, 'canceled');
  state.cancelRecorded = true;
  await condition(allHandlersFinished);
  return 'canceled';
}

/** The user's throttle, per channel actually being sent: each channel gets a slot (now or later) or is dropped. */
async function throttleChannels(
  state: NotificationState,
  id: string,
  plan: Planned,
): Promise<
  | {
      deliveries: PlannedDelivery[];
      slot: Partial<Record<PlannedDelivery['channel'], number>>;
    }
  | 'canceled'
> {
  let deliveries = plan.deliveries;
  const slot: Partial<Record<PlannedDelivery['channel'], number>> = {};
  if (deliveries.length > 0 && plan.throttle) {
    const channels = [...new Set(deliveries.map((d) => d.channel))];
    const { grants } = await throttle.requestThrottle(id, channels);
    for (const grant of grants) {
      if (grant.decision === 'drop') {
        await store.dropDeliveries(id, grant.channel, grant.reason);
        deliveries = deliveries.filter((d) => d.channel !== grant.channel);
      } else {
        slot[grant.channel] = Date.parse(grant.at);
      }
    }
    const earliest = Math.min(...deliveries.map((d) => slot[d.channel] ?? 0));
    if (deliveries.length > 0 && earliest > Date.now()) {
      // Everything waits for the throttle: the notification is scheduled again, and can still be canceled.
      state.phase = 'waiting';
      await store.setNotificationStatus(id, 'scheduled', {
        until: new Date(earliest).toISOString(),
        reason: 'throttled',
      });
      await condition(() => state.canceled, earliest - Date.now());
      if (state.canceled) return 'canceled';
      await store.setNotificationStatus(id, 'sending');
    }
  }

  return { deliveries, slot };
}

/** Escalation: a durable wait for the open; if it does not come in time, the notification goes out on one more channel. */
async function escalate(
  state: NotificationState,
  input: SendNotificationWorkflowInput,
  plan: Planned,
  status: string,
): Promise<string> {
  const escalation = input.escalation;
  if (!escalation || !(status === 'delivered' || status === 'partially_delivered' || status === 'failed')) {
    return status;
  }
  const openedInTime = await condition(() => state.opened, escalation.afterMinutes * 60_000);
  if (openedInTime || (await store.isOpened(input.notificationId))) return status;
  const planned = await store.planEscalation(input.notificationId, escalation.channel);
  if (planned.length === 0) return status;
  const answers = await deliverChannel(channelSenders(plan.policy)[escalation.channel], planned);
  return store.recordDeliveries(input.notificationId, answers);
}
