/**
 * Accepting a notification, once for every door it can come in by: the API (POST /v1/notifications) and the worker's
 * intake workflow, which runs it for the client SDK over Temporal. Both record the row first, then start the
 * notification's workflow, so one idempotency key is one notification whichever way it arrived, and in any order.
 */
import type { Client } from '@temporalio/client';
import { Prisma, type Db } from './db';
import { notificationIdFor, notificationWorkflowId } from './ids';
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

  const [user, template] = await Promise.all([
    db.user.findUnique({ where: { id: input.userId }, select: { id: true } }),
    db.template.findUnique({ where: { id: input.template }, select: { currentVersion: true } }),
  ]);
  if (!user) throw new NotificationRejectedError('user', input.userId);
  if (!template) throw new NotificationRejectedError('template', input.template);

  const sendAt = input.sendAt ? new Date(input.sendAt) : null;
  let row;
  try {
    row = await db.notification.create({
      data: {
        id: notificationIdFor(idempotencyKey),
        idempotencyKey,
        workflowId: notificationWorkflowId(idempotencyKey),
        userId: input.userId,
        templateId: input.template,
        templateVersion: template.currentVersion,
        data: (input.data ?? {}) as Prisma.InputJsonValue,
        channels: input.channels ?? [],
        category: input.category ?? null,
        status: sendAt && sendAt.getTime() > now().getTime() ? 'scheduled' : 'accepted',
        sendAt,
        ...(input.escalation ? { escalation: input.escalation } : {}),
      },
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
