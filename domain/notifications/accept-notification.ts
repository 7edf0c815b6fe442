/**
 * Accepting a notification, once for every door it can come in by: the API (POST /v1/notifications), the worker's
 * intake workflow, which runs it for the client SDK over Temporal, and campaign runs (one call per recipient). All
 * record the row first, then start the notification's workflow, so one idempotency key is one notification whichever
 * way it arrived, and in any order.
 */
import type { Client } from '@temporalio/client';
import { notificationIdFor, notificationWorkflowId } from '../../contract/ids';
import { randomShard } from './notification-outcome';
import { MS, TS, type Sql } from '../../platform/sql';
import type { NotificationStatus, SendNotificationInput } from '../../contract/schemas';
import { startNotificationWorkflow } from './start-notification';
import { digestRecord, resolveDigest, signalDigest, type DigestRecord } from '../digest/start-digest';
import type { Escalation } from '../../contract/workflows/notification.definitions';

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
  /** Plain SQL (platform/sql.ts): accepting is on every notification's path, two statements in all (campaign too). */
  sql: Sql;
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

interface Row {
  id: string;
  idempotency_key: string;
  status: string;
  send_at_ms: number | null;
  escalation: unknown;
  digest: DigestRecord | null;
}

const RETURNING = `id, idempotency_key, status, ${MS('send_at')} AS send_at_ms, escalation, digest`;

/** The key's notification if it exists, else whether the user exists and the template's current version. */
const LOOKUP = `
SELECT (SELECT json_build_object('id', n.id, 'idempotency_key', n.idempotency_key, 'status', n.status,
                                 'send_at_ms', ${MS('n.send_at')}, 'escalation', n.escalation, 'digest', n.digest)
          FROM notifications n WHERE n.idempotency_key = $1) AS existing,
       EXISTS (SELECT 1 FROM users WHERE id = $2) AS user_exists,
       (SELECT current_version FROM templates WHERE id = $3) AS current_version,
       (SELECT json_build_object('critical', c.critical, 'digest', c.digest, 'allow', c.allow_digest_preference)
          FROM categories c WHERE c.name = $4) AS category,
       (SELECT p.categories -> $4 -> 'digest' FROM preferences p WHERE p.user_id = $2) AS digest_choice`;

/**
 * The row, in one statement. A campaign recipient's (`$13`, its run) only while the run is running — FOR SHARE: a
 * cancel, an UPDATE of the run's row, waits for inserts in progress, and an insert after it reads the run as it left
 * it — and counted as started in the run's counters in the same breath; `run_status` says why nothing was inserted.
 */
const INSERT = `
WITH run AS (
  SELECT status FROM campaign_runs WHERE id = $13 FOR SHARE
), inserted AS (
  INSERT INTO notifications (id, idempotency_key, workflow_id, user_id, template_id, template_version, data, channels,
                             category, status, send_at, escalation, campaign_run_id, created_at, updated_at, digest)
  SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::int, $7::jsonb, $8::text[], $9::text, $10::text,
         ${TS('$11')}, $12::jsonb, $13::text, ${TS('$14')}, ${TS('$14')}, $15::jsonb
   WHERE $13::text IS NULL OR (SELECT status FROM run) = 'running'
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING ${RETURNING}
), counted AS (
  UPDATE campaign_run_counters SET started = started + 1
   WHERE run_id = $13 AND shard = $16 AND EXISTS (SELECT 1 FROM inserted)
)
SELECT (SELECT status FROM run) AS run_status, i.* FROM (SELECT 1) AS one LEFT JOIN inserted AS i ON true`;

export async function acceptNotification(
  { sql, temporal, taskQueue, now = () => new Date() }: AcceptNotificationDeps,
  idempotencyKey: string,
  input: SendNotificationInput,
  { campaignRunId, templateVersion: pinnedVersion }: AcceptOptions = {},
): Promise<AcceptedNotification> {
  async function ensureStarted(row: Row) {
    // A digested event lives in its digest's workflow (docs/digests.md): signalled again while it waits there (the
    // workflow ignores an event it holds; one a digest already carried is no longer `batched`).
    if (row.digest) {
      if (row.status !== 'batched') return;
      try {
        await signalDigest(temporal, taskQueue, row.digest, row.id);
      } catch (error) {
        throw new WorkflowStartError(`could not start the digest: ${(error as Error).message}`);
      }
      return;
    }
    // Only a notification that has not progressed can be missing its workflow (its start failed after the insert).
    if (row.status !== 'accepted' && row.status !== 'scheduled') return;
    try {
      await startNotificationWorkflow(temporal, taskQueue, row.idempotency_key, {
        notificationId: row.id,
        ...(row.send_at_ms !== null ? { sendAt: new Date(row.send_at_ms).toISOString() } : {}),
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

  const [found] = await sql.query<{
    existing: Row | null;
    user_exists: boolean;
    current_version: number | null;
    category: { critical: boolean; digest: unknown; allow: boolean } | null;
    digest_choice: unknown;
  }>(LOOKUP, [idempotencyKey, input.userId, input.template, input.category ?? null]);
  if (found?.existing) return replay(found.existing);
  if (!found?.user_exists) throw new NotificationRejectedError('user', input.userId);
  const templateVersion = pinnedVersion ?? found.current_version;
  if (templateVersion === null || templateVersion === undefined) {
    throw new NotificationRejectedError('template', input.template);
  }

  const at = now().getTime();
  const digestOf = resolveDigest({
    request: input.digest,
    category: found.category,
    choice: found.digest_choice,
    campaign: campaignRunId !== undefined,
  });
  const digest = digestOf
    ? digestRecord(digestOf, {
        userId: input.userId,
        template: input.template,
        category: input.category ?? null,
        channels: input.channels ?? [],
      })
    : null;
  // A batched event waits in its digest, not on its own send time.
  const sendAt = input.sendAt && !digest ? Date.parse(input.sendAt) : null;
  const params = [
    notificationIdFor(idempotencyKey),
    idempotencyKey,
    digest ? digest.workflowId : notificationWorkflowId(idempotencyKey),
    input.userId,
    input.template,
    templateVersion,
    JSON.stringify(input.data ?? {}),
    input.channels ?? [],
    input.category ?? null,
    digest ? 'batched' : sendAt !== null && sendAt > at ? 'scheduled' : 'accepted',
    sendAt,
    input.escalation && !digest ? JSON.stringify(input.escalation) : null,
    campaignRunId ?? null,
    at,
    digest ? JSON.stringify(digest) : null,
  ];
  const [result] = await sql.query<Partial<Row> & { run_status: string | null }>(INSERT, [...params, randomShard()]);
  if (campaignRunId && result?.run_status !== 'running') {
    throw new CampaignRunClosedError(`campaign run is ${result?.run_status ?? 'gone'}`);
  }
  const row = result?.id ? (result as Row) : undefined;
  if (!row) {
    // A concurrent request with the same key won the insert: answer with its notification.
    const [again] = await sql.query<{ existing: Row | null }>(LOOKUP, [
      idempotencyKey,
      input.userId,
      input.template,
      input.category ?? null,
    ]);
    if (!again?.existing) throw new Error(`notification with key ${idempotencyKey} vanished`);
    return replay(again.existing);
  }
  await ensureStarted(row);
  return { id: row.id, status: row.status as NotificationStatus, replayed: false };
}
