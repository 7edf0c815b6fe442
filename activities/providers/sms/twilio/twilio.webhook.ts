/**
 * Twilio's status callback, read: the signature check (X-Twilio-Signature: HMAC-SHA1 of the URL and sorted form
 * parameters with the auth token) and what a callback means for Herald. Pure: the API's webhook service finds the
 * delivery and records it.
 */
import twilio from 'twilio';
import type { TrackingEventType } from '../../../../domain/tracking/events';
import { DEAD_NUMBER_CODES } from './twilio.codes';

const STATUSES: Partial<Record<string, TrackingEventType>> = {
  delivered: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
};

/**
 * Errors that say the number cannot receive SMS: unknown or unreachable handset for good, a landline or an invalid
 * number. 30003 (handset off) and 30007 (carrier filtering) are about now or the content: not flagged.
 */
const DEAD_NUMBER_ERRORS = new Set([30005, 30006, ...DEAD_NUMBER_CODES].map(String));

export function verifyTwilioSignature(
  authToken: string,
  signature: string,
  url: string,
  params: Record<string, string>,
): boolean {
  return twilio.validateRequest(authToken, signature, url, params);
}

export interface TwilioStatusEvent {
  status: string;
  type: TrackingEventType;
  messageSid?: string;
  errorCode?: string;
  /** The number cannot receive SMS: flag it. */
  deadNumber: boolean;
}

/** A status callback's tracking event, or undefined for a status Herald does not track (queued, sent, ...). */
export function parseTwilioStatus(params: Record<string, string>): TwilioStatusEvent | undefined {
  const status = params.MessageStatus ?? params.SmsStatus ?? '';
  const type = STATUSES[status];
  if (!type) return undefined;
  const errorCode = params.ErrorCode || undefined;
  return {
    status,
    type,
    ...(params.MessageSid ? { messageSid: params.MessageSid } : {}),
    ...(errorCode ? { errorCode } : {}),
    deadNumber: type === 'failed' && errorCode !== undefined && DEAD_NUMBER_ERRORS.has(errorCode),
  };
}
