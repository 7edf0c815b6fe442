/**
 * One interface per channel; one class per provider (built once per worker, holding a long-lived SDK client).
 * Every provider answer that is not a success is thrown as a ProviderError carrying one of three kinds, so that the
 * activity layer can turn it into a retryable or non-retryable Temporal failure without knowing the provider.
 */

import type { Channel } from '../../contract/channels';

export type { Channel };
/** The channels that go out through a provider; `inbox` has none: Herald itself is the destination (domain/inbox). */
export type ProviderChannel = Exclude<Channel, 'inbox'>;
export type PushProviderId = 'apns' | 'fcm';
export type SmsProviderId = 'twilio' | 'vonage';
export type EmailProviderId = 'sendgrid' | 'smtp';
export type ProviderId = PushProviderId | SmsProviderId | EmailProviderId | 'outbox';
export type Platform = 'ios' | 'android' | 'web';

/**
 * - `permanent_target`: the target is dead (unregistered/invalid token, invalid number, hard bounce). Never retried;
 *   the device is deactivated or the contact flagged.
 * - `permanent_request`: the request itself is wrong (bad payload, auth/config failure). Never retried; a bug or a
 *   misconfiguration to surface loudly.
 * - `transient`: 429, 5xx, timeouts, refused connections. Retried with backoff by the activity's retry policy.
 */
export type FailureKind = 'permanent_target' | 'permanent_request' | 'transient';

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly kind: FailureKind,
    /** Short machine-readable code, e.g. `Unregistered`, `21211`, `messaging/invalid-argument`, `ECONNREFUSED`. */
    readonly code: string,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}

export interface SendResult {
  /** The provider's id for the accepted message (apns-id, FCM message name, Twilio SID, SendGrid X-Message-Id...). */
  providerMessageId?: string;
}

export interface PushMessage {
  title: string;
  body: string;
  /** Custom key/value data delivered to the app. */
  data?: Record<string, string>;
  badge?: number;
  sound?: string;
}

export interface PushRequest {
  token: string;
  platform: Platform;
  message: PushMessage;
  /** Stable per delivery (≤ 64 bytes). Used where the provider de-duplicates (APNs `apns-collapse-id`). */
  idempotencyKey: string;
}

export interface SmsRequest {
  /** E.164 number. */
  to: string;
  body: string;
  idempotencyKey: string;
}

export interface EmailRequest {
  to: string;
  subject: string;
  html?: string;
  text?: string;
  idempotencyKey: string;
  /** Extra headers (e.g. List-Unsubscribe). */
  headers?: Record<string, string>;
}

export interface PushProvider {
  readonly id: PushProviderId | 'outbox';
  send(request: PushRequest): Promise<SendResult>;
  close?(): Promise<void>;
}

export interface SmsProvider {
  readonly id: SmsProviderId | 'outbox';
  send(request: SmsRequest): Promise<SendResult>;
  close?(): Promise<void>;
}

export interface EmailProvider {
  readonly id: EmailProviderId | 'outbox';
  send(request: EmailRequest): Promise<SendResult>;
  close?(): Promise<void>;
}
