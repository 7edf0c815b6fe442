import type { PrismaClient } from '../../generated/prisma/client';
import { finishNotification } from '../../domain/notifications/notification-outcome';
import type { Sql } from '../../platform/sql';

export interface SetNotificationStatusDeps {
  db: PrismaClient;
  sql: Sql;
  clock: () => Date;
}

export function createSetNotificationStatus({ db, sql, clock }: SetNotificationStatusDeps) {
  return {
    /**
     * Marks a notification as waiting (for its send time, or held by quiet hours until `heldUntil`), or canceled
     * before it was sent.
     */
    async setNotificationStatus(
      notificationId: string,
      status: 'scheduled' | 'canceled' | 'sending',
      hold?: { until: string; reason: string },
    ): Promise<void> {
      const data = {
        heldUntil: hold ? new Date(hold.until) : null,
        holdReason: hold?.reason ?? null,
        ...(status === 'canceled' ? { completedAt: clock() } : {}),
      };
      // A cancel is a final status: counted once for the notification's campaign run (the API may have written it).
      if (
        status !== 'canceled' ||
        !(await finishNotification(sql, notificationId, status, { at: clock().getTime() }))
      ) {
        await db.notification.update({ where: { id: notificationId }, data: { status, ...data } });
      }
      if (status === 'canceled') {
        await db.delivery.updateMany({
          where: { notificationId, status: 'pending' },
          data: { status: 'skipped', error: 'canceled' },
        });
      }
    },
  };
}
