import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Prisma, type Db } from '../../lib/db';
import { newEventKey, newNotificationId, notificationWorkflowId } from '../../lib/ids';
import {
  TERMINAL_STATUSES,
  type NotificationStatus,
  type NotificationView,
  type SendNotificationInput,
  type TrackingEventView,
} from '../../lib/schemas';
import { startNotificationWorkflow } from '../../lib/start-notification';
import { cancelUpdate } from '../../workflows/definitions';
import { HttpError, notFound } from '../errors';

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

export function toNotificationView(row: NotificationRow, events: TrackingEventRow[] = []): NotificationView {
  return {
    id: row.id,
    userId: row.userId,
    template: row.templateId,
    templateVersion: row.templateVersion,
    category: row.category,
    status: row.status as NotificationStatus,
    eventId: row.idempotencyKey,
    sendAt: row.sendAt?.toISOString() ?? null,
    ...(row.error ? { error: row.error } : {}),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    deliveries: [...row.deliveries]
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .map((d) => ({
        id: d.id,
        channel: d.channel as 'push' | 'sms' | 'email',
        provider: d.provider,
        target: d.target,
        status: d.status as 'pending' | 'sent' | 'failed' | 'skipped',
        attempts: d.attempts,
        ...(d.providerMessageId ? { providerMessageId: d.providerMessageId } : {}),
        ...(d.error ? { error: d.error } : {}),
        at: (d.sentAt ?? d.updatedAt).toISOString(),
      })),
    events: events.map(toTrackingEventView),
  };
}

export interface NotificationServiceDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
}

export function createNotificationService({ db, temporal, taskQueue }: NotificationServiceDeps) {
  async function ensureStarted(row: { id: string; idempotencyKey: string; status: string; sendAt: Date | null }) {
    // Only a notification that has not progressed can be missing its workflow (its start failed after the insert).
    if (row.status !== 'accepted' && row.status !== 'scheduled') return;
    try {
      await startNotificationWorkflow(temporal, taskQueue, row.idempotencyKey, {
        notificationId: row.id,
        ...(row.sendAt ? { sendAt: row.sendAt.toISOString() } : {}),
      });
    } catch (error) {
      throw new HttpError(503, 'temporal_unavailable', `could not start the notification: ${(error as Error).message}`);
    }
  }

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
      const existing = await db.notification.findUnique({ where: { idempotencyKey: key } });
      if (existing) {
        await ensureStarted(existing);
        return { id: existing.id, status: existing.status as NotificationStatus, replayed: true };
      }

      const [user, template] = await Promise.all([
        db.user.findUnique({ where: { id: input.userId }, select: { id: true } }),
        db.template.findUnique({ where: { id: input.template }, select: { currentVersion: true } }),
      ]);
      if (!user) throw notFound('user', input.userId);
      if (!template) throw notFound('template', input.template);

      const sendAt = input.sendAt ? new Date(input.sendAt) : null;
      let row;
      try {
        row = await db.notification.create({
          data: {
            id: newNotificationId(),
            idempotencyKey: key,
            workflowId: notificationWorkflowId(key),
            userId: input.userId,
            templateId: input.template,
            templateVersion: template.currentVersion,
            data: (input.data ?? {}) as Prisma.InputJsonValue,
            channels: input.channels ?? [],
            category: input.category ?? null,
            status: sendAt && sendAt.getTime() > Date.now() ? 'scheduled' : 'accepted',
            sendAt,
          },
        });
      } catch (error) {
        // A concurrent request with the same key won the insert: answer with its notification.
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
          const winner = await db.notification.findUniqueOrThrow({ where: { idempotencyKey: key } });
          await ensureStarted(winner);
          return { id: winner.id, status: winner.status as NotificationStatus, replayed: true };
        }
        throw error;
      }
      await ensureStarted(row);
      return { id: row.id, status: row.status as NotificationStatus, replayed: false };
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
      await db.notification.updateMany({
        where: { id, status: { in: ['accepted', 'scheduled'] } },
        data: { status: 'canceled', completedAt: new Date() },
      });
      return this.get(id);
    },
  };
}
export type NotificationService = ReturnType<typeof createNotificationService>;
