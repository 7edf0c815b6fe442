/**
 * The tracking event log. Every event is kept (the notification's timeline shows them all); the first event of a
 * type for a delivery — for a notification, when the event names no delivery, and always for conversions — is marked
 * `counted`, and only counted events feed the statistics. One statement decides which is first, under concurrency
 * too: the unique `dedupe_key` admits one counted row, and a replayed provider event (same `source_event_id`) is not
 * stored at all. Repeats are kept up to MAX_REPEATS per type and delivery: a mail scanner or a bot that fetches a
 * tracked link or the pixel thousands of times changes nothing that is counted, and must not grow the table either.
 */
import { randomBytes } from 'node:crypto';
import type { Db, Prisma } from '../../platform/db';
import type { TRACKING_EVENT_TYPES } from '../../contract/schemas';

export type TrackingEventType = (typeof TRACKING_EVENT_TYPES)[number];
export type TrackingEventSource = 'herald' | 'pixel' | 'link' | 'api' | 'sendgrid' | 'twilio' | 'unsubscribe';

/** What an event is about: filled in from the delivery (or the notification) so statistics never need a join. */
export interface EventSubject {
  notificationId: string;
  deliveryId: string | null;
  channel: string | null;
  templateId: string;
  category: string | null;
}

export interface TrackingEventInput extends EventSubject {
  type: TrackingEventType;
  source: TrackingEventSource;
  at?: Date;
  metadata?: Record<string, unknown>;
  /** Stable id of this very event at its source (e.g. SendGrid's sg_event_id): a replay is ignored. */
  sourceEventId?: string;
}

type Client = Db | Prisma.TransactionClient;

/** Uncounted repeats of one type kept per delivery (per notification for conversions); later ones are dropped. */
export const MAX_REPEATS = 20;

let sequence = 0;
/**
 * Ids that sort by creation within a process (time, then a counter), so a timeline ordered by (at, id) shows events
 * recorded in the same millisecond — `sent` and `delivered` of a push — in the order they were recorded.
 */
const newEventId = () =>
  `tev_${Date.now().toString(36).padStart(9, '0')}${(sequence = (sequence + 1) % 1296).toString(36).padStart(2, '0')}` +
  randomBytes(6).toString('base64url');

/**
 * Records an event; `stored` is false for a replay (or a repeat beyond MAX_REPEATS), `counted` tells whether it was
 * the first of its kind.
 */
export async function recordTrackingEvent(
  db: Client,
  event: TrackingEventInput,
): Promise<{ stored: boolean; counted: boolean }> {
  const unit = event.type === 'converted' || !event.deliveryId ? event.notificationId : event.deliveryId;
  const at = (event.at ?? new Date()).toISOString();
  const metadata = event.metadata ? JSON.stringify(event.metadata) : null;
  const rows = await db.$queryRaw<{ counted: boolean }[]>`
    WITH first AS (
      INSERT INTO tracking_events (id, notification_id, delivery_id, type, channel, template_id, category, source, at,
                                   metadata, counted, dedupe_key, source_event_id)
      VALUES (${newEventId()}, ${event.notificationId}, ${event.deliveryId}, ${event.type}, ${event.channel},
              ${event.templateId}, ${event.category}, ${event.source}, (${at}::timestamptz AT TIME ZONE 'UTC'),
              ${metadata}::jsonb, true, ${`${unit}:${event.type}`}, ${event.sourceEventId ?? null})
      ON CONFLICT DO NOTHING
      RETURNING counted
    ), repeat AS (
      INSERT INTO tracking_events (id, notification_id, delivery_id, type, channel, template_id, category, source, at,
                                   metadata, counted, dedupe_key, source_event_id)
      SELECT ${newEventId()}, ${event.notificationId}, ${event.deliveryId}, ${event.type}, ${event.channel},
             ${event.templateId}, ${event.category}, ${event.source}, (${at}::timestamptz AT TIME ZONE 'UTC'),
             ${metadata}::jsonb, false, NULL, ${event.sourceEventId ?? null}
      WHERE NOT EXISTS (SELECT 1 FROM first)
        AND (SELECT count(*) FROM (
               SELECT 1 FROM tracking_events
                WHERE notification_id = ${event.notificationId} AND type = ${event.type} AND counted = false
                  AND delivery_id IS NOT DISTINCT FROM ${event.deliveryId}
                LIMIT ${MAX_REPEATS}) AS kept) < ${MAX_REPEATS}
      ON CONFLICT DO NOTHING
      RETURNING counted
    )
    SELECT counted FROM first UNION ALL SELECT counted FROM repeat`;
  const row = rows[0];
  return { stored: row !== undefined, counted: row?.counted ?? false };
}

/** The subject of events about one delivery, or null when it does not exist. */
export async function deliverySubject(
  db: Client,
  deliveryId: string,
): Promise<(EventSubject & { userId: string; target: string; provider: string; status: string }) | null> {
  const delivery = await db.delivery.findUnique({
    where: { id: deliveryId },
    select: {
      id: true,
      channel: true,
      target: true,
      provider: true,
      status: true,
      notification: { select: { id: true, userId: true, templateId: true, category: true } },
    },
  });
  if (!delivery) return null;
  return {
    notificationId: delivery.notification.id,
    deliveryId: delivery.id,
    channel: delivery.channel,
    templateId: delivery.notification.templateId,
    category: delivery.notification.category,
    userId: delivery.notification.userId,
    target: delivery.target,
    provider: delivery.provider,
    status: delivery.status,
  };
}
