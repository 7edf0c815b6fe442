import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Sql } from '../../platform/sql';
import {
  acceptNotification,
  NotificationRejectedError,
  WorkflowStartError,
} from '../../domain/notifications/accept-notification';
import type { Prisma, Db } from '../../platform/db';
import { newEventKey } from '../../contract/ids';
import { finishNotification } from '../../domain/notifications/notification-outcome';
import {
  TERMINAL_STATUSES,
  type NotificationStatus,
  type NotificationSummary,
  type NotificationView,
  type SendNotificationInput,
  type TrackingEventView,
} from '../../contract/schemas';
import {
  cancelUpdate,
  preferencesChangedSignal,
  rescheduleUpdate,
} from '../../contract/workflows/notification.definitions';
import { HttpError, notFound } from '../errors';
import type { Channel } from '../../contract/channels';
import { removeFromDigest } from './digest-cancel';

type NotificationRow = Prisma.NotificationGetPayload<{ include: { deliveries: true } }>;
type TrackingEventRow = Prisma.TrackingEventGetPayload<object>;

export const toTrackingEventView = (e: TrackingEventRow): TrackingEventView => ({
  id: e.id,
  type: e.type as TrackingEventView['type'],
  channel: e.channel as TrackingEventView['channel'],
  deliveryId: e.deliveryId,
  source: e.source,
  at: e.at.toISOString(),
  counted: e.counted,
  metadata: (e.metadata ?? null) as Record<string, unknown> | null,
});

/** A notification without its timeline, as list pages show it. */
export function toNotificationSummary(row: NotificationRow): NotificationSummary {
  return {
    id: row.id,
    userId: row.userId,
    template: row.templateId,
    templateVersion: row.templateVersion,
    category: row.category,
    status: row.status as NotificationStatus,
    eventId: row.idempotencyKey,
    sendAt: row.sendAt?.toISOString() ?? null,
    heldUntil: row.heldUntil?.toISOString() ?? null,
    holdReason: row.holdReason,
    ...(row.error ? { error: row.error } : {}),
    ...(row.campaignRunId ? { campaignRunId: row.campaignRunId } : {}),
    ...(row.digestId ? { digestId: row.digestId } : {}),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    deliveries: [...row.deliveries]
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .map((d) => ({
        id: d.id,
        channel: d.channel as Channel,
        provider: d.provider,
        target: d.target,
        status: d.status as 'pending' | 'sent' | 'failed' | 'skipped',
        attempts: d.attempts,
        ...(d.providerMessageId ? { providerMessageId: d.providerMessageId } : {}),
        ...(d.error ? { error: d.error } : {}),
        at: (d.sentAt ?? d.updatedAt).toISOString(),
      })),
  };
}

/** A notification with its timeline of tracking events (GET /v1/notifications/{id}). */
export function toNotificationView(row: NotificationRow, events: TrackingEventRow[]): NotificationView {
  return { ...toNotificationSummary(row), events: events.map(toTrackingEventView) };
}

export interface NotificationServiceDeps {
  db: Db;
  sql: Sql;
  temporal: Client;
  taskQueue: string;
}

export function createNotificationService({ db, sql, temporal, taskQueue }: NotificationServiceDeps) {
  return {
    /** Accepts a notification: 202 only once its workflow has durably started. The same key is the same notification. */
    async send(
      input: SendNotificationInput,
      headerKey?: string,
    ): Promise<{ id: string; status: NotificationStatus; replayed: boolean }> {
      if (input.eventId && headerKey && input.eventId !== headerKey) {
        throw new HttpError(400, 'idempotency_key_mismatch', 'Idempotency-Key header and eventId differ');
      }
      const key = input.eventId ?? headerKey ?? newEventKey();
      try {
        return await acceptNotification({ sql, temporal, taskQueue }, key, input);
      } catch (error) {
        if (error instanceof NotificationRejectedError) throw notFound(error.resource, error.id);
        if (error instanceof WorkflowStartError) throw new HttpError(503, 'temporal_unavailable', error.message);
        throw error;
      }
    },

    async get(id: string): Promise<NotificationView> {
      const row = await db.notification.findUnique({ where: { id }, include: { deliveries: true } });
      if (!row) throw notFound('notification', id);
      // The timeline: every tracking event, oldest first (capped: a message opened a thousand times needs no more).
      const events = await db.trackingEvent.findMany({
        where: { notificationId: id },
        orderBy: [{ at: 'asc' }, { id: 'asc' }],
        take: 500,
      });
      return toNotificationView(row, events);
    },

    /** Cancels a notification that has not started sending; 409 once it has. */
    async cancel(id: string): Promise<NotificationView> {
      const row = await db.notification.findUnique({ where: { id } });
      if (!row) throw notFound('notification', id);
      if (row.status === 'canceled') return this.get(id);
      if (TERMINAL_STATUSES.includes(row.status as NotificationStatus) || row.status === 'sending') {
        throw new HttpError(409, 'not_cancelable', `notification is already ${row.status}`);
      }
      // Waiting in an open digest: its digest workflow takes it out of the batch (docs/digests.md).
      if (row.status === 'batched') {
        const removed = await removeFromDigest(temporal, row.workflowId, id);
        if (!removed) {
          const now = await db.notification.findUniqueOrThrow({ where: { id }, select: { status: true } });
          if (now.status !== 'canceled') {
            throw new HttpError(
              409,
              'not_cancelable',
              `notification is already ${now.status === 'batched' ? 'digested' : now.status}`,
            );
          }
        }
        return this.get(id);
      }
      let result;
      try {
        result = await temporal.workflow.getHandle(row.workflowId).executeUpdate(cancelUpdate);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError)
          throw new HttpError(409, 'not_cancelable', 'notification has finished');
        const message = (error as Error).message ?? '';
        if (/completed|closed/i.test(message)) throw new HttpError(409, 'not_cancelable', 'notification has finished');
        throw new HttpError(503, 'temporal_unavailable', `could not cancel: ${message}`);
      }
      if (!result.canceled) throw new HttpError(409, 'not_cancelable', `notification is already ${result.phase}`);
      await finishNotification(sql, id, 'canceled', { at: Date.now(), from: ['accepted', 'scheduled'] });
      return this.get(id);
    },

    /** Moves a notification that is still waiting for its send time; 409 once it has started sending or finished. */
    async reschedule(id: string, sendAt: string): Promise<NotificationView> {
      const row = await db.notification.findUnique({ where: { id } });
      if (!row) throw notFound('notification', id);
      if (row.status !== 'accepted' && row.status !== 'scheduled') {
        throw new HttpError(409, 'not_reschedulable', `notification is already ${row.status}`);
      }
      let result;
      try {
        result = await temporal.workflow.getHandle(row.workflowId).executeUpdate(rescheduleUpdate, { args: [sendAt] });
      } catch (error) {
        // The workflow's validator refused (it is sending or canceled), or it has already finished.
        if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) {
          const current = await db.notification.findUniqueOrThrow({ where: { id }, select: { status: true } });
          const state = current.status === 'accepted' || current.status === 'scheduled' ? 'sending' : current.status;
          throw new HttpError(409, 'not_reschedulable', `notification is already ${state}`);
        }
        const message = (error as Error).message ?? '';
        if (/completed|closed/i.test(message))
          throw new HttpError(409, 'not_reschedulable', 'notification has finished');
        throw new HttpError(503, 'temporal_unavailable', `could not reschedule: ${message}`);
      }
      const moved = new Date(result.sendAt);
      await db.notification.updateMany({
        where: { id, status: { in: ['accepted', 'scheduled'] } },
        data: { sendAt: moved, ...(moved.getTime() > Date.now() ? { status: 'scheduled' } : {}) },
      });
      return this.get(id);
    },
  };
}
export type NotificationService = ReturnType<typeof createNotificationService>;

/**
 * A user's quiet hours or time zone changed: every notification of theirs that is still waiting re-reads them.
 * Best effort per notification (one that finished meanwhile is fine); bounded so a user with a huge backlog cannot
 * stall the request.
 */
export async function notifySettingsChanged(
  { db, temporal }: Pick<NotificationServiceDeps, 'db' | 'temporal'>,
  userId: string,
) {
  const waiting = await db.notification.findMany({
    where: { userId, status: { in: ['accepted', 'scheduled'] } },
    select: { workflowId: true },
    take: 1000,
  });
  await Promise.allSettled(
    waiting.map((n) => temporal.workflow.getHandle(n.workflowId).signal(preferencesChangedSignal)),
  );
}
