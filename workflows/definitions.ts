/**
 * The notification workflow's public surface: its input and the messages the API, the client SDK and tests send it.
 * Deterministic and dependency-free, so both sides of the wire can import it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export const NOTIFICATION_WORKFLOW = 'sendNotification';

export interface SendNotificationWorkflowInput {
  /** Herald's notification id: the workflow loads everything else from the database (no personal data here). */
  notificationId: string;
  /** ISO time to hold the notification until. */
  sendAt?: string;
}

export type NotificationPhase = 'waiting' | 'preparing' | 'sending' | 'done';

export interface CancelResult {
  canceled: boolean;
  phase: NotificationPhase;
}

/** Cancels a notification that has not started sending. Answered synchronously, so the API can tell the caller. */
export const cancelUpdate = defineUpdate<CancelResult>('cancel');
export const phaseQuery = defineQuery<NotificationPhase>('phase');

/**
 * The user's quiet hours or time zone changed: a notification held by quiet hours re-reads them. A signal, not an
 * update: the API fans it out to every waiting notification of the user and needs no answer.
 */
export const preferencesChangedSignal = defineSignal('preferencesChanged');
