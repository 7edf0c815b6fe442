/**
 * The public side of tracking: signed redirect links, the open pixel, one-click unsubscribe, and events reported by
 * apps through POST /v1/events. A token that does not verify is refused before anything is read or redirected.
 */
import type { Db } from '../../platform/db';
import { Prisma } from '../../platform/db';
import { preferencesSchema, type TrackingEventInput, type TrackingEventResult } from '../../contract/schemas';
import { deliverySubject, recordTrackingEvent, type EventSubject } from '../../domain/tracking/events';
import type { Tracking } from '../../domain/tracking/tracking';
import { HttpError, notFound } from '../errors';

const invalidLink = () => new HttpError(404, 'invalid_link', 'this link is not valid');

export function createTrackingService(db: Db, tracking: Tracking) {
  const signer = async () => (await tracking.urls()).signer;

  async function subjectOf(deliveryId: string) {
    const subject = await deliverySubject(db, deliveryId);
    if (!subject) throw invalidLink();
    const { userId, target: _t, provider: _p, status: _s, ...about } = subject;
    return { about: about as EventSubject, userId };
  }

  return {
    /**
     * The original URL behind a tracked link, after recording the click (and an open, which a click implies).
     * `record: false` for HEAD requests: link scanners probe with them, people do not.
     */
    async click(token: string, { record = true } = {}): Promise<string> {
      const verified = (await signer()).verifyClick(token);
      if (!verified) throw invalidLink();
      const delivery = await db.delivery.findUnique({ where: { id: verified.deliveryId }, select: { content: true } });
      const links = (delivery?.content as { links?: unknown } | null)?.links;
      const url = Array.isArray(links) ? links[verified.index] : undefined;
      // The content is gone when the user was erased; the link goes with it.
      if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) {
        throw new HttpError(410, 'link_expired', 'this link is no longer available');
      }
      const { about } = await subjectOf(verified.deliveryId);
      if (!record) return url;
      const click = await recordTrackingEvent(db, {
        ...about,
        type: 'clicked',
        source: 'link',
        metadata: { url, link: verified.index },
      });
      if (click.counted) {
        // Images are often blocked, so the pixel never fires: a click proves the message was opened.
        await recordTrackingEvent(db, {
          ...about,
          type: 'opened',
          source: 'link',
          metadata: { inferredFrom: 'click' },
        });
      }
      return url;
    },

    async open(token: string, { record = true } = {}): Promise<void> {
      const verified = (await signer()).verifyOpen(token);
      if (!verified) throw invalidLink();
      const { about } = await subjectOf(verified.deliveryId);
      if (record) await recordTrackingEvent(db, { ...about, type: 'opened', source: 'pixel' });
    },

    /** What an unsubscribe link would turn off, without changing anything (the confirmation page). */
    async describeUnsubscribe(token: string): Promise<{ category: string | null }> {
      const verified = (await signer()).verifyUnsubscribe(token);
      if (!verified) throw invalidLink();
      const { about } = await subjectOf(verified.deliveryId);
      return { category: about.category };
    },

    /**
     * RFC 8058 one-click: turns email off for the notification's category in the user's preferences, or email
     * altogether when the notification had no category. Repeating it changes nothing more.
     */
    async unsubscribe(token: string): Promise<{ category: string | null }> {
      const verified = (await signer()).verifyUnsubscribe(token);
      if (!verified) throw invalidLink();
      const { about, userId } = await subjectOf(verified.deliveryId);
      const updated = await db.$transaction(async (tx) => {
        const user = await tx.user.findUnique({ where: { id: userId }, include: { preferences: true } });
        if (!user) return false;
        const current = preferencesSchema.parse(
          user.preferences
            ? {
                channels: user.preferences.channels,
                categories: user.preferences.categories,
                quietHours: user.preferences.quietHours,
              }
            : {},
        );
        const next = about.category
          ? {
              ...current,
              categories: {
                ...current.categories,
                [about.category]: { ...current.categories[about.category], email: false },
              },
            }
          : { ...current, channels: { ...current.channels, email: false } };
        const data = {
          channels: next.channels as Prisma.InputJsonValue,
          categories: next.categories as Prisma.InputJsonValue,
        };
        await tx.preference.upsert({
          where: { userId },
          create: { userId, ...data, quietHours: (current.quietHours ?? Prisma.JsonNull) as Prisma.InputJsonValue },
          update: data,
        });
        return true;
      });
      if (!updated) throw new HttpError(410, 'user_erased', 'there is nothing left to unsubscribe from');
      await recordTrackingEvent(db, {
        ...about,
        type: 'unsubscribed',
        source: 'unsubscribe',
        metadata: { scope: about.category ? `category:${about.category}` : 'email' },
      });
      return { category: about.category };
    },

    /** POST /v1/events: an app reports a push opened, a deep link clicked, or a conversion. */
    async report(input: TrackingEventInput): Promise<TrackingEventResult> {
      const notification = await db.notification.findUnique({
        where: { id: input.notificationId },
        select: { id: true, templateId: true, category: true },
      });
      if (!notification) throw notFound('notification', input.notificationId);
      let about: EventSubject = {
        notificationId: notification.id,
        deliveryId: null,
        channel: null,
        templateId: notification.templateId,
        category: notification.category,
      };
      if (input.deliveryId) {
        const subject = await deliverySubject(db, input.deliveryId);
        if (!subject || subject.notificationId !== notification.id) {
          throw new HttpError(
            400,
            'delivery_mismatch',
            `delivery ${JSON.stringify(input.deliveryId)} is not part of notification ${JSON.stringify(notification.id)}`,
          );
        }
        about = { ...about, deliveryId: subject.deliveryId, channel: subject.channel };
      }
      const { stored, counted } = await recordTrackingEvent(db, {
        ...about,
        type: input.type,
        source: 'api',
        ...(input.at ? { at: new Date(input.at) } : {}),
        ...(input.metadata ? { metadata: input.metadata } : {}),
      });
      return {
        notificationId: about.notificationId,
        deliveryId: about.deliveryId,
        channel: about.channel as TrackingEventResult['channel'],
        type: input.type,
        stored,
        counted,
      };
    },
  };
}
export type TrackingService = ReturnType<typeof createTrackingService>;
