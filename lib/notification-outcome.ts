/**
 * The one place where a notification enters a final status. A notification that belongs to a campaign run is
 * counted in that run's counters in the same transaction, exactly once (a retried activity or a second writer finds
 * the status already final and counts nothing), so a run's progress is a sum of a few counter rows rather than a
 * count over its notifications.
 */
import type { Db, Prisma } from './db';
import { TERMINAL_STATUSES, type NotificationStatus } from './schemas';

/** Rows per run that the counters are spread over: finishing notifications rarely wait on each other's row lock. */
export const COUNTER_SHARDS = 8;

export type RunCounter = 'started' | 'delivered' | 'failed' | 'suppressed' | 'canceled';

type Tx = Prisma.TransactionClient;

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

export async function incrementRunCounter(tx: Tx, runId: string, counter: RunCounter): Promise<void> {
  // Random, not hashed: any shard will do, and contention is what we are spreading.
  const shard = Math.floor(Math.random() * COUNTER_SHARDS);
  await tx.campaignRunCounter.updateMany({ where: { runId, shard }, data: { [counter]: { increment: 1 } } });
}

const NON_TERMINAL = ['accepted', 'scheduled', 'sending'] satisfies NotificationStatus[];

/**
 * Moves a notification from one of `from` (default: any non-final status) to the final `status`, with extra columns
 * in `data`. Returns false when it was not in one of those statuses (nothing written, nothing counted).
 */
export async function finishNotification(
  db: Db,
  id: string,
  status: NotificationStatus,
  data: Omit<Prisma.NotificationUpdateManyMutationInput, 'status'> = {},
  from: readonly NotificationStatus[] = NON_TERMINAL,
): Promise<boolean> {
  if (!TERMINAL_STATUSES.includes(status)) throw new Error(`${status} is not a final status`);
  return db.$transaction(async (tx) => finishNotificationIn(tx, id, status, data, from));
}

/** The same, inside a transaction the caller already holds. */
export async function finishNotificationIn(
  tx: Tx,
  id: string,
  status: NotificationStatus,
  data: Omit<Prisma.NotificationUpdateManyMutationInput, 'status'> = {},
  from: readonly NotificationStatus[] = NON_TERMINAL,
): Promise<boolean> {
  const moved = await tx.notification.updateManyAndReturn({
    where: { id, status: { in: [...from] } },
    data: { ...data, status },
    select: { campaignRunId: true },
  });
  const row = moved[0];
  if (!row) return false;
  const counter = counterFor(status);
  if (row.campaignRunId && counter) await incrementRunCounter(tx, row.campaignRunId, counter);
  return true;
}
