import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, PlannedDelivery } from '../activities';
import type { DeliveryPolicy } from '../activities/delivery-control.activities';
import {
  cancelUpdate,
  channelTaskQueue,
  notificationOpenedSignal,
  phaseQuery,
  preferencesChangedSignal,
  rescheduleUpdate,
  type NotificationPhase,
  type SendNotificationWorkflowInput,
} from './definitions';

const NON_RETRYABLE = ['InvalidRecipient', 'InvalidRequest', 'TemplateError', 'NotFound'];

/** Database steps: retried until the database is back (nothing accepted is lost), except for permanent errors. */
const store = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** This worker's retry policies and timeouts per channel (configuration), recorded in history by a local activity. */
const config = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });

type Sender = (deliveryId: string) => Promise<unknown>;

/**
 * Provider calls run on their channel's task queue, where the server enforces the channel's rate; each channel retries
 * by its configured policy. Permanent failures are never retried.
 */
function channelSenders(policy: DeliveryPolicy): Record<PlannedDelivery['channel'], Sender> {
  const proxy = (channel: PlannedDelivery['channel']) => {
    const p = policy.channels[channel];
    return proxyActivities<Activities>({
      taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
      startToCloseTimeout: p.startToCloseMs,
      ...(p.scheduleToCloseMs ? { scheduleToCloseTimeout: p.scheduleToCloseMs } : {}),
      retry: {
        initialInterval: p.retry.initialInterval,
        backoffCoefficient: p.retry.backoffCoefficient,
        ...(p.retry.maximumInterval ? { maximumInterval: p.retry.maximumInterval } : {}),
        // 0 in configuration: no attempt limit (the schedule-to-close timeout bounds the retries).
        ...(p.retry.maximumAttempts > 0 ? { maximumAttempts: p.retry.maximumAttempts } : {}),
        nonRetryableErrorTypes: NON_RETRYABLE,
      },
    });
  };
  const push = proxy('push');
  const sms = proxy('sms');
  const email = proxy('email');
  return {
    push: (id) => push.deliverPush(id),
    sms: (id) => sms.deliverSms(id),
    email: (id) => email.deliverEmail(id),
  };
}

/** A dead target or a broken template is not the provider's fault: another provider would fail the same way. */
function failsOver(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return !(
    cause instanceof ApplicationFailure && ['InvalidRecipient', 'TemplateError', 'NotFound'].includes(cause.type ?? '')
  );
}

function describe(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}

/** One notification: wait for its time, prepare, deliver to every target in parallel, record the outcome. */
export async function sendNotification(input: SendNotificationWorkflowInput): Promise<string> {
  let phase: NotificationPhase = 'waiting';
  let canceled = false;
  let cancelRecorded = false;
  let sendAt = input.sendAt;
  let moves = 0;
  setHandler(phaseQuery, () => phase);
  let opened = false;
  setHandler(notificationOpenedSignal, () => {
    opened = true;
  });
  setHandler(cancelUpdate, async () => {
    if (phase === 'waiting') canceled = true;
    // Answer once the database says canceled, so whoever asked can read it back at once.
    if (canceled) await condition(() => cancelRecorded);
    return { canceled, phase: canceled ? 'done' : phase };
  });
  setHandler(
    rescheduleUpdate,
    (to) => {
      sendAt = new Date(to).toISOString();
      moves++;
      return { sendAt };
    },
    {
      validator: (to) => {
        if (phase !== 'waiting' || canceled) throw ApplicationFailure.nonRetryable(`notification is ${phase}`);
        if (typeof to !== 'string' || Number.isNaN(Date.parse(to))) {
          throw ApplicationFailure.nonRetryable('sendAt must be an ISO time');
        }
      },
    },
  );

  const policy = await config.deliveryPolicy();
  const senders = channelSenders(policy);
  /** Primary first; when it has failed past its policy (or permanently, for a reason of its own), the secondary. */
  const deliverOne = async ({ deliveryId, channel, provider }: PlannedDelivery) => {
    try {
      await senders[channel](deliveryId);
    } catch (error) {
      let last = error;
      if (provider && failsOver(error) && (await store.failoverDelivery(deliveryId, provider))) {
        try {
          await senders[channel](deliveryId);
          return;
        } catch (secondary) {
          last = secondary;
        }
      }
      await store.markDeliveryFailed(deliveryId, describe(last));
    }
  };

  if (input.redrive) {
    // A re-drive: only the targets that failed, through the same delivery path; nothing else runs again.
    phase = 'sending';
    const begun = await store.beginRedrive(input.notificationId, input.redrive);
    if (!begun.started) {
      phase = 'done';
      return 'not_redriven';
    }
    await Promise.all(begun.deliveries.map(deliverOne));
    const status = await store.finalizeNotification(input.notificationId);
    phase = 'done';
    return status;
  }

  // Quiet hours are re-read whenever the user's preferences change.
  let preferencesChanged = false;
  const listenForPreferences = () =>
    setHandler(preferencesChangedSignal, () => {
      preferencesChanged = true;
    });

  // Wait for the send time, then for the end of quiet hours. A move restarts the send-time timer (also while held by
  // quiet hours). Without a move the commands are exactly those this workflow issued before `reschedule` existed,
  // so notifications already waiting replay.
  for (;;) {
    let markedScheduled = false;
    for (;;) {
      const delay = sendAt ? Date.parse(sendAt) - Date.now() : 0;
      if (delay <= 0) break;
      // As before `reschedule`: the status is written even when a cancel arrived with the start, then the wait ends.
      if (canceled && markedScheduled) break;
      const seen = moves;
      if (!markedScheduled) {
        markedScheduled = true;
        await store.setNotificationStatus(input.notificationId, 'scheduled');
      }
      await condition(() => canceled || moves !== seen, delay);
    }

    listenForPreferences();
    const seen = moves;
    while (!canceled && moves === seen) {
      preferencesChanged = false;
      const { releaseAt } = await store.checkQuietHours(input.notificationId, new Date(Date.now()).toISOString());
      if (!releaseAt) break;
      await store.setNotificationStatus(input.notificationId, 'scheduled', {
        until: releaseAt,
        reason: 'quiet_hours',
      });
      const wait = Date.parse(releaseAt) - Date.now();
      if (wait <= 0) break;
      await condition(() => canceled || preferencesChanged || moves !== seen, wait);
    }
    if (canceled || moves === seen) break;
  }

  const cancel = async () => {
    phase = 'done';
    await store.setNotificationStatus(input.notificationId, 'canceled');
    cancelRecorded = true;
    await condition(allHandlersFinished);
    return 'canceled';
  };
  if (canceled) return cancel();

  phase = 'preparing';
  let prepared;
  try {
    prepared = await store.prepareNotification(input.notificationId);
  } catch (error) {
    // Permanent (unknown template, missing variable, user gone): the activity has recorded why; nothing to send.
    phase = 'done';
    if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.nonRetryable) {
      return 'failed';
    }
    throw error;
  }

  // The user's throttle, per channel actually being sent: each channel gets a slot (now or later) or is dropped.
  let deliveries = prepared.deliveries;
  const slot: Partial<Record<PlannedDelivery['channel'], number>> = {};
  if (deliveries.length > 0) {
    const channels = [...new Set(deliveries.map((d) => d.channel))];
    const { grants } = await store.requestThrottle(input.notificationId, channels);
    for (const grant of grants) {
      if (grant.decision === 'drop') {
        await store.dropDeliveries(input.notificationId, grant.channel, grant.reason);
        deliveries = deliveries.filter((d) => d.channel !== grant.channel);
      } else {
        slot[grant.channel] = Date.parse(grant.at);
      }
    }
    const earliest = Math.min(...deliveries.map((d) => slot[d.channel] ?? 0));
    if (deliveries.length > 0 && earliest > Date.now()) {
      // Everything waits for the throttle: the notification is scheduled again, and can still be canceled.
      phase = 'waiting';
      await store.setNotificationStatus(input.notificationId, 'scheduled', {
        until: new Date(earliest).toISOString(),
        reason: 'throttled',
      });
      await condition(() => canceled, earliest - Date.now());
      if (canceled) return cancel();
      await store.setNotificationStatus(input.notificationId, 'sending');
    }
  }

  phase = 'sending';
  await Promise.all(
    deliveries.map(async (planned) => {
      const wait = (slot[planned.channel] ?? 0) - Date.now();
      if (wait > 0) await sleep(wait);
      await deliverOne(planned);
    }),
  );
  let status =
    prepared.deliveries.length > 0 ? await store.finalizeNotification(input.notificationId) : prepared.status;

  // Escalation: a durable wait for the open; if it does not come in time, the notification goes out on one more channel.
  const escalation = input.escalation;
  if (escalation && (status === 'delivered' || status === 'partially_delivered' || status === 'failed')) {
    const openedInTime = await condition(() => opened, escalation.afterMinutes * 60_000);
    if (!openedInTime && !(await store.isOpened(input.notificationId))) {
      const planned = await store.prepareEscalation(input.notificationId, escalation.channel);
      if (planned) {
        await deliverOne(planned);
        status = await store.finalizeNotification(input.notificationId);
      }
    }
  }
  phase = 'done';
  return status;
}
