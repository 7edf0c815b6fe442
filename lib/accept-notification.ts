/**
 * Accepting a notification, once for every door it can come in by: the API (POST /v1/notifications), the worker's
 * intake workflow, which runs it for the client SDK over Temporal, and campaign runs (one call per recipient). All
 * record the row first, then start the notification's workflow, so one idempotency key is one notification whichever
 * way it arrived, and in any order.
 */
import type { Client } from '@temporalio/client';
import { Prisma, type Db } from './db';
import { notificationIdFor, notificationWorkflowId } from './ids';
import { incrementRunCounter } from './notification-outcome';
import type { NotificationStatus, SendNotificationInput } from './schemas';
import { startNotificationWorkflow } from './start-notification';
import type { Escalation } from '../workflows/definitions';

/** The user or template a notification names does not exist: nothing was recorded, the key is still free. */
export class NotificationRejectedError extends Error {
  override readonly name = 'NotificationRejectedError';
  constructor(
    readonly resource: 'user' | 'template',
    readonly id: string,
  ) {
    super(`${resource} ${JSON.stringify(id)} does not exist`);
  }
  get code(): string {
    return `${this.resource}_not_found`;
  }
}

/** The campaign run this recipient belongs to is no longer running (it was canceled): nothing was recorded. */
export class CampaignRunClosedError extends Error {
  override readonly name = 'CampaignRunClosedError';
}

/** Temporal did not record the start; the notification row is kept, and the same key again starts it. */
export class WorkflowStartError extends Error {
  override readonly name = 'WorkflowStartError';
}

export interface AcceptNotificationDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  now?: () => Date;
}

export interface AcceptOptions {
  /**
   * The campaign run sending it: the notification is counted as started in the run's counters, in the same
   * transaction as its row, and refused once the run is no longer running (so once a cancel has answered, no further
   * recipient starts).
   */
  campaignRunId?: string;
  /** Render with this template version instead of the current one (a run pins the version it began with). */
  templateVersion?: number;
}

export interface AcceptedNotification {
  id: string;
  status: NotificationStatus;
  /** True when the key had already been accepted: this call changed nothing. */
  replayed: boolean;
}

export async function acceptNotification(
  { db, temporal, taskQueue, now = () => new Date() }: AcceptNotificationDeps,
  idempotencyKey: string,
  input: SendNotificationInput,
  { campaignRunId, templateVersion: pinnedVersion }: AcceptOptions = {},
): Promise<AcceptedNotification> {
  type Row = { id: string; idempotencyKey: string; status: string; sendAt: Date | null; escalation?: unknown };
  async function ensureStarted(row: Row) {
    // Only a notification that has not progressed can be missing its workflow (its start failed after the insert).
    if (row.status !== 'accepted' && row.status !== 'scheduled') return;
    try {
      await startNotificationWorkflow(temporal, taskQueue, row.idempotencyKey, {
        notificationId: row.id,
        ...(row.sendAt ? { sendAt: row.sendAt.toISOString() } : {}),
        ...(row.escalation ? { escalation: row.escalation as Escalation } : {}),
      });
    } catch (error) {
      throw new WorkflowStartError(`could not start the notification: ${(error as Error).message}`);
    }
  }
  const replay = async (row: Row) => {
    await ensureStarted(row);
    return { id: row.id, status: row.status as NotificationStatus, replayed: true };
  };

  const existing = await db.notification.findUnique({ where: { idempotencyKey } });
  if (existing) return replay(existing);

  const [user, templateVersion] = await Promise.all([
    db.user.findUnique({ where: { id: input.userId }, select: { id: true } }),
    pinnedVersion ??
      db.template
        .findUnique({ where: { id: input.template }, select: { currentVersion: true } })
        .then((template) => template?.currentVersion),
  ]);
  if (!user) throw new NotificationRejectedError('user', input.userId);
  if (templateVersion === undefined) throw new NotificationRejectedError('template', input.template);

  const sendAt = input.sendAt ? new Date(input.sendAt) : null;
  const data = {
    id: notificationIdFor(idempotencyKey),
    idempotencyKey,
    workflowId: notificationWorkflowId(idempotencyKey),
    userId: input.userId,
    templateId: input.template,
    templateVersion,
    data: (input.data ?? {}) as Prisma.InputJsonValue,
    channels: input.channels ?? [],
    category: input.category ?? null,
    status: sendAt && sendAt.getTime() > now().getTime() ? 'scheduled' : 'accepted',
    sendAt,
    campaignRunId: campaignRunId ?? null,
    ...(input.escalation ? { escalation: input.escalation } : {}),
  };
  let row;
  try {
    row = !campaignRunId
      ? await db.notification.create({ data })
      : await db.$transaction(async (tx) => {
          // FOR SHARE: a cancel (an UPDATE of this row) waits for inserts in progress, and inserts after it see it.
          const runs = await tx.$queryRaw<{ status: string }[]>`
            SELECT status FROM campaign_runs WHERE id = ${campaignRunId} FOR SHARE`;
          if (runs[0]?.status !== 'running') {
            throw new CampaignRunClosedError(`campaign run is ${runs[0]?.status ?? 'gone'}`);
          }
          const created = await tx.notification.create({ data });
          await incrementRunCounter(tx, campaignRunId, 'started');
          return created;
        });
  } catch (error) {
    // A concurrent request with the same key won the insert: answer with its notification.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      return replay(await db.notification.findUniqueOrThrow({ where: { idempotencyKey } }));
    }
    throw error;
  }
  await ensureStarted(row);
  return { id: row.id, status: row.status as NotificationStatus, replayed: false };
}
