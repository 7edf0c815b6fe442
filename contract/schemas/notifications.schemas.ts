import { z } from 'zod';
import { channelSchema, commaList, cursor, idSchema, idempotencyKeySchema, jsonObject } from './common.schemas';
import { digestSchema } from './digest.schemas';
import { trackingEventSchema } from './tracking.schemas';

import { DELIVERY_STATUSES, NOTIFICATION_STATUSES } from '../statuses';

export * from '../statuses';

export const sendNotificationSchema = z
  .object({
    userId: idSchema,
    template: idSchema,
    data: jsonObject.optional(),
    channels: z.array(channelSchema).min(1).optional(),
    category: idSchema.optional(),
    eventId: idempotencyKeySchema
      .meta({
        description:
          'Makes the send safe to repeat; when the Idempotency-Key header is sent too, both must be equal (otherwise 400 idempotency_key_mismatch)',
      })
      .optional(),
    sendAt: z.iso.datetime({ offset: true }).optional(),
    /** If not opened within `afterMinutes`, send on `channel` too (e.g. a push, then an SMS). */
    escalation: z
      .object({
        afterMinutes: z
          .number()
          .positive()
          .max(7 * 24 * 60),
        channel: channelSchema,
      })
      .strict()
      .optional(),
    /** Batch with the user's other events of this template (and key) into one message; see docs/digests.md. */
    digest: digestSchema.optional(),
  })
  .strict()
  .meta({ id: 'SendNotification' });
export type SendNotificationInput = z.infer<typeof sendNotificationSchema>;

export const deliverySchema = z
  .object({
    id: z.string(),
    channel: channelSchema,
    provider: z.string(),
    target: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    providerMessageId: z.string().optional(),
    error: z.string().optional(),
    at: z.string(),
  })
  .meta({ id: 'Delivery' });

export const notificationSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    template: z.string(),
    templateVersion: z.number().int().nullable(),
    category: z.string().nullable(),
    status: z.enum(NOTIFICATION_STATUSES),
    eventId: z.string(),
    sendAt: z.string().nullable(),
    heldUntil: z.string().nullable(),
    holdReason: z.string().nullable(),
    error: z.string().optional(),
    campaignRunId: z.string().optional(),
    /** Set once the notification went out in a digest (status `digested`): the notification that carried it. */
    digestId: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    deliveries: z.array(deliverySchema),
    /** The timeline after sending: sent, delivered, failed, opened, clicked, converted, unsubscribed. */
    events: z.array(trackingEventSchema),
  })
  .meta({ id: 'Notification' });
export type NotificationView = z.infer<typeof notificationSchema>;

export const acceptedSchema = z
  .object({ id: z.string(), status: z.enum(NOTIFICATION_STATUSES) })
  .meta({ id: 'NotificationAccepted' });

/** GET /v1/notifications: newest first, keyset-paginated (`cursor` from the previous page's `nextCursor`). */
export const listNotificationsQuerySchema = z
  .object({
    status: commaList(NOTIFICATION_STATUSES).optional(),
    userId: idSchema.optional(),
    template: idSchema.optional(),
    category: idSchema.optional(),
    eventId: idempotencyKeySchema.optional(),
    /** Created at or after `from` and before `to`. */
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    cursor: cursor(200).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/** A notification in a list page: everything but the tracking timeline (GET /v1/notifications/{id} has it). */
export const notificationSummarySchema = notificationSchema.omit({ events: true }).meta({ id: 'NotificationSummary' });
export type NotificationSummary = z.infer<typeof notificationSummarySchema>;

export const notificationPageSchema = z
  .object({ notifications: z.array(notificationSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'NotificationPage' });

/** POST /v1/notifications/retry: re-drive the failed targets of every matching notification (at most `limit`). */
export const bulkRetrySchema = z
  .object({
    status: z
      .union([z.enum(['failed', 'partially_delivered']), z.array(z.enum(['failed', 'partially_delivered'])).min(1)])
      .optional(),
    ids: z.array(idSchema).min(1).max(1000).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    limit: z.number().int().min(1).max(1000).default(500),
  })
  .strict()
  .meta({ id: 'BulkRetryInput' });
export type BulkRetryInput = z.infer<typeof bulkRetrySchema>;

/**
 * A notification a bulk re-drive did not re-drive. `code`: `notification_not_found` (no such id),
 * `not_retryable` (its status is not one re-driven), `not_selected` (created before `since`, or beyond `limit`),
 * or the error code of a re-drive that could not start (`temporal_unavailable`).
 */
export const redriveSkippedSchema = z.object({ id: z.string(), code: z.string(), reason: z.string() });
export type RedriveSkipped = z.infer<typeof redriveSkippedSchema>;

export const redriveResultSchema = z
  .object({
    redriven: z.array(z.object({ id: z.string(), redrive: z.number().int() })),
    skipped: z.array(redriveSkippedSchema),
    more: z.boolean(),
  })
  .meta({ id: 'RedriveResult' });

/** POST /v1/notifications/{id}/retry: re-drive number `redrive` has started. */
export const redriveStartedSchema = z.object({
  id: z.string(),
  status: z.literal('sending'),
  redrive: z.number().int(),
});
export type RedriveStarted = z.infer<typeof redriveStartedSchema>;

// ---- Send-at, topics, audiences and campaigns ----

export const rescheduleNotificationSchema = z
  .object({ sendAt: z.iso.datetime({ offset: true }) })
  .strict()
  .meta({ id: 'RescheduleNotification' });
