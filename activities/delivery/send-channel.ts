/**
 * One channel's provider calls for one notification: every target of the channel (an iOS and an Android device, say)
 * in one activity on the channel's task queue, where the server enforces the channel's rate.
 *
 * Its result is the providers' answers, per target. The activity completes with them whatever the database says: the
 * answer is then durable in the workflow's history, and writing it to Herald's tables is done here only as a courtesy
 * (so the API shows it at once), bounded in time, and again by the workflow until it sticks. So a database outage can
 * delay a record but never makes Herald send a message twice.
 *
 * Retries come from the activity's retry policy: an attempt in which every target still waiting failed transiently
 * throws, and the engine retries it with backoff. An attempt in which some targets got an answer returns, and the
 * workflow calls the activity again for the others — so a retry never repeats a target that was answered.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DeliveryConfig } from '../../platform/config/delivery';
import type { ActivityMetrics, ProviderResult } from '../../platform/metrics';
import { MS, TS, type Sql } from '../../platform/sql';
import { createInboxStore } from '../../domain/inbox/store';
import type { NotificationStatus } from '../../contract/schemas';
import { NON_RETRYABLE } from '../../contract/failures';
import { scrub, toActivityFailure } from '../delivery-failure';
import type { ComposedEmail } from '../../domain/templates/compose-email';
import type { ProviderHealth } from '../provider-health';
import { ProviderError, type Channel, type SendResult } from '../providers/provider.types';
import type { ProviderRegistry } from '../providers/registry';
import type { RenderedChannels } from '../../domain/templates/render';
import { finishFromDeliveries } from '../../domain/notifications/notification-outcome';
import { recordOutcomes, type TargetOutcome } from './outcomes';

export interface ChannelSendInput {
  channel: Channel;
  deliveryIds: string[];
}

export interface ChannelSendDeps {
  sql: Sql;
  providers: ProviderRegistry;
  delivery: DeliveryConfig;
  health: ProviderHealth;
  clock: () => Date;
  metrics?: ActivityMetrics;
  /** How long the courtesy record may take before the answers are handed to the workflow unrecorded. */
  recordTimeoutMs?: number;
  onRecordError?: (error: unknown) => void;
}

interface AttemptRow {
  id: string;
  notification_id: string;
  channel: string;
  provider: string;
  target: string;
  status: string;
  provider_message_id: string | null;
  sent_ms: number | null;
  content: unknown;
  device: { token: string; platform: string; active: boolean } | string | null;
}

/**
 * The deliveries with their devices, the attempt number recorded on those still pending (so an operator sees attempts
 * that died mid-call). One statement for the whole channel.
 */
const START_ATTEMPT = `
UPDATE deliveries AS d
   SET attempts = CASE WHEN d.status = 'pending' THEN $2::int ELSE d.attempts END,
       updated_at = CASE WHEN d.status = 'pending' THEN ${TS('$3')} ELSE d.updated_at END
 WHERE d.id = ANY($1::text[])
RETURNING d.id, d.notification_id, d.channel, d.provider, d.target, d.status, d.provider_message_id, ${MS('d.sent_at')} AS sent_ms,
          d.content,
          (SELECT json_build_object('token', v.token, 'platform', v.platform, 'active', v.active)
             FROM devices AS v WHERE v.id = d.device_id) AS device`;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createChannelSender(deps: ChannelSendDeps) {
  const { sql, providers, delivery: settings, health, clock, metrics } = deps;

  async function call(channel: Channel, provider: string, send: () => Promise<SendResult>): Promise<SendResult> {
    const started = performance.now();
    let result: ProviderResult = 'ok';
    try {
      return await send();
    } catch (error) {
      result = error instanceof ProviderError ? error.kind : 'error';
      throw error;
    } finally {
      metrics?.providerCall(channel, provider, result, (performance.now() - started) / 1000);
    }
  }

  const inbox = createInboxStore(sql);
  /** The inbox item, written once per notification (a retry finds it written); a database error is retried. */
  async function deliverInbox(deliveryId: string): Promise<TargetOutcome> {
    try {
      const result = await inbox.deliver({ deliveryId, at: clock().getTime() });
      if (result.outcome === 'gone') {
        return {
          deliveryId,
          outcome: 'failed',
          errorType: NON_RETRYABLE.NotFound,
          message: result.reason,
          at: clock().getTime(),
          recorded: false,
        };
      }
      metrics?.delivery('inbox', 'inbox', 'sent');
      return { deliveryId, outcome: 'sent', providerMessageId: result.itemId, at: clock().getTime(), recorded: false };
    } catch (error) {
      return { deliveryId, outcome: 'retry', message: scrub((error as Error).message), errorType: 'DatabaseError' };
    }
  }

  /** One target: the provider's answer, never thrown. */
  async function sendOne(channel: Channel, row: AttemptRow): Promise<TargetOutcome> {
    const deliveryId = row.id;
    const failed = (errorType: string, message: string): TargetOutcome => ({
      deliveryId,
      outcome: 'failed',
      errorType,
      message,
      at: clock().getTime(),
      recorded: false,
    });
    if (row.status === 'sent') {
      // A retry after the provider accepted and the answer was recorded: never sent again.
      return {
        deliveryId,
        outcome: 'sent',
        ...(row.provider_message_id ? { providerMessageId: row.provider_message_id } : {}),
        at: row.sent_ms ?? clock().getTime(),
        recorded: true,
      };
    }
    if (row.status !== 'pending') return { deliveryId, outcome: 'skipped' };
    if (channel === 'inbox') return deliverInbox(deliveryId);

    let provider = row.provider;
    // A provider the operator marked down is skipped for the channel's secondary, when there is one.
    if (settings.providersDown.includes(provider)) {
      const secondary = providers.failoverFor(channel, provider, settings.channels[channel].failover);
      if (secondary) {
        await sql.query(`UPDATE deliveries SET provider = $2 WHERE id = $1 AND status = 'pending'`, [
          deliveryId,
          secondary,
        ]);
        provider = secondary;
      }
    }
    // The delivery row holds the channel's rendered content (erased with the user's personal data).
    const content = row.content as RenderedChannels[typeof channel] | null;
    if (!content) return failed(NON_RETRYABLE.NotFound, 'delivery content was erased');
    try {
      let result: SendResult;
      if (channel === 'push') {
        const device = (typeof row.device === 'string' ? JSON.parse(row.device) : row.device) as {
          token: string;
          platform: string;
          active: boolean;
        } | null;
        if (!device || !device.active) return failed(NON_RETRYABLE.InvalidRecipient, 'device is no longer registered');
        result = await call(channel, provider, () =>
          providers.get('push', provider).send({
            token: device.token,
            platform: device.platform as 'ios' | 'android' | 'web',
            message: content as NonNullable<RenderedChannels['push']>,
            idempotencyKey: deliveryId,
          }),
        );
      } else if (channel === 'sms') {
        result = await call(channel, provider, () =>
          providers.get('sms', provider).send({
            to: row.target,
            body: (content as NonNullable<RenderedChannels['sms']>).body,
            idempotencyKey: deliveryId,
          }),
        );
      } else {
        const { subject, html, text, headers } = content as ComposedEmail;
        result = await call(channel, provider, () =>
          providers.get('email', provider).send({
            to: row.target,
            subject,
            ...(html !== undefined ? { html } : {}),
            ...(text !== undefined ? { text } : {}),
            ...(headers ? { headers } : {}),
            idempotencyKey: deliveryId,
          }),
        );
      }
      health.record(provider, false);
      metrics?.delivery(channel, provider, 'sent');
      return {
        deliveryId,
        outcome: 'sent',
        ...(result.providerMessageId ? { providerMessageId: result.providerMessageId } : {}),
        at: clock().getTime(),
        recorded: false,
      };
    } catch (error) {
      const failure = toActivityFailure(error);
      // A dead token or a bad number is not the provider's fault; everything else counts against it.
      health.record(provider, failure.type !== NON_RETRYABLE.InvalidRecipient);
      if (failure.nonRetryable) return failed(failure.type ?? 'Error', failure.message);
      const retryAfterMs = error instanceof ProviderError ? error.details.retryAfterMs : undefined;
      return {
        deliveryId,
        outcome: 'retry',
        message: failure.message,
        errorType: failure.type ?? 'Error',
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    }
  }

  /** The notification's final status, written here when none of its deliveries is pending any more. */
  async function finishIfDone(notificationId: string): Promise<NotificationStatus | undefined> {
    const finished = await finishFromDeliveries(sql, notificationId, clock().getTime(), { onlyWhenSettled: true });
    if (!finished.moved) return undefined;
    metrics?.notificationStatus(finished.status);
    return finished.status;
  }

  return {
    /** Sends every pending target of one channel of a notification; answers per target (see the module's comment). */
    async sendChannel({ channel, deliveryIds }: ChannelSendInput): Promise<TargetOutcome[]> {
      const attempt = Context.current().info.attempt;
      const rows = await sql.query<AttemptRow>(START_ATTEMPT, [deliveryIds, attempt, clock().getTime()]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      // Answered by an earlier attempt (recorded as sent): returned as they are, but not progress of this attempt.
      const alreadySent = new Set(rows.filter((row) => row.status !== 'pending').map((row) => row.id));
      const outcomes = await Promise.all(
        deliveryIds.map((id): Promise<TargetOutcome> => {
          const row = byId.get(id);
          if (!row) {
            // Erased with its user, say: nothing to send, nothing to record.
            return Promise.resolve({
              deliveryId: id,
              outcome: 'failed',
              errorType: NON_RETRYABLE.NotFound,
              message: `delivery ${id} not found`,
              at: clock().getTime(),
              recorded: true,
            });
          }
          return sendOne(channel, row);
        }),
      );

      // The courtesy record: the answers are kept in any case (returned below), so a failure here changes nothing.
      // A refused request (InvalidRequest) is left to the workflow, which may still fail it over to another provider:
      // only its error is noted.
      const answered = outcomes.filter(
        (o) =>
          (o.outcome === 'sent' || (o.outcome === 'failed' && o.errorType !== NON_RETRYABLE.InvalidRequest)) &&
          !o.recorded,
      );
      const retrying = outcomes.filter((o) => o.outcome === 'retry');
      const noted: TargetOutcome[] = outcomes.flatMap((o) =>
        o.outcome === 'failed' && o.errorType === NON_RETRYABLE.InvalidRequest
          ? [{ deliveryId: o.deliveryId, outcome: 'retry' as const, message: o.message, errorType: o.errorType }]
          : [],
      );
      let recordedAll = true;
      if (answered.length > 0 || retrying.length > 0 || noted.length > 0) {
        try {
          const { failed } = await withTimeout(
            recordOutcomes(sql, [...answered, ...retrying, ...noted]),
            deps.recordTimeoutMs ?? 5_000,
          );
          for (const d of failed) metrics?.delivery(d.channel, d.provider, 'failed');
          for (const o of answered) if (o.outcome === 'sent' || o.outcome === 'failed') o.recorded = true;
        } catch (error) {
          recordedAll = false;
          deps.onRecordError?.(error);
        }
      }
      // Every target answered and recorded: if no other channel still has a target pending, this activity finishes
      // the notification, sparing the workflow its last database step. Without a lock: of two channels recording at
      // once, the one whose count runs last sees both records committed (each counts after its own commit), and a
      // second writer finds the status already final.
      const notificationId = rows[0]?.notification_id;
      if (recordedAll && retrying.length === 0 && noted.length === 0 && notificationId) {
        try {
          const final = await withTimeout(finishIfDone(notificationId), deps.recordTimeoutMs ?? 5_000);
          if (final) {
            for (const o of outcomes) if (o.outcome === 'sent' || o.outcome === 'failed') o.final = final;
          }
        } catch (error) {
          deps.onRecordError?.(error);
        }
      }
      const answeredNow = outcomes.some(
        (o) =>
          (o.outcome === 'sent' || o.outcome === 'failed') && byId.has(o.deliveryId) && !alreadySent.has(o.deliveryId),
      );

      if (retrying.length > 0 && !answeredNow) {
        // Nothing was answered in this attempt: the engine retries the whole attempt, with backoff.
        const waits = retrying.flatMap((o) => (o.outcome === 'retry' && o.retryAfterMs ? [o.retryAfterMs] : []));
        const first = retrying[0] as Extract<TargetOutcome, { outcome: 'retry' }>;
        throw ApplicationFailure.create({
          message: first.message,
          type: first.errorType,
          nonRetryable: false,
          // The provider's Retry-After, when it gave one (the longest, so no target is asked again too early).
          ...(waits.length > 0 ? { nextRetryDelay: Math.max(...waits) } : {}),
        });
      }
      return outcomes;
    },
  };
}
