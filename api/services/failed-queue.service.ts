/**
 * The failed queue: list notifications by status (keyset pagination), re-drive the failed targets of one or many,
 * and record that a notification was opened (which ends an escalation's wait).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db, Prisma } from '../../platform/db';
import { redriveWorkflowId } from '../../contract/ids';
import type { BulkRetryInput, NotificationSummary, RedriveSkipped, RedriveStarted } from '../../contract/schemas';
import { NOTIFICATION_WORKFLOW, notificationOpenedSignal } from '../../contract/workflows/notification.definitions';
import { decodeKeysetCursor, keysetPage, NEWEST_FIRST, olderThan } from '../cursor';
import { HttpError, notFound } from '../errors';
import { toNotificationSummary } from './notifications.service';

const REDRIVABLE = ['failed', 'partially_delivered'];

export interface FailedQueueDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
}

export function createFailedQueueService({ db, temporal, taskQueue }: FailedQueueDeps) {
  /**
   * Starts re-drive n+1 of a notification. Its workflow id derives from the notification's and n, so concurrent
   * requests for the same notification start one run; the run claims n in the database before sending anything.
   */
  async function startRedrive(row: { id: string; workflowId: string; redrives: number }): Promise<number> {
    const n = row.redrives + 1;
    try {
      await temporal.workflow.start(NOTIFICATION_WORKFLOW, {
        taskQueue,
        workflowId: redriveWorkflowId(row.workflowId, n),
        args: [{ notificationId: row.id, redrive: n }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        throw new HttpError(503, 'temporal_unavailable', `could not start the re-drive: ${(error as Error).message}`);
      }
    }
    return n;
  }

  /** Each id given to a bulk re-drive that was not in its batch, and why: unknown, not failed, or not selected. */
  async function whyNotSelected(input: BulkRetryInput, statuses: string[], inBatch: Set<string>) {
    const ids = [...new Set(input.ids)].filter((id) => !inBatch.has(id));
    const rows = await db.notification.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } });
    const statusOf = new Map(rows.map((r) => [r.id, r.status]));
    return ids.map((id): RedriveSkipped => {
      const status = statusOf.get(id);
      if (status === undefined) {
        return { id, code: 'notification_not_found', reason: `notification ${JSON.stringify(id)} does not exist` };
      }
      if (!statuses.includes(status)) return { id, code: 'not_retryable', reason: `notification is ${status}` };
      // It can be re-driven, but this call left it out: created before `since`, or past `limit` (then `more` is true).
      return { id, code: 'not_selected', reason: 'created before `since`, or beyond `limit` (see `more`)' };
    });
  }

  return {
    async list(query: {
      status?: string[];
      userId?: string;
      template?: string;
      category?: string;
      eventId?: string;
      from?: string;
      to?: string;
      cursor?: string;
      limit: number;
    }): Promise<{ notifications: NotificationSummary[]; nextCursor: string | null }> {
      const where: Prisma.NotificationWhereInput = {
        ...(query.status ? { status: { in: query.status } } : {}),
        ...(query.userId ? { userId: query.userId } : {}),
        ...(query.template ? { templateId: query.template } : {}),
        ...(query.category ? { category: query.category } : {}),
        ...(query.eventId ? { idempotencyKey: query.eventId } : {}),
        ...(query.from || query.to
          ? {
              createdAt: {
                ...(query.from ? { gte: new Date(query.from) } : {}),
                ...(query.to ? { lt: new Date(query.to) } : {}),
              },
            }
          : {}),
        ...(query.cursor ? olderThan(decodeKeysetCursor(query.cursor)) : {}),
      };
      const rows = await db.notification.findMany({
        where,
        include: { deliveries: true },
        orderBy: NEWEST_FIRST,
        take: query.limit + 1,
      });
      const { page, nextCursor } = keysetPage(rows, query.limit);
      return { notifications: page.map(toNotificationSummary), nextCursor };
    },

    /** Re-drives one notification's failed targets; 409 unless it ended failed or partially delivered. */
    async retry(id: string): Promise<RedriveStarted> {
      const row = await db.notification.findUnique({ where: { id } });
      if (!row) throw notFound('notification', id);
      if (!REDRIVABLE.includes(row.status)) {
        throw new HttpError(
          409,
          'not_retryable',
          `notification is ${row.status}; only failed or partially delivered ones are re-driven`,
        );
      }
      return { id, status: 'sending', redrive: await startRedrive(row) };
    },

    async retryMany(input: BulkRetryInput) {
      const statuses = input.status ? [input.status].flat() : REDRIVABLE;
      const rows = await db.notification.findMany({
        where: {
          status: { in: statuses },
          ...(input.ids ? { id: { in: input.ids } } : {}),
          ...(input.since ? { createdAt: { gte: new Date(input.since) } } : {}),
        },
        select: { id: true, workflowId: true, redrives: true },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: input.limit + 1,
      });
      const batch = rows.slice(0, input.limit);
      const redriven: { id: string; redrive: number }[] = [];
      const skipped: RedriveSkipped[] = [];
      // A few starts at a time: a bulk re-drive after an outage must not flood Temporal itself.
      for (let i = 0; i < batch.length; i += 20) {
        const results = await Promise.allSettled(batch.slice(i, i + 20).map((row) => startRedrive(row)));
        results.forEach((result, j) => {
          const row = batch[i + j]!;
          if (result.status === 'fulfilled') redriven.push({ id: row.id, redrive: result.value });
          else {
            const error = result.reason as Error;
            skipped.push({
              id: row.id,
              code: error instanceof HttpError ? error.code : 'internal_error',
              reason: error.message,
            });
          }
        });
      }
      if (input.ids) skipped.push(...(await whyNotSelected(input, statuses, new Set(batch.map((r) => r.id)))));
      return { redriven, skipped, more: rows.length > input.limit };
    },

    /** Records the first open and tells the workflow, so a pending escalation is not sent. */
    async opened(id: string): Promise<{ id: string; openedAt: string }> {
      const row = await db.notification.findUnique({ where: { id } });
      if (!row) throw notFound('notification', id);
      let openedAt = row.openedAt;
      if (!openedAt) {
        openedAt = new Date();
        await db.notification.updateMany({ where: { id, openedAt: null }, data: { openedAt } });
      }
      try {
        await temporal.workflow.getHandle(row.workflowId).signal(notificationOpenedSignal);
      } catch (error) {
        // A finished workflow needs no signal; the database holds the open either way (the workflow re-reads it).
        if (!(error instanceof WorkflowNotFoundError) && !/completed|closed/i.test((error as Error).message ?? '')) {
          throw new HttpError(
            503,
            'temporal_unavailable',
            `could not signal the notification: ${(error as Error).message}`,
          );
        }
      }
      return { id, openedAt: openedAt.toISOString() };
    },
  };
}
export type FailedQueueService = ReturnType<typeof createFailedQueueService>;
