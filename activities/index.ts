/**
 * All of Herald's I/O for a notification: database reads and writes, template rendering and provider calls.
 * Built by a factory from its dependencies, so the worker wires real ones and tests pass fakes.
 */
import { Context } from '@temporalio/activity';
import type { PrismaClient } from '../generated/prisma/client';
import { acceptNotification, NotificationRejectedError } from '../domain/notifications/accept-notification';
import type { DeliveryConfig } from '../platform/config/delivery';
import type { Tracking } from '../domain/tracking/tracking';
import type { ActivityMetrics } from '../platform/metrics';
import { finishNotification } from '../domain/notifications/notification-outcome';
import { idempotencyKeySchema, sendNotificationSchema, type NotificationStatus } from '../contract/schemas';
import type { Sql } from '../platform/sql';
import { createDeliveryControlActivities } from './delivery-control.activities';
import { FINAL_STATUS, recordOutcomes, type TargetOutcome } from './delivery/outcomes';
import { createChannelSender } from './delivery/send-channel';
import { createNotificationPlanning } from './notification/plan-notification';
import type { ProviderHealth } from './provider-health';
import type { ProviderRegistry } from './providers/registry';
import type { NotificationIntakeInput, NotificationIntakeResult } from '../contract/workflows/notification.definitions';

export interface ActivityDeps {
  db: PrismaClient;
  /** Plain SQL on the same database: the hot path's statements (platform/sql.ts). */
  sql: Sql;
  providers: ProviderRegistry;
  clock: () => Date;
  /** Tracking links, open pixel and List-Unsubscribe (absent: messages go out as rendered). */
  tracking?: Tracking;
  /** Throttle, retry, failover and alert settings. */
  delivery: DeliveryConfig;
  /** Where provider outcomes are counted for the failure-rate alert (one per process). */
  health: ProviderHealth;
  /** Prometheus counters and provider latency (platform/metrics.ts); absent in unit tests. */
  metrics?: ActivityMetrics;
  /** Called when a courtesy record of provider answers fails (the workflow records them instead). */
  onRecordError?: (error: unknown) => void;
}

export type { PlannedDelivery, NotificationPlan, DeliveryPolicy } from './notification/plan-notification';
export type { TargetOutcome } from './delivery/outcomes';

export function createActivities({
  db,
  sql,
  providers,
  clock,
  tracking,
  metrics,
  delivery,
  health,
  onRecordError,
}: ActivityDeps) {
  const planning = createNotificationPlanning({
    sql,
    providers,
    tracking,
    delivery,
    clock,
    onStatus: (status) => metrics?.notificationStatus(status),
  });
  const sender = createChannelSender({ sql, providers, delivery, health, clock, metrics, onRecordError });

  return {
    ...createDeliveryControlActivities({ db, providers, delivery, clock }),

    /**
     * The API's accept use case, for the intake workflow (the client SDK over Temporal): validates the request with
     * the API's schema, records the notification and starts its workflow with the worker's client. A refusal is an
     * answer, not a failure; only an unreachable database or Temporal throws (and is retried).
     */
    async acceptNotification({
      idempotencyKey,
      notification,
    }: NotificationIntakeInput): Promise<NotificationIntakeResult> {
      const parsed = sendNotificationSchema.safeParse(notification);
      if (!parsed.success || !idempotencyKeySchema.safeParse(idempotencyKey).success) {
        const issues = (parsed.error?.issues ?? []).map((issue) => ({
          field: issue.path.map(String).join('.'),
          code: issue.code,
          message: issue.message,
        }));
        const first = issues[0] ?? { field: 'eventId', code: 'invalid', message: 'must be 1 to 255 characters' };
        return {
          accepted: false,
          code: 'validation_error',
          message: `${first.field}: ${first.message}`,
          details: issues.length > 0 ? issues : [first],
        };
      }
      const { client, info } = Context.current();
      try {
        const accepted = await acceptNotification(
          { sql, temporal: client, taskQueue: info.taskQueue, now: clock },
          idempotencyKey,
          parsed.data,
        );
        // Counted like the API counts a new notification (a replayed event id is not a new one).
        if (!accepted.replayed) metrics?.notificationStatus('accepted');
        return { accepted: true, ...accepted };
      } catch (error) {
        if (error instanceof NotificationRejectedError) {
          return {
            accepted: false,
            code: error.code,
            message: error.message,
            details: { resource: error.resource, id: error.id },
          };
        }
        throw error;
      }
    },

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

    ...planning,

    /**
     * One channel's provider calls, on the channel's task queue (activities/delivery/send-channel.ts): the answers
     * per target, durable in the workflow's history whatever the database says.
     */
    sendChannel: sender.sendChannel,

    /**
     * Records the providers' answers that are not recorded yet (a separate step that never calls a provider, retried
     * until the database is back) and the notification's final status from its deliveries, in one transaction.
     */
    async recordDeliveries(notificationId: string, outcomes: TargetOutcome[]): Promise<NotificationStatus> {
      const at = clock().getTime();
      const { failed, status, moved } = await sql.transaction(async (tx) => {
        const { failed } = await recordOutcomes(tx, outcomes);
        const [row] = await tx.query<{ status: NotificationStatus }>(FINAL_STATUS, [notificationId]);
        const status = row!.status;
        let moved = await finishNotification(tx, notificationId, status, { at });
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

export type Activities = ReturnType<typeof createActivities>;
