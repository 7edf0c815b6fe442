/**
 * The first step of every provider call, in one statement: read the delivery with what its tracking events are about
 * (the notification's template and category) and its device, and record the attempt number if it is still pending —
 * so an operator sees attempts that died mid-call. A send runs this once per attempt, at the design peak ~7,000 times a
 * second, where the four separate Prisma reads and the update it replaces were most of Herald's database traffic.
 */
import type { PrismaClient } from '../generated/prisma/client';

export interface DeliveryAttempt {
  notificationId: string;
  channel: string;
  provider: string;
  target: string;
  deviceId: string | null;
  /** As it was before this attempt: pending, sent (a retry after the result was recorded), failed or skipped. */
  status: string;
  providerMessageId: string | null;
  sentAt: Date | null;
  content: unknown;
  templateId: string;
  category: string | null;
  /** The push target, when the delivery has one and it still exists. */
  device: { token: string; platform: string; active: boolean } | null;
}

interface Row {
  notification_id: string;
  channel: string;
  provider: string;
  target: string;
  device_id: string | null;
  status: string;
  provider_message_id: string | null;
  sent_at_ms: number | null;
  content: unknown;
  template_id: string;
  category: string | null;
  device: { token: string; platform: string; active: boolean } | string | null;
}

/** Null when the delivery does not exist (erased with its user, say). */
export async function startDeliveryAttempt(
  db: Pick<PrismaClient, '$queryRaw'>,
  deliveryId: string,
  attempt: number,
  now: Date,
): Promise<DeliveryAttempt | null> {
  const at = now.toISOString();
  const rows = await db.$queryRaw<Row[]>`
    UPDATE deliveries AS d
       SET attempts = CASE WHEN d.status = 'pending' THEN ${attempt}::int ELSE d.attempts END,
           updated_at = CASE WHEN d.status = 'pending' THEN (${at}::timestamptz AT TIME ZONE 'UTC') ELSE d.updated_at END
      FROM notifications AS n
     WHERE d.id = ${deliveryId} AND n.id = d.notification_id
    RETURNING d.notification_id, d.channel, d.provider, d.target, d.device_id, d.status, d.provider_message_id,
              (extract(epoch FROM d.sent_at) * 1000)::float8 AS sent_at_ms, d.content, n.template_id, n.category,
              (SELECT json_build_object('token', v.token, 'platform', v.platform, 'active', v.active)::text
                 FROM devices AS v WHERE v.id = d.device_id) AS device`;
  const row = rows[0];
  if (!row) return null;
  return {
    notificationId: row.notification_id,
    channel: row.channel,
    provider: row.provider,
    target: row.target,
    deviceId: row.device_id,
    status: row.status,
    providerMessageId: row.provider_message_id,
    sentAt: row.sent_at_ms === null ? null : new Date(Number(row.sent_at_ms)),
    content: row.content,
    templateId: row.template_id,
    category: row.category,
    device: typeof row.device === 'string' ? (JSON.parse(row.device) as DeliveryAttempt['device']) : row.device,
  };
}
