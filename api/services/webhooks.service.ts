/**
 * Provider webhooks: SendGrid's Event Webhook (ECDSA P-256 signature over timestamp + raw body) and Twilio's status
 * callback (X-Twilio-Signature: HMAC-SHA1 of the URL and sorted form parameters with the auth token). Nothing is
 * read from a request whose signature does not verify. Each event finds its delivery by the `herald_delivery_id`
 * Herald sent along (falling back to the provider's message id), becomes a tracking event, and a hard bounce or an
 * undeliverable number flags the user's contact.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import twilio from 'twilio';
import type { Db } from '../../platform/db';
import { deliverySubject, recordTrackingEvent, type TrackingEventType } from '../../domain/tracking/events';
import { flagContact } from '../../domain/tracking/delivery-outcomes';
import { HttpError } from '../errors';

type Subject = NonNullable<Awaited<ReturnType<typeof deliverySubject>>>;

export interface WebhookOptions {
  /** PEM; absent → the SendGrid webhook refuses everything. */
  sendgridPublicKey?: string;
  /** Absent → the Twilio webhook refuses everything. */
  twilioAuthToken?: string;
  /** Herald's public base URL: Twilio signs the URL it called, which is this plus the path. */
  publicUrl: string;
}

export interface WebhookResult {
  received: number;
  recorded: number;
  ignored: number;
}

const SENDGRID_EVENTS: Partial<Record<string, TrackingEventType>> = {
  delivered: 'delivered',
  bounce: 'failed',
  dropped: 'failed',
  open: 'opened',
  click: 'clicked',
};
const TWILIO_STATUSES: Partial<Record<string, TrackingEventType>> = {
  delivered: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
};

/** Dropped for one of these reasons means the address itself is bad (SendGrid's suppression of a bounced address). */
const SENDGRID_DEAD_ADDRESS_DROPS = new Set(['bounced address', 'invalid']);
/**
 * Twilio errors that say the number cannot receive SMS: unknown or unreachable handset for good, a landline or an
 * invalid number. 30003 (handset off) and 30007 (carrier filtering) are about now or the content: not flagged.
 */
const TWILIO_DEAD_NUMBER_CODES = new Set(['30005', '30006', '21211', '21612', '21614', '21407']);

/** Addresses out of what Herald keeps: a bounce reason is for operators, not a second copy of the contact. */
const scrub = (text: string) => text.replace(/[^\s<>"'@]+@[^\s<>"']+/g, '[redacted]').slice(0, 300);

export function createWebhookService(db: Db, options: WebhookOptions) {
  let sendgridKey: KeyObject | undefined;
  if (options.sendgridPublicKey) sendgridKey = createPublicKey(options.sendgridPublicKey);

  async function findDelivery(deliveryId: unknown, providerMessageId: string | undefined, channel: string) {
    let subject: Subject | null = null;
    if (typeof deliveryId === 'string' && deliveryId.length <= 64) subject = await deliverySubject(db, deliveryId);
    if (!subject && providerMessageId) {
      const row = await db.delivery.findFirst({ where: { providerMessageId }, select: { id: true } });
      if (row) subject = await deliverySubject(db, row.id);
    }
    return subject && subject.channel === channel ? subject : null;
  }

  async function record(
    subject: Subject,
    type: TrackingEventType,
    source: 'sendgrid' | 'twilio',
    extra: { at?: Date; metadata?: Record<string, unknown>; sourceEventId?: string },
  ) {
    const { userId: _u, target: _t, provider: _p, status: _s, ...about } = subject;
    return recordTrackingEvent(db, { ...about, type, source, ...extra });
  }

  return {
    verifySendgrid(rawBody: Buffer, signature: string | undefined, timestamp: string | undefined): void {
      if (!sendgridKey) {
        throw new HttpError(
          503,
          'webhook_not_configured',
          'set SENDGRID_WEBHOOK_PUBLIC_KEY to receive SendGrid events',
        );
      }
      if (!signature || !timestamp) {
        throw new HttpError(
          401,
          'missing_signature',
          'X-Twilio-Email-Event-Webhook-Signature and -Timestamp are required',
        );
      }
      let ok = false;
      try {
        ok = verify(
          'sha256',
          Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]),
          sendgridKey,
          Buffer.from(signature, 'base64'),
        );
      } catch {
        ok = false;
      }
      if (!ok) throw new HttpError(403, 'invalid_signature', 'the SendGrid signature does not verify');
    },

    async sendgrid(events: unknown): Promise<WebhookResult> {
      if (!Array.isArray(events)) throw new HttpError(400, 'invalid_body', 'SendGrid posts a JSON array of events');
      const result: WebhookResult = { received: events.length, recorded: 0, ignored: 0 };
      for (const raw of events) {
        const event = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
        const kind = typeof event.event === 'string' ? event.event : '';
        const type = SENDGRID_EVENTS[kind];
        const messageId = typeof event.sg_message_id === 'string' ? event.sg_message_id.split('.')[0] : undefined;
        const subject = type ? await findDelivery(event.herald_delivery_id, messageId, 'email') : null;
        if (!type || !subject) {
          result.ignored++;
          continue;
        }
        const at = typeof event.timestamp === 'number' ? new Date(event.timestamp * 1000) : undefined;
        const reason = typeof event.reason === 'string' ? scrub(event.reason) : undefined;
        const metadata: Record<string, unknown> = { event: kind };
        if (kind === 'bounce') {
          metadata.bounceType = event.type === 'blocked' ? 'blocked' : 'bounce';
          if (typeof event.status === 'string') metadata.status = event.status;
          if (typeof event.bounce_classification === 'string') metadata.classification = event.bounce_classification;
        }
        if (reason) metadata.reason = reason;
        if (kind === 'click' && typeof event.url === 'string') metadata.url = event.url.slice(0, 2048);
        if (kind === 'open' && event.sg_machine_open === true) metadata.machineOpen = true;
        const stored = await record(subject, type, 'sendgrid', {
          ...(at && !Number.isNaN(at.getTime()) ? { at } : {}),
          metadata,
          ...(typeof event.sg_event_id === 'string' ? { sourceEventId: `sendgrid:${event.sg_event_id}` } : {}),
        });
        if (stored.stored) result.recorded++;
        else result.ignored++;
        // A hard bounce ("blocked" is SendGrid's soft one) or a drop for a known-bad address: the address is dead.
        const hard =
          (kind === 'bounce' && event.type !== 'blocked') ||
          (kind === 'dropped' && SENDGRID_DEAD_ADDRESS_DROPS.has(String(event.reason ?? '').toLowerCase()));
        if (hard) await flagContact(db, subject, `${kind}${reason ? `: ${reason}` : ''}`, new Date());
      }
      return result;
    },

    verifyTwilio(signature: string | undefined, url: string, params: Record<string, string>): void {
      if (!options.twilioAuthToken) {
        throw new HttpError(503, 'webhook_not_configured', 'set TWILIO_AUTH_TOKEN to receive Twilio status callbacks');
      }
      if (!signature) throw new HttpError(401, 'missing_signature', 'X-Twilio-Signature is required');
      if (!twilio.validateRequest(options.twilioAuthToken, signature, url, params)) {
        throw new HttpError(403, 'invalid_signature', 'the Twilio signature does not verify');
      }
    },

    async twilio(params: Record<string, string>, deliveryId: string | undefined): Promise<WebhookResult> {
      const status = params.MessageStatus ?? params.SmsStatus ?? '';
      const type = TWILIO_STATUSES[status];
      const subject = type ? await findDelivery(deliveryId, params.MessageSid, 'sms') : null;
      if (!type || !subject) return { received: 1, recorded: 0, ignored: 1 };
      const errorCode = params.ErrorCode || undefined;
      const stored = await record(subject, type, 'twilio', {
        metadata: { status, ...(errorCode ? { errorCode } : {}) },
        ...(params.MessageSid ? { sourceEventId: `twilio:${params.MessageSid}:${status}` } : {}),
      });
      if (type === 'failed' && errorCode && TWILIO_DEAD_NUMBER_CODES.has(errorCode)) {
        await flagContact(db, subject, `${status}: Twilio error ${errorCode}`, new Date());
      }
      return { received: 1, recorded: stored.stored ? 1 : 0, ignored: stored.stored ? 0 : 1 };
    },
  };
}
export type WebhookService = ReturnType<typeof createWebhookService>;
