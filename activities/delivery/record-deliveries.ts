import type { NotificationStatus } from '../../contract/schemas';
import type { ActivityMetrics } from '../../platform/metrics';
import type { Sql } from '../../platform/sql';
import { finishFromDeliveries } from '../../domain/notifications/notification-outcome';
import { recordOutcomes, type TargetOutcome } from './outcomes';

export interface RecordDeliveriesDeps {
  sql: Sql;
  clock: () => Date;
  metrics: ActivityMetrics | undefined;
}

export function createRecordDeliveries({ sql, clock, metrics }: RecordDeliveriesDeps) {
  return {
    /**
     * Records the providers' answers that are not recorded yet (a separate step that never calls a provider, retried
     * until the database is back) and the notification's final status from its deliveries, in one transaction.
     */
    async recordDeliveries(notificationId: string, outcomes: TargetOutcome[]): Promise<NotificationStatus> {
      const at = clock().getTime();
      const { failed, status, moved } = await sql.transaction(async (tx) => {
        const { failed } = await recordOutcomes(tx, outcomes);
        const finished = await finishFromDeliveries(tx, notificationId, at);
        const { status } = finished;
        let moved = finished.moved;
        if (!moved) {
          // Escalation after a final status: the status follows the deliveries (never undoing a cancel).
          const rows = await tx.query(
            `UPDATE notifications SET status = $2 WHERE id = $1 AND status <> $2
                AND status IN ('delivered', 'partially_delivered', 'failed', 'suppressed') RETURNING id`,
            [notificationId, status],
          );
          moved = rows.length > 0;
        }
        return { failed, status, moved };
      });
      for (const d of failed) metrics?.delivery(d.channel, d.provider, 'failed');
      if (moved) metrics?.notificationStatus(status);
      return status;
    },
  };
}
