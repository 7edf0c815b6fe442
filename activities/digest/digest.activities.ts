/**
 * The digest workflow's database steps (local activities): writing the digest notification and marking the events
 * it carries, cancelling one waiting event, and the next cron time in the user's zone.
 */
import { Context } from '@temporalio/activity';
import { parseCron, nextCronTime } from '../../contract/cron';
import { isTimeZone } from '../../contract/time-zone';
import { notificationIdFor, notificationWorkflowId } from '../../contract/ids';
import { finishNotification } from '../../domain/notifications/notification-outcome';
import { MS, TS, type Sql } from '../../platform/sql';
import { startNotificationWorkflow } from '../../domain/notifications/start-notification';
import type { DigestFlushInput, DigestFlushResult } from '../../contract/workflows/digest.definitions';
import { digestData } from '../../domain/digest/digest-data';

export interface DigestActivityDeps {
  sql: Sql;
  clock: () => Date;
}

/** The idempotency key of a digest: its workflow, the chain of runs and the batch number. Never reused. */
export const digestKey = (input: Pick<DigestFlushInput, 'digestWorkflowId' | 'chainId' | 'batch'>) =>
  `digest:${input.digestWorkflowId}:${input.chainId}:${input.batch}`;

const CLAIM = `
UPDATE notifications
   SET status = 'digested', digest_id = $2, completed_at = ${TS('$3')}, updated_at = ${TS('$3')}
 WHERE id = ANY($1::text[]) AND status = 'batched'
RETURNING id, data, template_version, ${MS('created_at')} AS at_ms`;

const INSERT_DIGEST = `
INSERT INTO notifications (id, idempotency_key, workflow_id, user_id, template_id, template_version, data, channels,
                           category, status, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::text[], $9, 'accepted', ${TS('$10')}, ${TS('$10')})
ON CONFLICT (idempotency_key) DO NOTHING`;

export function createDigestActivities({ sql, clock }: DigestActivityDeps) {
  return {
    /**
     * Writes the digest notification and marks each event it carries `digested` with its id, in one transaction,
     * then starts the digest's own notification workflow exactly as the accept path does (id from the digest's key,
     * USE_EXISTING, REJECT_DUPLICATE). Only events still `batched` are taken (a canceled one, or one another digest
     * already carried, is not), so every event is in exactly one digest. Idempotent: a retry finds the digest already
     * written and its workflow already started, so a digest is sent once.
     */
    async flushDigest(input: DigestFlushInput): Promise<DigestFlushResult> {
      const key = digestKey(input);
      const result = await writeDigest(input, key);
      if (result.sent) {
        const { client, info } = Context.current();
        await startNotificationWorkflow(client, info.taskQueue, key, { notificationId: result.notificationId });
      }
      return result;
    },

    /** One waiting event canceled (the workflow has taken it out of the open batch). */
    async cancelDigestEvent(notificationId: string): Promise<void> {
      await finishNotification(sql, notificationId, 'canceled', { at: clock().getTime(), from: ['batched'] });
    },

    /** The next time `cron` fires after `afterMs` in the user's time zone (UTC when unset or unknown). */
    async nextDigestAt(userId: string, cron: string, afterMs: number): Promise<number> {
      const [user] = await sql.query<{ timezone: string | null }>(`SELECT timezone FROM users WHERE id = $1`, [userId]);
      const zone = user?.timezone && isTimeZone(user.timezone) ? user.timezone : 'UTC';
      const parsed = parseCron(cron) ?? parseCron('0 9 * * *')!;
      return nextCronTime(parsed, zone, afterMs);
    },
  };

  async function writeDigest(input: DigestFlushInput, key: string): Promise<DigestFlushResult> {
    const id = notificationIdFor(key);
    const workflowId = notificationWorkflowId(key);
    const at = input.at;
    return sql.transaction(async (tx) => {
      const [existing] = await tx.query<{ count: number }>(
        `SELECT (SELECT count(*)::int FROM notifications e WHERE e.digest_id = n.id) AS count
             FROM notifications n WHERE n.idempotency_key = $1`,
        [key],
      );
      if (existing) return { sent: true, notificationId: id, workflowId, count: existing.count };
      const rows = await tx.query<{
        id: string;
        data: Record<string, unknown> | string | null;
        template_version: number | null;
        at_ms: number;
      }>(CLAIM, [input.eventIds, id, at]);
      if (rows.length === 0) return { sent: false };
      const events = rows
        .map((r) => ({
          id: r.id,
          data: (typeof r.data === 'string' ? JSON.parse(r.data) : (r.data ?? {})) as Record<string, unknown>,
          at: Number(r.at_ms),
          version: r.template_version,
        }))
        .sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
      const data = digestData(events, input.settings.listed, input.settings.distinct);
      await tx.query(INSERT_DIGEST, [
        id,
        key,
        workflowId,
        input.target.userId,
        input.target.template,
        events[events.length - 1]!.version,
        JSON.stringify(data),
        input.target.channels,
        input.target.category,
        at,
      ]);
      return { sent: true, notificationId: id, workflowId, count: events.length };
    });
  }
}

export type DigestActivities = ReturnType<typeof createDigestActivities>;
