/**
 * The notification workflow's public surface: its input and the messages the API, the client SDK and tests send it.
 * Deterministic and dependency-free, so both sides of the wire can import it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Channel } from '../channels';
import type { NotificationStatus, SendNotificationInput } from '../schemas';

export const NOTIFICATION_WORKFLOW = 'sendNotification';

export interface SendNotificationWorkflowInput {
  /** Herald's notification id: the workflow loads everything else from the database (no personal data here). */
  notificationId: string;
  /** ISO time to hold the notification until. */
  sendAt?: string;
  /** If the notification is not opened within `afterMinutes`, send it on `channel` too (see docs/delivery-control.md). */
  escalation?: Escalation;
  /** Set on a re-drive run (n ≥ 1): deliver the notification's failed targets again, nothing else. */
  redrive?: number;
}

export interface Escalation {
  afterMinutes: number;
  channel: Channel;
}

/**
 * The user opened the notification (POST /v1/notifications/{id}/opened today; the tracking events endpoint can send
 * the same signal). A notification waiting to escalate stops waiting.
 */
export const notificationOpenedSignal = defineSignal('notificationOpened');

/** The task queue a channel's provider calls run on: one per channel, each with its own server-enforced rate. */
export function channelTaskQueue(baseTaskQueue: string, channel: Channel): string {
  return `${baseTaskQueue}-${channel}`;
}

export type NotificationPhase = 'waiting' | 'preparing' | 'sending' | 'done';

export interface CancelResult {
  canceled: boolean;
  phase: NotificationPhase;
}

/**
 * Cancels a notification that has not started sending. Answered once the cancellation is recorded, so the caller (the
 * API, or the client SDK without a database) can tell its own caller, and a read right after sees it.
 */
export const cancelUpdate = defineUpdate<CancelResult>('cancel');
export const phaseQuery = defineQuery<NotificationPhase>('phase');

/**
 * The user's quiet hours or time zone changed: a notification held by quiet hours re-reads them. A signal, not an
 * update: the API fans it out to every waiting notification of the user and needs no answer.
 */
export const preferencesChangedSignal = defineSignal('preferencesChanged');

/**
 * The intake: a short workflow that accepts a notification for a client that cannot write Herald's database (the
 * client SDK over Temporal). It runs the API's own accept use case on a worker: record the row, then start the
 * notification workflow, and answers with the outcome, so an unknown user or template is an answer and not a burned
 * key. One intake per key at a time (USE_EXISTING); a later one finds the accepted notification and changes nothing.
 */
export const NOTIFICATION_INTAKE_WORKFLOW = 'notificationIntake';

export interface NotificationIntakeInput {
  idempotencyKey: string;
  /** The request as the API takes it. Its `data` (template variables) is in this workflow's history: see docs. */
  notification: SendNotificationInput;
}

export type NotificationIntakeResult =
  | { accepted: true; id: string; status: NotificationStatus; replayed: boolean }
  /** Refused like the API refuses: `code` is the API's error code (user_not_found, template_not_found, ...). */
  | { accepted: false; code: string; message: string; details?: unknown };

export interface RescheduleResult {
  /** The time the notification now waits for (ISO). */
  sendAt: string;
}

/**
 * Moves a notification that is still waiting to a new send time (earlier, later, or in the past to send it now).
 * Rejected — nothing written to history — once it has started sending or was canceled.
 */
export const rescheduleUpdate = defineUpdate<RescheduleResult, [string]>('reschedule');
