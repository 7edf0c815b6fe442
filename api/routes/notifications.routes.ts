import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../platform/db';
import { rescheduleNotificationSchema, sendNotificationSchema } from '../../contract/schemas';
import { HttpError } from '../errors';
import type { NotificationService } from '../services/notifications.service';
import { idempotencyKeyOf, parseBody, parseId } from '../validate';

export function notificationsRoutes(notifications: NotificationService): Router {
  const router = Router();
  router.post('/notifications', async (req, res) => {
    const input = parseBody(sendNotificationSchema, req.body);
    const { id, status, replayed } = await notifications.send(input, idempotencyKeyOf(req));
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(202).json({ id, status });
  });
  router.get('/notifications/:id', async (req, res) => {
    res.json(await notifications.get(parseId(req.params.id, 'id')));
  });
  router.delete('/notifications/:id', async (req, res) => {
    res.json(await notifications.cancel(parseId(req.params.id, 'id')));
  });
  router.patch('/notifications/:id', async (req, res) => {
    const { sendAt } = parseBody(rescheduleNotificationSchema, req.body);
    res.json(await notifications.reschedule(parseId(req.params.id, 'id'), sendAt));
  });
  return router;
}

export const outboxQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  channel: z.enum(['push', 'sms', 'email']).optional(),
});

/** What the outbox "provider" received: the messages Herald would have sent, newest first. */
export function outboxRoutes(db: Db): Router {
  const router = Router();
  router.get('/outbox', async (req, res) => {
    const query = outboxQuerySchema.safeParse(req.query);
    if (!query.success) throw new HttpError(400, 'validation_error', query.error.issues[0]?.message ?? 'bad query');
    const rows = await db.outboxMessage.findMany({
      where: query.data.channel ? { channel: query.data.channel } : {},
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.data.limit,
    });
    const deliveries = await db.delivery.findMany({
      where: { id: { in: rows.map((r) => r.deliveryId) } },
      select: { id: true, notificationId: true },
    });
    const notificationOf = new Map(deliveries.map((d) => [d.id, d.notificationId]));
    res.json({
      messages: rows.map((r) => ({
        id: r.id,
        deliveryId: r.deliveryId,
        notificationId: notificationOf.get(r.deliveryId) ?? null,
        channel: r.channel,
        to: r.recipient,
        content: r.content,
        createdAt: r.createdAt.toISOString(),
      })),
    });
  });
  return router;
}
