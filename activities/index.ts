/**
 * All of Herald's I/O for a notification: database reads and writes, template rendering and provider calls.
 * Built by a factory from its dependencies, so the worker wires real ones and tests pass fakes.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { acceptNotification, NotificationRejectedError } from '../lib/accept-notification';
import { loadDeliveryConfig, type DeliveryConfig } from '../lib/delivery-config';
import { newDeliveryId } from '../lib/ids';
import type { Tracking } from '../lib/tracking/tracking';
import type { ActivityMetrics, ProviderResult } from '../lib/metrics';
import { finishNotification, finishNotificationIn } from '../lib/notification-outcome';
import {
  idempotencyKeySchema,
  preferencesSchema,
  sendNotificationSchema,
  templateInputSchema,
  TERMINAL_STATUSES,
  type NotificationStatus,
  type Preferences,
} from '../lib/schemas';
import { createDeliveryControlActivities, type PlannedDelivery } from './delivery-control.activities';
import { startDeliveryAttempt } from './delivery-attempt';
import { NON_RETRYABLE, scrub, toActivityFailure } from './delivery-failure';
import { composeEmail, type ComposedEmail } from './email/compose-email';
import { createProviderHealth, type ProviderHealth } from './provider-health';
import { quietHoursRelease } from './preferences/quiet-hours';
import { resolveChannels, type CategoryPolicy, type ChannelName } from './preferences/resolve-channels';
import { ProviderError, type Channel } from './providers/provider.types';
import type { ProviderRegistry } from './providers/registry';
import { pickLocale, renderChannels, TemplateRenderError, type RenderedChannels } from './templates/render';
import { flagContact, recordFailed, recordSent } from './tracking/delivery-outcomes';
import { LinkTable, rewriteTextLinks } from './tracking/rewrite-links';
import type { NotificationIntakeInput, NotificationIntakeResult } from '../workflows/definitions';

export interface ActivityDeps {
  db: PrismaClient;
  providers: ProviderRegistry;
  clock?: () => Date;
  /** Tracking links, open pixel and List-Unsubscribe (absent: messages go out as rendered). */
  tracking?: Tracking;
  /** Throttle, retry, failover and alert settings (defaults when absent). */
  delivery?: DeliveryConfig;
  /** Where provider outcomes are counted for the failure-rate alert (built from `delivery` when absent). */
  health?: ProviderHealth;
  /** Prometheus counters and provider latency (lib/metrics.ts); absent in unit tests. */
  metrics?: ActivityMetrics;
}

/**
 * What a delivery keeps of its rendered message once it is sent: only the tracked links' targets, which /t/<token>
 * redirects to. The text itself was needed only to send (and retry); kept, it would be personal data for nothing.
 * A failed delivery keeps its content, so the failed queue can re-drive it (it goes with the user's erasure).
 */
function afterSending(content: unknown): Prisma.InputJsonValue | typeof Prisma.DbNull {
  const links = (content as { links?: unknown } | null)?.links;
  return Array.isArray(links) && links.length > 0 ? { links } : Prisma.DbNull;
}

export type { PlannedDelivery } from './delivery-control.activities';

export interface PreparedNotification {
  status: NotificationStatus;
  deliveries: PlannedDelivery[];
}

export function createActivities({
  db,
  providers,
  clock = () => new Date(),
  tracking,
  metrics,
  delivery = loadDeliveryConfig({}),
  health = createProviderHealth({ db, alerts: delivery.alerts, clock }),
}: ActivityDeps) {
  /**
   * The category's policy. One the operator has not defined is an ordinary category (not critical, no defaults):
   * users' preferences for it still apply.
   */
  async function loadCategory(name: string): Promise<CategoryPolicy & { quietHours: string }> {
    const row = await db.category.findUnique({ where: { name } });
    return {
      name,
      critical: row?.critical ?? false,
      channels: (row?.channels ?? {}) as CategoryPolicy['channels'],
      quietHours: row?.quietHours ?? 'respect',
    };
  }

  /** Times one provider call and records its result by failure kind. */
  async function timed<T>(channel: Channel, provider: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let result: ProviderResult = 'ok';
    try {
      return await call();
    } catch (error) {
      result = error instanceof ProviderError ? error.kind : 'error';
      throw error;
    } finally {
      metrics?.providerCall(channel, provider, result, (performance.now() - started) / 1000);
    }
  }

  async function setStatus(notificationId: string, status: NotificationStatus, error?: string) {
    const data = {
      ...(error !== undefined ? { error } : {}),
      ...(TERMINAL_STATUSES.includes(status) ? { completedAt: clock() } : {}),
    };
    // Entering a final status counts once for the notification's campaign run (if any); a repeat just rewrites it.
    if (TERMINAL_STATUSES.includes(status) && (await finishNotification(db, notificationId, status, data))) {
      metrics?.notificationStatus(status);
      return;
    }
    await db.notification.update({ where: { id: notificationId }, data: { status, ...data } });
    metrics?.notificationStatus(status);
  }

  const settings = delivery;
  async function deliver(channel: Channel, deliveryId: string): Promise<{ providerMessageId?: string }> {
    // One statement: the delivery, its subject and device, and the attempt recorded before the provider is called.
    const delivery = await startDeliveryAttempt(db, deliveryId, Context.current().info.attempt, clock());
    if (!delivery) throw ApplicationFailure.nonRetryable(`delivery ${deliveryId} not found`, NON_RETRYABLE.NotFound);
    const subject = () => ({
      notificationId: delivery.notificationId,
      deliveryId,
      channel: delivery.channel,
      templateId: delivery.templateId,
      category: delivery.category,
      provider: delivery.provider,
    });
    // A retry after the provider accepted and the result was recorded must not send again.
    if (delivery.status === 'sent') {
      // The event may not have been recorded if the last attempt died right after the update (it is idempotent).
      await recordSent(db, subject(), delivery.sentAt ?? clock());
      return { providerMessageId: delivery.providerMessageId ?? undefined };
    }
    if (delivery.status !== 'pending') return {};

    // A provider the operator marked down is skipped for the channel's secondary, when there is one.
    if (settings.providersDown.includes(delivery.provider)) {
      const secondary = providers.failoverFor(channel, delivery.provider, settings.channels[channel].failover);
      if (secondary) {
        await db.delivery.update({ where: { id: deliveryId }, data: { provider: secondary } });
        delivery.provider = secondary;
      }
    }

    // The delivery row holds the channel's rendered content (erased with the user's personal data).
    const content = delivery.content as RenderedChannels[typeof channel];
    if (!content) throw ApplicationFailure.nonRetryable('delivery content was erased', NON_RETRYABLE.NotFound);
    try {
      let result: { providerMessageId?: string };
      if (channel === 'push') {
        const device = delivery.device;
        if (!device || !device.active) {
          throw ApplicationFailure.nonRetryable('device is no longer registered', NON_RETRYABLE.InvalidRecipient);
        }
        result = await timed(channel, delivery.provider, () =>
          providers.get('push', delivery.provider).send({
            token: device.token,
            platform: device.platform as 'ios' | 'android' | 'web',
            message: content as NonNullable<RenderedChannels['push']>,
            idempotencyKey: deliveryId,
          }),
        );
      } else if (channel === 'sms') {
        result = await timed(channel, delivery.provider, () =>
          providers.get('sms', delivery.provider).send({
            to: delivery.target,
            body: (content as NonNullable<RenderedChannels['sms']>).body,
            idempotencyKey: deliveryId,
          }),
        );
      } else {
        const { subject, html, text, headers } = content as ComposedEmail;
        result = await timed(channel, delivery.provider, () =>
          providers.get('email', delivery.provider).send({
            to: delivery.target,
            subject,
            ...(html !== undefined ? { html } : {}),
            ...(text !== undefined ? { text } : {}),
            ...(headers ? { headers } : {}),
            idempotencyKey: deliveryId,
          }),
        );
      }
      health.record(delivery.provider, false);
      const sentAt = clock();
      await db.delivery.update({
        where: { id: deliveryId },
        data: {
          status: 'sent',
          providerMessageId: result.providerMessageId ?? null,
          sentAt,
          error: null,
          errorKind: null,
          content: afterSending(content),
        },
      });
      await recordSent(db, subject(), sentAt);
      metrics?.delivery(channel, delivery.provider, 'sent');
      return result;
    } catch (error) {
      if (error instanceof ApplicationFailure) throw error;
      const failure = toActivityFailure(error);
      // A dead token or a bad number is not the provider's fault; everything else counts against it.
      health.record(delivery.provider, failure.type !== NON_RETRYABLE.InvalidRecipient);
      await db.delivery.update({
        where: { id: deliveryId },
        data: { error: failure.message, errorKind: failure.type ?? null },
      });
      if (failure.type === NON_RETRYABLE.InvalidRecipient && delivery.deviceId) {
        // A dead token is never used again; the user's other devices are unaffected.
        await db.device.update({
          where: { id: delivery.deviceId },
          data: { active: false, deactivatedAt: clock(), deactivationReason: failure.message },
        });
      } else if (failure.type === NON_RETRYABLE.InvalidRecipient && channel !== 'push') {
        // Likewise an address or number the provider refused as invalid: flagged until the user's contact changes.
        const notification = await db.notification.findUnique({
          where: { id: delivery.notificationId },
          select: { userId: true },
        });
        if (notification) {
          await flagContact(
            db,
            { userId: notification.userId, channel, target: delivery.target },
            failure.message,
            clock(),
          );
        }
      }
      throw failure;
    }
  }

  return {
    ...createDeliveryControlActivities({ db, providers, delivery, clock }),

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
          { db, temporal: client, taskQueue: info.taskQueue, now: clock },
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

    /**
     * Marks a notification as waiting (for its send time, or held by quiet hours until `heldUntil`), or canceled
     * before it was sent.
     */
    async setNotificationStatus(
      notificationId: string,
      status: 'scheduled' | 'canceled' | 'sending',
      hold?: { until: string; reason: string },
    ): Promise<void> {
      const data = {
        heldUntil: hold ? new Date(hold.until) : null,
        holdReason: hold?.reason ?? null,
        ...(status === 'canceled' ? { completedAt: clock() } : {}),
      };
      // A cancel is a final status: counted once for the notification's campaign run (the API may have written it).
      if (status !== 'canceled' || !(await finishNotification(db, notificationId, status, data))) {
        await db.notification.update({ where: { id: notificationId }, data: { status, ...data } });
      }
      if (status === 'canceled') {
        await db.delivery.updateMany({
          where: { notificationId, status: 'pending' },
          data: { status: 'skipped', error: 'canceled' },
        });
      }
    },

    /**
     * Whether the user's quiet hours hold this notification at `now` (the workflow's clock), and until when. Read
     * fresh every time, so a user who changes their window or time zone while a notification waits gets it applied.
     */
    async checkQuietHours(notificationId: string, now: string): Promise<{ releaseAt: string | null }> {
      const notification = await db.notification.findUnique({ where: { id: notificationId } });
      if (!notification) return { releaseAt: null };
      const category = notification.category ? await loadCategory(notification.category) : null;
      if (category?.critical || category?.quietHours === 'ignore') return { releaseAt: null };
      const [user, preferences] = await Promise.all([
        db.user.findUnique({ where: { id: notification.userId }, select: { timezone: true } }),
        db.preference.findUnique({ where: { userId: notification.userId }, select: { quietHours: true } }),
      ]);
      const window = preferencesSchema.shape.quietHours.parse(preferences?.quietHours ?? null);
      if (!user || !window) return { releaseAt: null };
      const release = quietHoursRelease(Date.parse(now), user.timezone ?? 'UTC', window);
      return { releaseAt: release === null ? null : new Date(release).toISOString() };
    },

    /**
     * Loads the user, devices, preferences and the template version, renders every channel that will be sent, and
     * records one delivery per target. Idempotent: a retry returns the deliveries already recorded.
     */
    async prepareNotification(notificationId: string): Promise<PreparedNotification> {
      const notification = await db.notification.findUnique({
        where: { id: notificationId },
        include: { deliveries: true },
      });
      if (!notification)
        throw ApplicationFailure.nonRetryable(`notification ${notificationId} not found`, NON_RETRYABLE.NotFound);
      if (notification.deliveries.length > 0 || TERMINAL_STATUSES.includes(notification.status as NotificationStatus)) {
        return {
          status: notification.status as NotificationStatus,
          deliveries: notification.deliveries
            .filter((d) => d.status === 'pending')
            .map((d) => ({ deliveryId: d.id, channel: d.channel as Channel, provider: d.provider })),
        };
      }

      const fail = async (message: string, type: string) => {
        await setStatus(notificationId, 'failed', message);
        return ApplicationFailure.nonRetryable(message, type);
      };
      const user = await db.user.findUnique({
        where: { id: notification.userId },
        include: { devices: { where: { active: true }, orderBy: { createdAt: 'asc' } }, preferences: true },
      });
      if (!user) throw await fail('user not found', NON_RETRYABLE.NotFound);
      const version = notification.templateVersion
        ? await db.templateVersion.findUnique({
            where: {
              templateId_version: { templateId: notification.templateId, version: notification.templateVersion },
            },
          })
        : null;
      if (!version) throw await fail(`template ${notification.templateId} not found`, NON_RETRYABLE.TemplateError);
      const template = templateInputSchema.parse(version.content);
      const channels = pickLocale(template, user.locale);
      const preferences: Preferences | null = user.preferences
        ? preferencesSchema.parse({
            channels: user.preferences.channels,
            categories: user.preferences.categories,
            quietHours: user.preferences.quietHours,
          })
        : null;

      const decisions = resolveChannels({
        templateChannels: (Object.keys(channels) as ChannelName[]).filter((c) => channels[c] !== undefined),
        requested: notification.channels.length > 0 ? (notification.channels as ChannelName[]) : undefined,
        category: notification.category ? await loadCategory(notification.category) : null,
        preferences,
      });
      const sending = decisions.filter((d) => d.send).map((d) => d.channel);
      // The email's delivery id is known before rendering, so the body can link to its own unsubscribe URL.
      const emailDeliveryId = newDeliveryId();
      const urls = tracking ? await tracking.urls() : undefined;
      let rendered: RenderedChannels;
      try {
        rendered = await renderChannels(channels, sending, {
          ...((notification.data ?? {}) as Record<string, unknown>),
          user: { id: user.id, name: user.name, locale: user.locale, data: user.data },
          unsubscribe_url: urls?.unsubscribe(emailDeliveryId) ?? '',
        });
      } catch (error) {
        if (error instanceof TemplateRenderError) throw await fail(scrub(error.message), NON_RETRYABLE.TemplateError);
        throw error;
      }

      type Row = {
        id: string;
        channel: Channel;
        provider: string;
        target: string;
        deviceId?: string;
        status: 'pending' | 'skipped';
        error?: string;
        content?: object;
      };
      const rows: Row[] = [];
      for (const decision of decisions) {
        const channel = decision.channel;
        const skip = (error: string) =>
          rows.push({ id: newDeliveryId(), channel, provider: '-', target: '-', status: 'skipped', error });
        if (!decision.send) {
          skip(decision.reason);
          continue;
        }
        if (channel === 'push') {
          if (user.devices.length === 0) skip('no_active_device');
          for (const device of user.devices) {
            const id = newDeliveryId();
            const push = rendered.push!;
            rows.push({
              id,
              channel,
              provider: providers.providerIdFor('push', device.provider as 'apns' | 'fcm'),
              target: device.id,
              deviceId: device.id,
              status: 'pending',
              // The app reports opens with these (POST /v1/events).
              content: {
                ...push,
                data: { ...push.data, herald_notification_id: notificationId, herald_delivery_id: id },
              },
            });
          }
        } else if (channel === 'sms') {
          if (!user.phone) skip('no_phone');
          else if (user.phoneInvalidAt) skip('phone_invalid');
          else {
            const id = newDeliveryId();
            let body = rendered.sms!.body;
            let links: string[] | undefined;
            if (urls && tracking?.config.smsLinks) {
              const table = new LinkTable((index) => urls.click(id, index));
              body = rewriteTextLinks(body, table);
              if (table.links.length > 0) links = table.links;
            }
            rows.push({
              id,
              channel,
              provider: providers.providerIdFor('sms'),
              target: user.phone,
              status: 'pending',
              content: { body, ...(links ? { links } : {}) },
            });
          }
        } else {
          if (!user.email) skip('no_email');
          else if (user.emailInvalidAt) skip('email_invalid');
          else {
            rows.push({
              id: emailDeliveryId,
              channel,
              provider: providers.providerIdFor('email'),
              target: user.email,
              status: 'pending',
              content: await composeEmail(rendered.email!, {
                deliveryId: emailDeliveryId,
                layout: tracking?.config.emailLayout,
                urls,
                trackClicks: tracking?.config.clicks,
                trackOpens: tracking?.config.opens,
                unsubscribeMailto: tracking?.config.unsubscribeMailto,
                locale: user.locale,
              }),
            });
          }
        }
      }

      const pending = rows.filter((r) => r.status === 'pending');
      const status: NotificationStatus = pending.length > 0 ? 'sending' : 'suppressed';
      const created = await db.$transaction(async (tx) => {
        const records = [];
        for (const row of rows) {
          records.push(
            await tx.delivery.create({
              data: {
                id: row.id,
                notificationId,
                channel: row.channel,
                provider: row.provider,
                target: row.target,
                deviceId: row.deviceId ?? null,
                status: row.status,
                error: row.error ?? null,
                content: (row.content ?? undefined) as never,
              },
            }),
          );
        }
        if (status === 'suppressed') {
          await finishNotificationIn(tx, notificationId, status, {
            completedAt: clock(),
            error: 'nothing to send after preferences',
            heldUntil: null,
            holdReason: null,
          });
        } else {
          await tx.notification.update({
            where: { id: notificationId },
            data: { status, heldUntil: null, holdReason: null },
          });
        }
        return records;
      });
      metrics?.notificationStatus(status);
      return {
        status,
        deliveries: created
          .filter((d) => d.status === 'pending')
          .map((d) => ({ deliveryId: d.id, channel: d.channel as Channel, provider: d.provider })),
      };
    },

    async deliverPush(deliveryId: string) {
      return deliver('push', deliveryId);
    },
    async deliverSms(deliveryId: string) {
      return deliver('sms', deliveryId);
    },
    async deliverEmail(deliveryId: string) {
      return deliver('email', deliveryId);
    },

    /** Called by the workflow once a delivery's retry policy has given up (or it failed permanently). */
    async markDeliveryFailed(deliveryId: string, reason: string): Promise<void> {
      const { count } = await db.delivery.updateMany({
        where: { id: deliveryId, status: 'pending' },
        data: { status: 'failed', error: scrub(reason) },
      });
      const delivery = await db.delivery.findUnique({
        where: { id: deliveryId },
        select: { status: true, channel: true, provider: true },
      });
      if (delivery?.status === 'failed') await recordFailed(db, deliveryId, scrub(reason), clock());
      if (count > 0 && delivery) metrics?.delivery(delivery.channel, delivery.provider, 'failed');
    },

    /** The final status, from the deliveries' outcomes. */
    async finalizeNotification(notificationId: string): Promise<NotificationStatus> {
      const deliveries = await db.delivery.findMany({ where: { notificationId }, select: { status: true } });
      const sent = deliveries.filter((d) => d.status === 'sent').length;
      const failed = deliveries.filter((d) => d.status === 'failed' || d.status === 'pending').length;
      const status: NotificationStatus =
        sent === 0 && failed === 0
          ? 'suppressed'
          : failed === 0
            ? 'delivered'
            : sent === 0
              ? 'failed'
              : 'partially_delivered';
      await setStatus(notificationId, status);
      return status;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
