/**
 * Activities for delivery control: the workflow's policy (retries per channel, from configuration), the per-user
 * throttle request, failover to a secondary provider, escalation to another channel, and re-driving failed targets.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PrismaClient } from '../generated/prisma/client';
import type { ChannelPolicy, DeliveryConfig } from '../lib/delivery-config';
import { newDeliveryId } from '../lib/ids';
import { preferencesSchema, templateInputSchema } from '../lib/schemas';
import { requestThrottleGrant } from '../lib/user-throttle';
import type { ChannelGrant, ThrottleRequest } from '../workflows/user-throttle.definitions';
import { NON_RETRYABLE, scrub } from './delivery-failure';
import { resolveChannels, type CategoryPolicy } from './preferences/resolve-channels';
import type { Channel } from './providers/provider.types';
import type { ProviderRegistry } from './providers/registry';
import { pickLocale, renderChannels, TemplateRenderError } from './templates/render';

export interface PlannedDelivery {
  deliveryId: string;
  channel: Channel;
  /** The provider the delivery starts with (failover compares against it, so a retried failover is not undone). */
  provider?: string;
}

export interface DeliveryPolicy {
  channels: Record<Channel, ChannelPolicy>;
}

export interface DeliveryControlDeps {
  db: PrismaClient;
  providers: ProviderRegistry;
  delivery: DeliveryConfig;
  clock: () => Date;
}

const REDRIVABLE = ['failed', 'partially_delivered'];

export function createDeliveryControlActivities({ db, providers, delivery, clock }: DeliveryControlDeps) {
  return {
    /**
     * The retry policy and timeouts per channel, from this worker's configuration. Run as a local activity: its
     * answer is recorded in the workflow's history, so a replay on a worker with other settings stays deterministic.
     */
    async deliveryPolicy(): Promise<DeliveryPolicy> {
      return { channels: delivery.channels };
    },

    /**
     * Asks the user's throttle workflow when each channel may send (or whether it is dropped). Critical categories
     * and channels no rule covers are granted at once without touching the throttle workflow.
     */
    async requestThrottle(notificationId: string, channels: Channel[]): Promise<{ grants: ChannelGrant[] }> {
      const now = clock().toISOString();
      const notification = await db.notification.findUnique({
        where: { id: notificationId },
        select: { userId: true, category: true },
      });
      const all = (): { grants: ChannelGrant[] } => ({
        grants: channels.map((channel) => ({ channel, decision: 'send', at: now })),
      });
      if (!notification) return all();
      const category = notification.category
        ? await db.category.findUnique({ where: { name: notification.category }, select: { critical: true } })
        : null;
      if (category?.critical) return all();
      const request: ThrottleRequest = {
        requestId: notificationId,
        category: notification.category,
        channels: channels
          .map((channel) => ({
            channel,
            rules: delivery.throttle.rules.filter(
              (rule) =>
                (rule.channel === undefined || rule.channel === channel) &&
                (rule.category === undefined || rule.category === notification.category),
            ),
            policy:
              (notification.category ? delivery.throttle.categories[notification.category] : undefined) ??
              delivery.throttle.defaultPolicy,
          }))
          .filter((c) => c.rules.length > 0),
        quietPeriodMs: delivery.throttle.quietPeriodMs,
        maxRequestsPerRun: delivery.throttle.maxRequestsPerRun,
      };
      if (request.channels.length === 0) return all();
      const { client, info } = Context.current();
      const answer = await requestThrottleGrant(client, info.taskQueue, notification.userId, request);
      const decided = new Set(answer.grants.map((g) => g.channel));
      return { grants: [...answer.grants, ...all().grants.filter((g) => !decided.has(g.channel))] };
    },

    /** Over the limit under the `drop` policy: the channel's targets are skipped with the reason. */
    async dropDeliveries(notificationId: string, channel: Channel, reason: string): Promise<void> {
      await db.delivery.updateMany({
        where: { notificationId, channel, status: 'pending' },
        data: { status: 'skipped', error: reason },
      });
      await db.notification.update({ where: { id: notificationId }, data: { error: reason } });
    },

    /**
     * Moves a delivery from its primary provider `from` to the channel's secondary, when there is one; returns the
     * secondary, or null. Idempotent: a retry after the switch finds it done and answers the same.
     */
    async failoverDelivery(deliveryId: string, from: string): Promise<string | null> {
      const row = await db.delivery.findUnique({ where: { id: deliveryId } });
      if (!row || row.status !== 'pending') return null;
      const channel = row.channel as Channel;
      const to = providers.failoverFor(channel, from, delivery.channels[channel].failover);
      if (!to) return null;
      if (row.provider === to) return to;
      if (row.provider !== from) return null;
      await db.delivery.updateMany({
        where: { id: deliveryId, provider: from, status: 'pending' },
        data: { provider: to, error: row.error ? scrub(`${from} failed: ${row.error}`) : `${from} failed` },
      });
      return to;
    },

    /** Whether the notification was reported opened (the API records it before it signals the workflow). */
    async isOpened(notificationId: string): Promise<boolean> {
      const row = await db.notification.findUnique({ where: { id: notificationId }, select: { openedAt: true } });
      return Boolean(row?.openedAt);
    },

    /**
     * Escalation: renders the notification for one more channel and records its delivery, honouring the user's
     * preferences for that channel. Null when there is nothing to send (muted, no phone, no content for it).
     */
    async prepareEscalation(notificationId: string, channel: Channel): Promise<PlannedDelivery | null> {
      const notification = await db.notification.findUnique({
        where: { id: notificationId },
        include: { deliveries: { where: { channel } } },
      });
      if (!notification) return null;
      const existing = notification.deliveries[0];
      if (existing) {
        return existing.status === 'pending' ? { deliveryId: existing.id, channel, provider: existing.provider } : null;
      }
      const user = await db.user.findUnique({ where: { id: notification.userId }, include: { preferences: true } });
      const version = notification.templateVersion
        ? await db.templateVersion.findUnique({
            where: {
              templateId_version: { templateId: notification.templateId, version: notification.templateVersion },
            },
          })
        : null;
      if (!user || !version) return null;
      const channels = pickLocale(templateInputSchema.parse(version.content), user.locale);
      const categoryRow = notification.category
        ? await db.category.findUnique({ where: { name: notification.category } })
        : null;
      const [decision] = resolveChannels({
        templateChannels: (['push', 'sms', 'email'] as const).filter((c) => channels[c] !== undefined),
        requested: [channel],
        category: categoryRow
          ? {
              name: categoryRow.name,
              critical: categoryRow.critical,
              channels: (categoryRow.channels ?? {}) as CategoryPolicy['channels'],
            }
          : null,
        preferences: user.preferences
          ? preferencesSchema.parse({
              channels: user.preferences.channels,
              categories: user.preferences.categories,
              quietHours: user.preferences.quietHours,
            })
          : null,
      });
      const target = channel === 'sms' ? user.phone : channel === 'email' ? user.email : null;
      const skip = !decision?.send ? decision?.reason : !target ? `escalation_no_${channel}_target` : undefined;
      if (skip) {
        await db.delivery.create({
          data: {
            id: newDeliveryId(),
            notificationId,
            channel,
            provider: '-',
            target: '-',
            status: 'skipped',
            error: `escalation: ${skip}`,
          },
        });
        return null;
      }
      let rendered;
      try {
        rendered = await renderChannels(channels, [channel], {
          ...((notification.data ?? {}) as Record<string, unknown>),
          user: { id: user.id, name: user.name, locale: user.locale, data: user.data },
        });
      } catch (error) {
        if (error instanceof TemplateRenderError) {
          throw ApplicationFailure.nonRetryable(scrub(error.message), NON_RETRYABLE.TemplateError);
        }
        throw error;
      }
      const provider = providers.providerIdFor(channel);
      const row = await db.delivery.create({
        data: {
          id: newDeliveryId(),
          notificationId,
          channel,
          provider,
          target: target!,
          status: 'pending',
          content: rendered[channel] as never,
        },
      });
      return { deliveryId: row.id, channel, provider };
    },

    /**
     * Starts re-drive number `n` of a notification: its failed targets go back to pending (delivered ones are never
     * touched). Only one re-drive can claim a number, so two concurrent requests re-send nothing twice. Answers the
     * pending deliveries when this re-drive owns them, else `started: false`.
     */
    async beginRedrive(
      notificationId: string,
      n: number,
    ): Promise<{ started: boolean; deliveries: PlannedDelivery[] }> {
      const claimed = await db.$transaction(async (tx) => {
        const moved = await tx.notification.updateMany({
          where: { id: notificationId, redrives: n - 1, status: { in: REDRIVABLE } },
          data: { redrives: n, status: 'sending', completedAt: null, error: null },
        });
        if (moved.count === 0) return false;
        // Content erased with the user's personal data cannot be sent again; those stay failed.
        const failed = await tx.delivery.findMany({ where: { notificationId, status: 'failed' } });
        for (const d of failed.filter((f) => f.content !== null)) {
          const channel = d.channel as Channel;
          await tx.delivery.update({
            where: { id: d.id },
            data: {
              status: 'pending',
              error: null,
              errorKind: null,
              attempts: 0,
              // After an outage the primary is tried first again (a push token belongs to its provider).
              ...(channel !== 'push' ? { provider: providers.providerIdFor(channel) } : {}),
            },
          });
        }
        return true;
      });
      const row = await db.notification.findUnique({
        where: { id: notificationId },
        include: { deliveries: { where: { status: 'pending' } } },
      });
      // A retry of this activity after its transaction committed owns the re-drive too.
      if (!claimed && !(row && row.redrives === n && row.status === 'sending'))
        return { started: false, deliveries: [] };
      return {
        started: true,
        deliveries: (row?.deliveries ?? []).map((d) => ({
          deliveryId: d.id,
          channel: d.channel as Channel,
          provider: d.provider,
        })),
      };
    },
  };
}
