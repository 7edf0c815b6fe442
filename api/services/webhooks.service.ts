/**
 * Provider webhooks: SendGrid's Event Webhook (ECDSA P-256 signature over timestamp + raw body) and Twilio's status
 * callback (X-Twilio-Signature: HMAC-SHA1 of the URL and sorted form parameters with the auth token). Nothing is
 * read from a request whose signature does not verify. Each event finds its delivery by the `herald_delivery_id`
 * Herald sent along (falling back to the provider's message id), becomes a tracking event, and a hard bounce or an
 * undeliverable number flags the user's contact.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  parseSendgridEvent,
  verifySendgridSignature,
} from '../../activities/providers/email/sendgrid/sendgrid.webhook';
import { parseTwilioStatus, verifyTwilioSignature } from '../../activities/providers/sms/twilio/twilio.webhook';
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
      const ok = verifySendgridSignature(sendgridKey, rawBody, signature, timestamp);
      if (!ok) throw new HttpError(403, 'invalid_signature', 'the SendGrid signature does not verify');
    },

    async sendgrid(events: unknown): Promise<WebhookResult> {
      if (!Array.isArray(events)) throw new HttpError(400, 'invalid_body', 'SendGrid posts a JSON array of events');
      const result: WebhookResult = { received: events.length, recorded: 0, ignored: 0 };
      for (const raw of events) {
        const event = parseSendgridEvent(raw);
        const subject = event ? await findDelivery(event.deliveryId, event.messageId, 'email') : null;
        if (!event || !subject) {
          result.ignored++;
          continue;
        }
        const stored = await record(subject, event.type, 'sendgrid', {
          ...(event.at ? { at: event.at } : {}),
          metadata: event.metadata,
          ...(event.sourceEventId ? { sourceEventId: event.sourceEventId } : {}),
        });
        if (stored.stored) result.recorded++;
        else result.ignored++;
        if (event.deadAddress) {
          await flagContact(db, subject, `${event.kind}${event.reason ? `: ${event.reason}` : ''}`, new Date());
        }
      }
      return result;
    },

    verifyTwilio(signature: string | undefined, url: string, params: Record<string, string>): void {
      if (!options.twilioAuthToken) {
        throw new HttpError(503, 'webhook_not_configured', 'set TWILIO_AUTH_TOKEN to receive Twilio status callbacks');
      }
      if (!signature) throw new HttpError(401, 'missing_signature', 'X-Twilio-Signature is required');
      if (!verifyTwilioSignature(options.twilioAuthToken, signature, url, params)) {
        throw new HttpError(403, 'invalid_signature', 'the Twilio signature does not verify');
      }
    },

    async twilio(params: Record<string, string>, deliveryId: string | undefined): Promise<WebhookResult> {
      const event = parseTwilioStatus(params);
      const subject = event ? await findDelivery(deliveryId, event.messageSid, 'sms') : null;
      if (!event || !subject) return { received: 1, recorded: 0, ignored: 1 };
      const { status, errorCode } = event;
      const stored = await record(subject, event.type, 'twilio', {
        metadata: { status, ...(errorCode ? { errorCode } : {}) },
        ...(event.messageSid ? { sourceEventId: `twilio:${event.messageSid}:${status}` } : {}),
      });
      if (event.deadNumber) await flagContact(db, subject, `${status}: Twilio error ${errorCode}`, new Date());
      return { received: 1, recorded: stored.stored ? 1 : 0, ignored: stored.stored ? 0 : 1 };
    },
  };
}
export type WebhookService = ReturnType<typeof createWebhookService>;
