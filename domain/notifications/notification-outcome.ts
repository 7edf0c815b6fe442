/**
 * The one place where a notification enters a final status. A notification that belongs to a campaign run is
 * counted in that run's counters in the same statement, exactly once (a retried activity or a second writer finds
 * the status already final and counts nothing), so a run's progress is a sum of a few counter rows rather than a
 * count over its notifications. Plain SQL (platform/sql.ts): every notification passes here.
 */
import { TERMINAL_STATUSES, type NotificationStatus } from '../../contract/schemas';
import { TS, type SqlQueryable } from '../../platform/sql';

/** Rows per run that the counters are spread over: finishing notifications rarely wait on each other's row lock. */
export const COUNTER_SHARDS = 8;

export type RunCounter = 'started' | 'delivered' | 'failed' | 'suppressed' | 'canceled';

export function counterFor(status: NotificationStatus): RunCounter | undefined {
  switch (status) {
    case 'delivered':
    case 'partially_delivered':
      return 'delivered';
    case 'failed':
      return 'failed';
    case 'suppressed':
      return 'suppressed';
    case 'canceled':
      return 'canceled';
    default:
      return undefined;
  }
}

/** A counter shard. Random, not hashed: any shard will do, and contention is what we are spreading. */
export const randomShard = () => Math.floor(Math.random() * COUNTER_SHARDS);

const NON_TERMINAL: readonly NotificationStatus[] = ['accepted', 'scheduled', 'sending'];

/**
 * Moves a notification from one of `from` (default: any status that is not final) to the final `status`, clearing
 * its hold; `error` is kept when not given. Returns false when it was not in one of those statuses (nothing written,
 * nothing counted).
 */
export async function finishNotification(
  db: SqlQueryable,
  id: string,
  status: NotificationStatus,
  { at, error, from = NON_TERMINAL }: { at: number; error?: string; from?: readonly NotificationStatus[] },
): Promise<boolean> {
  if (!TERMINAL_STATUSES.includes(status)) throw new Error(`${status} is not a final status`);
  const counter = counterFor(status);
  const count = counter
    ? `, counted AS (
         UPDATE campaign_run_counters SET "${counter}" = "${counter}" + 1
          WHERE run_id = (SELECT campaign_run_id FROM moved) AND shard = $6)`
    : '';
  const rows = await db.query<{ moved: number }>(
    `WITH moved AS (
       UPDATE notifications
          SET status = $2, completed_at = ${TS('$3')}, updated_at = ${TS('$3')}, error = coalesce($4, error),
              held_until = NULL, hold_reason = NULL
        WHERE id = $1 AND status = ANY($5::text[])
       RETURNING campaign_run_id)${count}
     SELECT count(*)::int AS moved FROM moved`,
    [id, status, at, error ?? null, from, ...(counter ? [randomShard()] : [])],
  );
  return (rows[0]?.moved ?? 0) > 0;
}

/**
 * The notification's final status from its deliveries (a pending one counts as failed: its retries gave up), written
 * in the same statement through the same rules as finishNotification (only from a status that is not final, counted
 * once in its campaign run). With `onlyWhenSettled`, nothing is written while a delivery is still pending (a channel
 * that may not be the last). `moved`: this call wrote it (a second writer waits for the first's row lock, then finds
 * the status already final). `pending`: the deliveries still pending.
 */
const FINISH_FROM_DELIVERIES = `
WITH counts AS (
  SELECT count(*) FILTER (WHERE status = 'sent') AS sent,
         count(*) FILTER (WHERE status IN ('failed', 'pending')) AS failed,
         count(*) FILTER (WHERE status = 'pending')::int AS pending
    FROM deliveries WHERE notification_id = $1
), final AS (
  SELECT CASE WHEN sent = 0 AND failed = 0 THEN 'suppressed'
              WHEN failed = 0 THEN 'delivered'
              WHEN sent = 0 THEN 'failed'
              ELSE 'partially_delivered' END AS status,
         pending
    FROM counts
), moved AS (
  UPDATE notifications n
     SET status = f.status, completed_at = ${TS('$2')}, updated_at = ${TS('$2')}, held_until = NULL, hold_reason = NULL
    FROM final f
   WHERE n.id = $1 AND n.status = ANY($3::text[]) AND (NOT $4::boolean OR f.pending = 0)
  RETURNING n.campaign_run_id, n.status
), counted AS (
  UPDATE campaign_run_counters c
     SET delivered = c.delivered + (m.status IN ('delivered', 'partially_delivered'))::int,
         failed = c.failed + (m.status = 'failed')::int,
         suppressed = c.suppressed + (m.status = 'suppressed')::int
    FROM moved m
   WHERE c.run_id = m.campaign_run_id AND c.shard = $5
)
SELECT f.status, f.pending, (SELECT count(*)::int FROM moved) AS moved FROM final f`;

export async function finishFromDeliveries(
  db: SqlQueryable,
  id: string,
  at: number,
  { onlyWhenSettled = false }: { onlyWhenSettled?: boolean } = {},
): Promise<{ status: NotificationStatus; pending: number; moved: boolean }> {
  const [row] = await db.query<{ status: NotificationStatus; pending: number; moved: number }>(FINISH_FROM_DELIVERIES, [
    id,
    at,
    NON_TERMINAL,
    onlyWhenSettled,
    randomShard(),
  ]);
  return { status: row!.status, pending: row!.pending, moved: row!.moved > 0 };
}
