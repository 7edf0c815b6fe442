/**
 * The hot path's way into a final status, in one statement: the notification moves (only from a status that is not
 * final) and, when it belongs to a campaign run, the run's counter moves with it — exactly once, as
 * lib/notification-outcome.ts does for the API's writes.
 */
import { COUNTER_SHARDS, counterFor } from '../../lib/notification-outcome';
import { TERMINAL_STATUSES, type NotificationStatus } from '../../lib/schemas';
import { TS, type SqlQueryable } from '../../lib/sql';

const NON_TERMINAL = ['accepted', 'scheduled', 'sending'];

export async function finishNotificationSql(
  db: SqlQueryable,
  id: string,
  status: NotificationStatus,
  at: number,
  error?: string,
): Promise<boolean> {
  if (!TERMINAL_STATUSES.includes(status)) throw new Error(`${status} is not a final status`);
  const counter = counterFor(status);
  // The counter's column is one of a fixed set (never input): safe to name in the statement.
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
    [id, status, at, error ?? null, NON_TERMINAL, ...(counter ? [Math.floor(Math.random() * COUNTER_SHARDS)] : [])],
  );
  return (rows[0]?.moved ?? 0) > 0;
}
