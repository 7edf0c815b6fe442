/**
 * Flagging a contact that turned out to be dead (a provider's bounce or undeliverable report arriving by webhook), so
 * it is not used again until it changes. The delivery path's own outcomes are in activities/delivery/outcomes.ts.
 */
import type { Db } from '../../platform/db';

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
