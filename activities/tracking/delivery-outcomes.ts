/**
 * What a delivery's outcome means for tracking: Herald's own `sent` / `failed` events (and `delivered` where no
 * receipt will ever come), and flagging a contact that turned out to be dead so it is not used again until it changes.
 */
import type { Db } from '../../lib/db';
import { deliverySubject, recordTrackingEvent, type EventSubject } from '../../lib/tracking/events';

/**
 * `sent` once the provider accepted the message. APNs and FCM report nothing after accepting, and the outbox is the
 * destination itself: for those, acceptance is also the `delivered` Herald will ever know of.
 */
export async function recordSent(
  db: Db,
  subject: EventSubject & { deliveryId: string; provider: string },
  at: Date,
): Promise<void> {
  const { provider, ...about } = subject;
  await recordTrackingEvent(db, {
    ...about,
    type: 'sent',
    source: 'herald',
    at,
    sourceEventId: `herald:${about.deliveryId}:sent`,
  });
  if (about.channel === 'push' || provider === 'outbox') {
    await recordTrackingEvent(db, {
      ...about,
      type: 'delivered',
      source: 'herald',
      at,
      metadata: { basis: provider === 'outbox' ? 'outbox' : 'provider_accepted' },
      sourceEventId: `herald:${about.deliveryId}:delivered`,
    });
  }
}

/** `failed` when Herald gave up on a delivery (the provider refused it, or every retry failed). */
export async function recordFailed(db: Db, deliveryId: string, reason: string, at: Date): Promise<void> {
  const subject = await deliverySubject(db, deliveryId);
  if (!subject) return;
  const { userId: _u, target: _t, provider: _p, status: _s, ...about } = subject;
  await recordTrackingEvent(db, {
    ...about,
    type: 'failed',
    source: 'herald',
    at,
    metadata: { reason: reason.slice(0, 500) },
    sourceEventId: `herald:${deliveryId}:failed`,
  });
}

/**
 * Flags the user's email or phone as invalid — only if it is still the address this delivery went to: a contact
 * changed since then is a new one, and the flag would be wrong for it.
 */
export async function flagContact(
  db: Db,
  delivery: { userId: string; channel: string | null; target: string },
  reason: string,
  at: Date,
): Promise<boolean> {
  const short = reason.slice(0, 300);
  if (delivery.channel === 'email') {
    const { count } = await db.user.updateMany({
      where: { id: delivery.userId, email: delivery.target },
      data: { emailInvalidAt: at, emailInvalidReason: short },
    });
    return count > 0;
  }
  if (delivery.channel === 'sms') {
    const { count } = await db.user.updateMany({
      where: { id: delivery.userId, phone: delivery.target },
      data: { phoneInvalidAt: at, phoneInvalidReason: short },
    });
    return count > 0;
  }
  return false;
}
