import { Context } from '@temporalio/activity';
import { idempotencyKeySchema, sendNotificationSchema } from '../../contract/schemas';
import type {
  NotificationIntakeInput,
  NotificationIntakeResult,
} from '../../contract/workflows/notification.definitions';
import { acceptNotification, NotificationRejectedError } from '../../domain/notifications/accept-notification';
import type { ActivityMetrics } from '../../platform/metrics';
import type { Sql } from '../../platform/sql';

export interface AcceptIntakeDeps {
  sql: Sql;
  clock: () => Date;
  metrics: ActivityMetrics | undefined;
}

export function createAcceptIntake({ sql, clock, metrics }: AcceptIntakeDeps) {
  return {
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
  };
}
