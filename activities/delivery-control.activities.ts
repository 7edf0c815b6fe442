/**
 * Activities for delivery control: the per-user throttle request, failover to a secondary provider, and re-driving
 * failed targets. (Escalation's plan is the notification's own: activities/notification/plan-notification.ts.)
 */
import { Context } from '@temporalio/activity';
import type { PrismaClient } from '../generated/prisma/client';
import type { DeliveryConfig } from '../platform/config/delivery';
import { requestThrottleGrant } from './user-throttle';
import type { ChannelGrant, ThrottleRequest } from '../contract/workflows/user-throttle.definitions';
import { scrub } from './delivery-failure';
import type { DeliveryPolicy, PlannedDelivery } from './notification/plan-notification';
import type { Channel } from './providers/provider.types';
import type { ProviderRegistry } from './providers/registry';

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
     * Starts re-drive number `n` of a notification: its failed targets go back to pending (delivered ones are never
     * touched). Only one re-drive can claim a number, so two concurrent requests re-send nothing twice. Answers the
     * pending deliveries when this re-drive owns them, else `started: false`.
     */
    async beginRedrive(
      notificationId: string,
      n: number,
    ): Promise<{ started: boolean; deliveries: PlannedDelivery[]; policy: DeliveryPolicy }> {
      const policy = { channels: delivery.channels };
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
        return { started: false, deliveries: [], policy };
      return {
        started: true,
        policy,
        deliveries: (row?.deliveries ?? []).map((d) => ({
          deliveryId: d.id,
          channel: d.channel as Channel,
          provider: d.provider,
        })),
      };
    },
  };
}
