/**
 * SendGrid's Event Webhook, read: the signature check (ECDSA P-256 over timestamp + raw body) and what each event
 * means for Herald. Pure: the API's webhook service finds the delivery and records it.
 */
import { verify, type KeyObject } from 'node:crypto';
import type { TrackingEventType } from '../../../../domain/tracking/events';
import { redact } from '../../../../platform/redact';

const EVENTS: Partial<Record<string, TrackingEventType>> = {
  delivered: 'delivered',
  bounce: 'failed',
  dropped: 'failed',
  open: 'opened',
  click: 'clicked',
};

/** Dropped for one of these reasons means the address itself is bad (SendGrid's suppression of a bounced address). */
const DEAD_ADDRESS_DROPS = new Set(['bounced address', 'invalid']);

export function verifySendgridSignature(
  key: KeyObject,
  rawBody: Buffer,
  signature: string,
  timestamp: string,
): boolean {
  try {
    return verify(
      'sha256',
      Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]),
      key,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}

export interface SendgridEvent {
  kind: string;
  type: TrackingEventType;
  deliveryId: unknown;
  messageId?: string;
  at?: Date;
  metadata: Record<string, unknown>;
  sourceEventId?: string;
  /** Addresses out of what Herald keeps: a bounce reason is for operators, not a second copy of the contact. */
  reason?: string;
  /** A hard bounce ("blocked" is SendGrid's soft one) or a drop for a known-bad address: the address is dead. */
  deadAddress: boolean;
}

/** One event of the posted array, or undefined for an event Herald does not track. */
export function parseSendgridEvent(raw: unknown): SendgridEvent | undefined {
  const event = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const kind = typeof event.event === 'string' ? event.event : '';
  const type = EVENTS[kind];
  if (!type) return undefined;
  const messageId = typeof event.sg_message_id === 'string' ? event.sg_message_id.split('.')[0] : undefined;
  const at = typeof event.timestamp === 'number' ? new Date(event.timestamp * 1000) : undefined;
  const reason = typeof event.reason === 'string' ? redact(event.reason, { max: 300 }) : undefined;
  const metadata: Record<string, unknown> = { event: kind };
  if (kind === 'bounce') {
    metadata.bounceType = event.type === 'blocked' ? 'blocked' : 'bounce';
    if (typeof event.status === 'string') metadata.status = event.status;
    if (typeof event.bounce_classification === 'string') metadata.classification = event.bounce_classification;
  }
  if (reason) metadata.reason = reason;
  if (kind === 'click' && typeof event.url === 'string') metadata.url = event.url.slice(0, 2048);
  if (kind === 'open' && event.sg_machine_open === true) metadata.machineOpen = true;
  return {
    kind,
    type,
    deliveryId: event.herald_delivery_id,
    ...(messageId ? { messageId } : {}),
    ...(at && !Number.isNaN(at.getTime()) ? { at } : {}),
    metadata,
    ...(typeof event.sg_event_id === 'string' ? { sourceEventId: `sendgrid:${event.sg_event_id}` } : {}),
    ...(reason ? { reason } : {}),
    deadAddress:
      (kind === 'bounce' && event.type !== 'blocked') ||
      (kind === 'dropped' && DEAD_ADDRESS_DROPS.has(String(event.reason ?? '').toLowerCase())),
  };
}
