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

// Random, not hashed: any shard will do, and contention is what we are spreading.
const randomShard = () => Math.floor(Math.random() * COUNTER_SHARDS);

/** One more in a run's counter (the column is one of a fixed set, never input). */
export async function incrementRunCounter(db: SqlQueryable, runId: string, counter: RunCounter): Promise<void> {
  await db.query(`UPDATE campaign_run_counters SET "${counter}" = "${counter}" + 1 WHERE run_id = $1 AND shard = $2`, [
    runId,
    randomShard(),
  ]);
}

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
