import { z } from 'zod';
import { channelSchema, idSchema, jsonObject } from './common.schemas';

export const TRACKING_EVENT_TYPES = [
  'sent',
  'delivered',
  'failed',
  'opened',
  'clicked',
  'converted',
  'unsubscribed',
] as const;

export const trackingEventSchema = z
  .object({
    id: z.string(),
    type: z.enum(TRACKING_EVENT_TYPES),
    channel: channelSchema.nullable(),
    deliveryId: z.string().nullable(),
    source: z.string(),
    at: z.string(),
    counted: z.boolean(),
    metadata: jsonObject.nullable(),
  })
  .meta({ id: 'TrackingEvent' });
export type TrackingEventView = z.infer<typeof trackingEventSchema>;

export const trackingEventInputSchema = z
  .object({
    notificationId: idSchema,
    type: z.enum(['opened', 'clicked', 'converted']),
    /** The delivery the event is about (push data carries it as `herald_delivery_id`): attributes it to a channel. */
    deliveryId: idSchema.optional(),
    /** When it happened (default: now). */
    at: z.iso.datetime({ offset: true }).optional(),
    metadata: jsonObject
      .refine((value) => JSON.stringify(value).length <= 2048, 'metadata must be at most 2 KB of JSON')
      .optional(),
  })
  .strict()
  .meta({ id: 'TrackingEventInput' });
export type TrackingEventInput = z.infer<typeof trackingEventInputSchema>;

/** What POST /v1/events recorded: `stored` is false for a replay, `counted` true for the first of its kind. */
export const trackingEventResultSchema = z.object({
  notificationId: z.string(),
  deliveryId: z.string().nullable(),
  channel: channelSchema.nullable(),
  type: trackingEventInputSchema.shape.type,
  stored: z.boolean(),
  counted: z.boolean(),
});
export type TrackingEventResult = z.infer<typeof trackingEventResultSchema>;

export const STATS_GROUPS = ['channel', 'template', 'category', 'day'] as const;
export const statsQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    groupBy: z.enum(STATS_GROUPS).optional(),
  })
  .strict()
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['from'] });
export type StatsQuery = z.infer<typeof statsQuerySchema>;

const statsRow = z.object({
  sent: z.number().int(),
  delivered: z.number().int(),
  failed: z.number().int(),
  opened: z.number().int(),
  clicked: z.number().int(),
  converted: z.number().int(),
  rates: z.object({
    delivery: z.number().nullable(),
    failure: z.number().nullable(),
    open: z.number().nullable(),
    click: z.number().nullable(),
    conversion: z.number().nullable(),
  }),
});
export const statsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    groupBy: z.enum(STATS_GROUPS).nullable(),
    totals: statsRow,
    groups: z.array(statsRow.extend({ key: z.string().nullable() })),
  })
  .meta({ id: 'Stats' });
export type StatsView = z.infer<typeof statsSchema>;
