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

const quoted = (statuses: readonly string[]) => statuses.map((status) => `'${status}'`).join(', ');
/** counterFor as SQL over `m.status`: each run counter plus one when the status moved to is one it counts. */
const COUNTED_STATUSES = TERMINAL_STATUSES.filter((status) => counterFor(status) !== undefined);
const COUNT_MOVED = (['delivered', 'failed', 'suppressed', 'canceled'] as const)
  .map((counter) => {
    const statuses = TERMINAL_STATUSES.filter((status) => counterFor(status) === counter);
    return `"${counter}" = c."${counter}" + (m.status IN (${quoted(statuses)}))::int`;
  })
  .join(', ');

/**
 * The final-status write both writers below share, as CTEs `moved` and `counted`: the notification moves from one of
 * `$3` to `status` at `$2` (clearing its hold) and, in a campaign run, one counter shard (`$4`) counts it — once,
 * because a second writer waits for the first's row lock and then finds the status already final.
 */
function finishing(status: string, { error = 'n.error', from = '', when = '' } = {}): string {
  return `moved AS (
  UPDATE notifications n
     SET status = ${status}, completed_at = ${TS('$2')}, updated_at = ${TS('$2')}, error = ${error},
         held_until = NULL, hold_reason = NULL
    ${from}
   WHERE n.id = $1 AND n.status = ANY($3::text[]) ${when}
  RETURNING n.campaign_run_id, n.status
), counted AS (
  UPDATE campaign_run_counters c SET ${COUNT_MOVED}
    FROM moved m
   WHERE c.run_id = m.campaign_run_id AND c.shard = $4 AND m.status IN (${quoted(COUNTED_STATUSES)})
)`;
}

const FINISH = `WITH ${finishing('$5', { error: 'coalesce($6, n.error)' })}
SELECT count(*)::int AS moved FROM moved`;

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
  const rows = await db.query<{ moved: number }>(FINISH, [id, at, from, randomShard(), status, error ?? null]);
  return (rows[0]?.moved ?? 0) > 0;
}

/**
 * The notification's final status from its deliveries (a pending one counts as failed: its retries gave up), counted
 * and written in one statement. With `$5` (`onlyWhenSettled`), nothing is written while a delivery is still pending
 * (a channel that may not be the last).
 */
const FINISH_FROM_DELIVERIES = `
WITH counts AS (
  SELECT count(*) FILTER (WHERE status = 'sent') AS sent,
         count(*) FILTER (WHERE status IN ('failed', 'pending')) AS failed,
         count(*) FILTER (WHERE status = 'pending') AS pending
    FROM deliveries WHERE notification_id = $1
), final AS (
  SELECT CASE WHEN sent = 0 AND failed = 0 THEN 'suppressed'
              WHEN failed = 0 THEN 'delivered'
              WHEN sent = 0 THEN 'failed'
              ELSE 'partially_delivered' END AS status,
         pending
    FROM counts
), ${finishing('f.status', { from: 'FROM final f', when: 'AND (NOT $5::boolean OR f.pending = 0)' })}
SELECT f.status, (SELECT count(*)::int FROM moved) AS moved FROM final f`;

/**
 * Writes the notification's final status from its deliveries. `moved`: this call wrote it (nothing is written when
 * the status is already final, or with `onlyWhenSettled` while a delivery is pending).
 */
export async function finishFromDeliveries(
  db: SqlQueryable,
  id: string,
  at: number,
  { onlyWhenSettled = false }: { onlyWhenSettled?: boolean } = {},
): Promise<{ status: NotificationStatus; moved: boolean }> {
  const [row] = await db.query<{ status: NotificationStatus; moved: number }>(FINISH_FROM_DELIVERIES, [
    id,
    at,
    NON_TERMINAL,
    randomShard(),
    onlyWhenSettled,
  ]);
  return { status: row!.status, moved: row!.moved > 0 };
}
