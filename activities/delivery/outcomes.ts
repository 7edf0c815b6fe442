/**
 * What a provider answered, per target, and how it is written to Herald's tables. The answer travels in the workflow
 * (an activity's result is durable in its history the moment the activity completes); writing it here is a separate
 * step that never calls a provider, so a database that is down can delay the record but never cause a second send.
 *
 * Every statement is idempotent: a delivery moves out of `pending` once, and Herald's own tracking events have fixed
 * source ids. The channel activity records its answers right away when it can (so the API shows them at once); the
 * workflow records whatever the activity could not, retried until the database is back.
 */
import { randomBytes } from 'node:crypto';
import type { NotificationStatus } from '../../contract/schemas';
import { TS, type SqlQueryable } from '../../platform/sql';
import { scrub } from '../delivery-failure';
import { NON_RETRYABLE } from '../../contract/failures';

/**
 * `final`: set on the answers of the channel activity that recorded the notification's last pending target and, in
 * the same breath, its final status — so the workflow has nothing left to record. Absent in histories written before
 * it existed (the workflow then records the status itself, as it always did).
 */
export type TargetOutcome =
  | {
      deliveryId: string;
      outcome: 'sent';
      providerMessageId?: string;
      at: number;
      recorded: boolean;
      final?: NotificationStatus;
    }
  /** A permanent refusal (InvalidRecipient, InvalidRequest, NotFound), or given up after the retry policy. */
  | {
      deliveryId: string;
      outcome: 'failed';
      errorType: string;
      message: string;
      at: number;
      recorded: boolean;
      final?: NotificationStatus;
    }
  /** A transient failure beside targets that did get an answer: this target goes to the provider again. */
  | { deliveryId: string; outcome: 'retry'; message: string; errorType: string; retryAfterMs?: number }
  /** No longer pending (canceled, dropped, already failed): nothing was sent. */
  | { deliveryId: string; outcome: 'skipped' };

export type Recordable = Extract<TargetOutcome, { outcome: 'sent' | 'failed' }>;

let sequence = 0;
/** Tracking event ids as domain/tracking/events.ts makes them: time-ordered, then random. */
const eventId = () =>
  `tev_${Date.now().toString(36).padStart(9, '0')}${(sequence = (sequence + 1) % 1296).toString(36).padStart(2, '0')}` +
  randomBytes(6).toString('base64url');

const RECORD_SENT = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, message_id text, at_ms float8, ev1 text, ev2 text)
), upd AS (
  UPDATE deliveries d
     SET status = 'sent', provider_message_id = x.message_id, sent_at = ${TS('x.at_ms')}, updated_at = ${TS('x.at_ms')},
         error = NULL, error_kind = NULL,
         -- Once sent, only the tracked links' targets are kept (what /t/<token> redirects to): the text is not.
         content = CASE WHEN jsonb_typeof(d.content -> 'links') = 'array' AND jsonb_array_length(d.content -> 'links') > 0
                        THEN jsonb_build_object('links', d.content -> 'links') END
    FROM input x
   WHERE d.id = x.id AND d.id = ANY($2::text[]) AND d.status = 'pending'
  RETURNING d.id, d.notification_id, d.channel, d.provider, x.at_ms, x.ev1, x.ev2
), r AS (
  SELECT upd.*, n.template_id, n.category FROM upd JOIN notifications n ON n.id = upd.notification_id
)
INSERT INTO tracking_events (id, notification_id, delivery_id, type, channel, template_id, category, source, at,
                             metadata, counted, dedupe_key, source_event_id)
SELECT r.ev1, r.notification_id, r.id, 'sent', r.channel, r.template_id, r.category, 'herald', ${TS('r.at_ms')},
       NULL, true, r.id || ':sent', 'herald:' || r.id || ':sent'
  FROM r
UNION ALL
-- APNs and FCM report nothing after accepting, and the outbox and the inbox are the destination itself: acceptance
-- is delivery.
SELECT r.ev2, r.notification_id, r.id, 'delivered', r.channel, r.template_id, r.category, 'herald', ${TS('r.at_ms')},
       jsonb_build_object('basis', CASE WHEN r.provider IN ('outbox', 'inbox') THEN r.provider ELSE 'provider_accepted' END),
       true, r.id || ':delivered', 'herald:' || r.id || ':delivered'
  FROM r WHERE r.channel = 'push' OR r.provider = 'outbox' OR r.channel = 'inbox'
ON CONFLICT DO NOTHING`;

const RECORD_FAILED = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, error text, kind text, at_ms float8, ev text)
), upd AS (
  UPDATE deliveries d
     SET status = 'failed', error = x.error, error_kind = x.kind, updated_at = ${TS('x.at_ms')}
    FROM input x
   WHERE d.id = x.id AND d.id = ANY($2::text[]) AND d.status = 'pending'
  RETURNING d.id, d.notification_id, d.channel, d.provider, x.at_ms, x.ev, x.error
), events AS (
  INSERT INTO tracking_events (id, notification_id, delivery_id, type, channel, template_id, category, source, at,
                               metadata, counted, dedupe_key, source_event_id)
  SELECT upd.ev, upd.notification_id, upd.id, 'failed', upd.channel, n.template_id, n.category, 'herald',
         ${TS('upd.at_ms')}, jsonb_build_object('reason', left(upd.error, 500)), true, upd.id || ':failed',
         'herald:' || upd.id || ':failed'
    FROM upd JOIN notifications n ON n.id = upd.notification_id
  ON CONFLICT DO NOTHING
)
SELECT channel, provider FROM upd`;

/**
 * A dead token is never used again (the user's other devices are unaffected); an address or number the provider
 * refused as invalid is flagged until the user's contact changes — only if it is still the one this delivery used.
 */
const RETIRE_TARGETS = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, error text, at_ms float8)
), dead AS (
  SELECT d.channel, d.device_id, d.target, n.user_id, x.error, x.at_ms
    FROM input x JOIN deliveries d ON d.id = x.id JOIN notifications n ON n.id = d.notification_id
   WHERE d.id = ANY($2::text[])
), devices_off AS (
  UPDATE devices v SET active = false, deactivated_at = ${TS('dead.at_ms')}, deactivation_reason = dead.error,
                       updated_at = ${TS('dead.at_ms')}
    FROM dead WHERE dead.channel = 'push' AND v.id = dead.device_id AND v.active
  RETURNING v.id
)
UPDATE users u
   SET email_invalid_at = CASE WHEN e.target IS NOT NULL THEN ${TS('e.at_ms')} ELSE u.email_invalid_at END,
       email_invalid_reason = CASE WHEN e.target IS NOT NULL THEN left(e.error, 300) ELSE u.email_invalid_reason END,
       phone_invalid_at = CASE WHEN p.target IS NOT NULL THEN ${TS('p.at_ms')} ELSE u.phone_invalid_at END,
       phone_invalid_reason = CASE WHEN p.target IS NOT NULL THEN left(p.error, 300) ELSE u.phone_invalid_reason END
  FROM (SELECT DISTINCT user_id FROM dead WHERE channel <> 'push') AS who
  LEFT JOIN LATERAL (SELECT * FROM dead WHERE dead.user_id = who.user_id AND dead.channel = 'email' LIMIT 1) e ON true
  LEFT JOIN LATERAL (SELECT * FROM dead WHERE dead.user_id = who.user_id AND dead.channel = 'sms' LIMIT 1) p ON true
 WHERE u.id = who.user_id AND ((e.target IS NOT NULL AND u.email = e.target) OR (p.target IS NOT NULL AND u.phone = p.target))`;

/** The last transient error stays visible on a delivery that is still being retried. */
const NOTE_ERRORS = `
UPDATE deliveries d SET error = x.error, error_kind = x.kind
  FROM jsonb_to_recordset($1::jsonb) AS x(id text, error text, kind text)
 WHERE d.id = x.id AND d.id = ANY($2::text[]) AND d.status = 'pending'`;

/**
 * Writes the answers that are not recorded yet. Idempotent; safe inside or outside a transaction. Answers the
 * deliveries this call moved to `failed` (for the metrics).
 */
export async function recordOutcomes(
  db: SqlQueryable,
  outcomes: readonly TargetOutcome[],
): Promise<{ failed: { channel: string; provider: string }[] }> {
  let newlyFailed: { channel: string; provider: string }[] = [];
  const sent = outcomes.filter(
    (o): o is Extract<TargetOutcome, { outcome: 'sent' }> => o.outcome === 'sent' && !o.recorded,
  );
  const failed = outcomes.filter(
    (o): o is Extract<TargetOutcome, { outcome: 'failed' }> => o.outcome === 'failed' && !o.recorded,
  );
  const retrying = outcomes.filter((o): o is Extract<TargetOutcome, { outcome: 'retry' }> => o.outcome === 'retry');
  if (sent.length > 0) {
    const input = sent.map((o) => ({
      id: o.deliveryId,
      message_id: o.providerMessageId ?? null,
      at_ms: o.at,
      ev1: eventId(),
      ev2: eventId(),
    }));
    await db.query(RECORD_SENT, [JSON.stringify(input), input.map((i) => i.id)]);
  }
  if (failed.length > 0) {
    const dead = failed.filter((o) => o.errorType === NON_RETRYABLE.InvalidRecipient);
    // Flag first: a retry after the failed status was written still flags (the statement reads the delivery only).
    if (dead.length > 0) {
      await db.query(RETIRE_TARGETS, [
        JSON.stringify(dead.map((o) => ({ id: o.deliveryId, error: scrub(o.message), at_ms: o.at }))),
        dead.map((o) => o.deliveryId),
      ]);
    }
    const input = failed.map((o) => ({
      id: o.deliveryId,
      error: scrub(o.message),
      kind: o.errorType,
      at_ms: o.at,
      ev: eventId(),
    }));
    newlyFailed = await db.query<{ channel: string; provider: string }>(RECORD_FAILED, [
      JSON.stringify(input),
      input.map((i) => i.id),
    ]);
  }
  if (retrying.length > 0) {
    const input = retrying.map((o) => ({ id: o.deliveryId, error: o.message, kind: o.errorType }));
    await db.query(NOTE_ERRORS, [JSON.stringify(input), input.map((i) => i.id)]);
  }
  return { failed: newlyFailed };
}
