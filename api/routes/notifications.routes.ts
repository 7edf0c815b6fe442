import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../platform/db';
import {
  channelSchema,
  acceptedSchema,
  bulkRetrySchema,
  errorSchema,
  idempotencyKeySchema,
  listNotificationsQuerySchema,
  notificationPageSchema,
  notificationSchema,
  redriveResultSchema,
  rescheduleNotificationSchema,
  sendNotificationSchema,
} from '../../contract/schemas';
import { HttpError } from '../errors';
import type { NotificationService } from '../services/notifications.service';
import { idempotencyKeyOf, parseBody, parseId } from '../validate';
import type { OpenApiKit } from '../openapi-kit';

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
  channel: channelSchema.optional(),
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

/** This router's operations in /openapi.json (api/openapi.ts assembles the document). */
export function registerNotificationsOpenApi({ route, json, errors, path }: OpenApiKit): void {
  route({
    method: 'post',
    path: '/v1/notifications',
    summary: 'Send a notification (202 once its workflow has durably started)',
    request: {
      headers: z.object({ 'Idempotency-Key': idempotencyKeySchema.optional() }),
      body: { content: { 'application/json': { schema: sendNotificationSchema } } },
    },
    responses: {
      202: json(acceptedSchema, 'Accepted'),
      503: json(errorSchema, 'Temporal unavailable; retry with the same key'),
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/notifications/{id}',
    request: { params: path('id') },
    responses: { 200: json(notificationSchema, 'The notification and its deliveries'), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/notifications/{id}',
    summary: 'Cancel a notification that has not started sending',
    request: { params: path('id') },
    responses: {
      200: json(notificationSchema, 'Canceled'),
      409: json(errorSchema, 'Already sending or finished'),
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/notifications',
    summary: 'List notifications, newest first (e.g. ?status=failed,partially_delivered), keyset-paginated',
    request: { query: listNotificationsQuerySchema },
    responses: { 200: json(notificationPageSchema, 'A page; pass nextCursor as cursor for the next'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/notifications/{id}/retry',
    summary:
      'Re-drive the failed targets of a failed or partially delivered notification (delivered ones are not re-sent)',
    request: { params: path('id') },
    responses: { 202: { description: 'Re-drive started' }, 409: json(errorSchema, 'Not failed'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/notifications/retry',
    summary: 'Re-drive the failed targets of many notifications (after an outage)',
    request: { body: { required: false, content: { 'application/json': { schema: bulkRetrySchema } } } },
    responses: { 202: json(redriveResultSchema, 'Re-drives started'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/notifications/{id}/opened',
    summary: 'Record that the user opened the notification (ends a pending escalation)',
    request: { params: path('id') },
    responses: { 200: { description: 'Recorded' }, ...errors },
  });
  route({
    method: 'get',
    path: '/v1/outbox',
    summary: 'Messages delivered to the local outbox (channels without provider credentials)',
    request: { query: outboxQuerySchema },
    responses: { 200: { description: 'Newest first' }, ...errors },
  });
}
