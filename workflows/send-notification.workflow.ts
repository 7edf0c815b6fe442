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
  setHandler(phaseQuery, () => phase);
  setHandler(cancelUpdate, async () => {
    if (phase === 'waiting') canceled = true;
    // Answer once the database says canceled, so whoever asked can read it back at once.
    if (canceled) await condition(() => cancelRecorded);
    return { canceled, phase: canceled ? 'done' : phase };
  });

  if (input.sendAt) {
    const delay = Date.parse(input.sendAt) - Date.now();
    if (delay > 0) {
      await store.setNotificationStatus(input.notificationId, 'scheduled');
      await condition(() => canceled, delay);
    }
  }

  // Quiet hours: hold until the user's window ends, re-reading it whenever their preferences change.
  let preferencesChanged = false;
  setHandler(preferencesChangedSignal, () => {
    preferencesChanged = true;
  });
  while (!canceled) {
    preferencesChanged = false;
    const { releaseAt } = await store.checkQuietHours(input.notificationId, new Date(Date.now()).toISOString());
    if (!releaseAt) break;
    await store.setNotificationStatus(input.notificationId, 'scheduled', { until: releaseAt, reason: 'quiet_hours' });
    const wait = Date.parse(releaseAt) - Date.now();
    if (wait <= 0) break;
    await condition(() => canceled || preferencesChanged, wait);
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
