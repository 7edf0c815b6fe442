import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type { Activities, PlannedDelivery } from '../activities';
import {
  cancelUpdate,
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

/**
 * Per channel: how long a message is still worth sending, and how hard to try. A push older than an hour is noise;
 * an SMS or an email is still useful for hours. Permanent failures are never retried.
 */
const channelRetry = (maximumInterval: Duration): RetryPolicy => ({
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval,
  nonRetryableErrorTypes: NON_RETRYABLE,
});
const push = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: channelRetry('5 minutes'),
});
const sms = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '6 hours',
  retry: channelRetry('15 minutes'),
});
const email = proxyActivities<Activities>({
  startToCloseTimeout: '60 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: channelRetry('30 minutes'),
});

const senders: Record<PlannedDelivery['channel'], (deliveryId: string) => Promise<unknown>> = {
  push: (id) => push.deliverPush(id),
  sms: (id) => sms.deliverSms(id),
  email: (id) => email.deliverEmail(id),
};

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
      if (delay <= 0 || canceled) break;
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

  if (canceled) {
    phase = 'done';
    await store.setNotificationStatus(input.notificationId, 'canceled');
    cancelRecorded = true;
    await condition(allHandlersFinished);
    return 'canceled';
  }

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
  phase = 'sending';
  await Promise.all(
    prepared.deliveries.map(async ({ deliveryId, channel }) => {
      try {
        await senders[channel](deliveryId);
      } catch (error) {
        await store.markDeliveryFailed(deliveryId, describe(error));
      }
    }),
  );
  const status =
    prepared.deliveries.length > 0 ? await store.finalizeNotification(input.notificationId) : prepared.status;
  phase = 'done';
  return status;
}
