/**
 * Planning a notification: is it held by quiet hours, and if not, who gets what — preferences resolved, every channel
 * rendered, one delivery per target recorded — in one read and one write. Runs as a local activity in the
 * workflow's task: the decision and the plan are recorded in its history without a round trip through the server.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { DeliveryConfig } from '../../platform/config/delivery';
import { finishNotification } from '../../domain/notifications/notification-outcome';
import {
  preferencesSchema,
  templateInputSchema,
  TERMINAL_STATUSES,
  type NotificationStatus,
  type Preferences,
} from '../../contract/schemas';
import { TS, type Sql, type SqlQueryable } from '../../platform/sql';
import { emailDeliveryId, planDeliveries, type DeliveryRow, type PlanDeps } from '../channels/plan-deliveries';
import { NON_RETRYABLE } from '../../contract/failures';
import { scrub } from '../delivery-failure';
import { quietHoursRelease } from '../preferences/quiet-hours';
import { resolveChannels, type CategoryPolicy } from '../preferences/resolve-channels';
import type { Channel } from '../providers/provider.types';
import { pickLocale, renderChannels, TemplateRenderError } from '../../domain/templates/render';
import { loadNotificationContext, type NotificationContext } from './load-context';
import { CHANNELS } from '../../contract/channels';

export interface PlannedDelivery {
  deliveryId: string;
  channel: Channel;
  /** The provider the delivery starts with (failover compares against it, so a retried failover is not undone). */
  provider?: string;
}

export interface DeliveryPolicy {
  channels: DeliveryConfig['channels'];
}

export type NotificationPlan =
  /** Quiet hours hold it until `releaseAt` (recorded as `scheduled` with the reason). */
  | { kind: 'held'; releaseAt: string }
  | {
      kind: 'planned';
      status: NotificationStatus;
      deliveries: PlannedDelivery[];
      /** A throttle rule covers one of the channels being sent: the user's throttle workflow must be asked. */
      throttle: boolean;
      /** Retry policies and timeouts per channel, from this worker's configuration (recorded in history). */
      policy: DeliveryPolicy;
    };

export interface NotificationPlanDeps extends PlanDeps {
  sql: Sql;
  delivery: DeliveryConfig;
  clock: () => Date;
  onStatus?: (status: NotificationStatus) => void;
}

function categoryOf(ctx: NotificationContext): (CategoryPolicy & { quietHours: string }) | null {
  if (!ctx.category) return null;
  // A category the operator never defined is an ordinary one: the user's preferences for it still apply.
  return {
    name: ctx.category,
    critical: ctx.categoryRow?.critical ?? false,
    channels: (ctx.categoryRow?.channels ?? {}) as CategoryPolicy['channels'],
    quietHours: ctx.categoryRow?.quietHours ?? 'respect',
  };
}

function preferencesOf(ctx: NotificationContext): Preferences | null {
  return ctx.preferences ? preferencesSchema.parse(ctx.preferences) : null;
}

/** When quiet hours release the notification, or null when they do not hold it at `now`. */
function quietRelease(ctx: NotificationContext, now: number): number | null {
  const category = categoryOf(ctx);
  if (category?.critical || category?.quietHours === 'ignore') return null;
  const window = preferencesSchema.shape.quietHours.parse(
    (ctx.preferences as { quietHours?: unknown } | null)?.quietHours ?? null,
  );
  if (!ctx.user || !window) return null;
  return quietHoursRelease(now, ctx.user.timezone ?? 'UTC', window);
}

const INSERT_DELIVERIES = `
INSERT INTO deliveries (id, notification_id, channel, provider, target, device_id, status, error, content, attempts,
                        created_at, updated_at)
SELECT r.id, $1, r.channel, r.provider, r.target, r.device_id, r.status, r.error, r.content, 0, ${TS('$3')}, ${TS('$3')}
  FROM jsonb_to_recordset($2::jsonb)
       AS r(id text, channel text, provider text, target text, device_id text, status text, error text, content jsonb)
ON CONFLICT DO NOTHING`;

/**
 * The plan's write when something is to be sent, in one statement (atomic on its own): the deliveries, and the
 * notification `sending`.
 */
const PLAN_SENDING = `
WITH inserted AS (${INSERT_DELIVERIES} RETURNING id)
UPDATE notifications SET status = 'sending', held_until = NULL, hold_reason = NULL, updated_at = ${TS('$3')}
 WHERE id = $1 AND status IN ('accepted', 'scheduled', 'sending')`;

const deliveriesInput = (rows: DeliveryRow[]) =>
  JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      channel: r.channel,
      provider: r.provider,
      target: r.target,
      device_id: r.deviceId,
      status: r.status,
      error: r.error,
      content: r.content,
    })),
  );

async function insertDeliveries(db: SqlQueryable, notificationId: string, rows: DeliveryRow[], at: number) {
  await db.query(INSERT_DELIVERIES, [notificationId, deliveriesInput(rows), at]);
}

const toPlanned = (rows: { id: string; channel: string; provider: string; status: string }[]): PlannedDelivery[] =>
  rows
    .filter((d) => d.status === 'pending')
    .map((d) => ({ deliveryId: d.id, channel: d.channel as Channel, provider: d.provider }));

export function createNotificationPlanning(deps: NotificationPlanDeps) {
  const { sql, delivery, clock, tracking } = deps;

  function needsThrottle(ctx: NotificationContext, channels: Channel[]): boolean {
    if (categoryOf(ctx)?.critical) return false;
    return delivery.throttle.rules.some(
      (rule) =>
        (rule.channel === undefined || channels.includes(rule.channel)) &&
        (rule.category === undefined || rule.category === ctx.category),
    );
  }

  /** Loads, decides and renders; the caller writes. Throws a non-retryable failure for a permanent problem. */
  async function render(ctx: NotificationContext, requested: Channel[] | undefined, skipPrefix?: string) {
    const fail = async (message: string, type: string) => {
      if (!skipPrefix && (await finishNotification(sql, ctx.id, 'failed', { at: clock().getTime(), error: message }))) {
        deps.onStatus?.('failed');
      }
      return ApplicationFailure.nonRetryable(message, type);
    };
    if (!ctx.user) throw await fail('user not found', NON_RETRYABLE.NotFound);
    if (!ctx.template) throw await fail(`template ${ctx.templateId} not found`, NON_RETRYABLE.TemplateError);
    const channels = pickLocale(templateInputSchema.parse(ctx.template), ctx.user.locale);
    const decisions = resolveChannels({
      templateChannels: CHANNELS.filter((c) => channels[c] !== undefined),
      requested,
      category: categoryOf(ctx),
      preferences: preferencesOf(ctx),
    });
    const sending = decisions.filter((d) => d.send).map((d) => d.channel);
    const emailId = emailDeliveryId();
    const urls = tracking ? await tracking.urls() : undefined;
    try {
      const rendered = await renderChannels(channels, sending, {
        ...ctx.data,
        user: { id: ctx.user.id, name: ctx.user.name, locale: ctx.user.locale, data: ctx.user.data },
        unsubscribe_url: urls?.unsubscribe(emailId) ?? '',
      });
      return planDeliveries(deps, ctx, decisions, rendered, { emailId, urls, skipPrefix });
    } catch (error) {
      if (error instanceof TemplateRenderError) throw await fail(scrub(error.message), NON_RETRYABLE.TemplateError);
      throw error;
    }
  }

  return {
    /**
     * Quiet hours at the workflow's `now`, then the plan: one delivery per target (pending, or skipped with its
     * reason), the notification `sending` — or `suppressed` when nothing is left to send. Idempotent: a retry, or a
     * call for a notification already planned, returns the deliveries already recorded.
     */
    async planNotification(notificationId: string, now: string): Promise<NotificationPlan> {
      const ctx = await loadNotificationContext(sql, notificationId);
      if (!ctx)
        throw ApplicationFailure.nonRetryable(`notification ${notificationId} not found`, NON_RETRYABLE.NotFound);
      const policy = { channels: delivery.channels };
      const planned = (status: NotificationStatus, deliveries: PlannedDelivery[]): NotificationPlan => ({
        kind: 'planned',
        status,
        deliveries,
        throttle: needsThrottle(ctx, [...new Set(deliveries.map((d) => d.channel))]),
        policy,
      });
      if (ctx.deliveries.length > 0 || TERMINAL_STATUSES.includes(ctx.status as NotificationStatus)) {
        return planned(ctx.status as NotificationStatus, toPlanned(ctx.deliveries));
      }

      const release = quietRelease(ctx, Date.parse(now));
      if (release !== null) {
        const releaseAt = new Date(release).toISOString();
        await sql.query(
          `UPDATE notifications SET status = 'scheduled', held_until = ${TS('$2')}, hold_reason = 'quiet_hours',
                  updated_at = ${TS('$3')}
            WHERE id = $1 AND status IN ('accepted', 'scheduled', 'sending')`,
          [notificationId, release, clock().getTime()],
        );
        return { kind: 'held', releaseAt };
      }

      const rows = await render(ctx, ctx.channels.length > 0 ? (ctx.channels as Channel[]) : undefined);
      const pending = rows.filter((r) => r.status === 'pending');
      const status: NotificationStatus = pending.length > 0 ? 'sending' : 'suppressed';
      const at = clock().getTime();
      if (status === 'sending') {
        await sql.query(PLAN_SENDING, [notificationId, deliveriesInput(rows), at]);
      } else {
        await sql.transaction(async (tx) => {
          await insertDeliveries(tx, notificationId, rows, at);
          await finishNotification(tx, notificationId, 'suppressed', {
            at,
            error: 'nothing to send after preferences',
          });
        });
      }
      deps.onStatus?.(status);
      return planned(
        status,
        pending.map((r) => ({ deliveryId: r.id, channel: r.channel, provider: r.provider })),
      );
    },

    /**
     * Escalation: the notification for one more channel, planned exactly as the first plan plans that channel (the
     * same layout, unsubscribe link and tracked links), honouring the user's preferences for it. Empty when there is
     * nothing to send (muted, no phone, no content for it); the skipped row says why.
     */
    async planEscalation(notificationId: string, channel: Channel): Promise<PlannedDelivery[]> {
      const ctx = await loadNotificationContext(sql, notificationId);
      if (!ctx || !ctx.user || !ctx.template) return [];
      const existing = ctx.deliveries.filter((d) => d.channel === channel);
      if (existing.length > 0) return toPlanned(existing);
      const rows = await render(ctx, [channel], 'escalation: ');
      await insertDeliveries(sql, notificationId, rows, clock().getTime());
      return toPlanned(rows);
    },
  };
}
