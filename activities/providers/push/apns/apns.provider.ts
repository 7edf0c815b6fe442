import { createHash, createPrivateKey } from 'node:crypto';
import { rootCertificates } from 'node:tls';

import { Notification, Provider } from '@parse/node-apn';
import type { ProviderOptions, ResponseFailure } from '@parse/node-apn';

import { ProviderError } from '../../provider.types';
import type { FailureKind, PushProvider, PushRequest, SendResult } from '../../provider.types';
import type { ApnsConfig } from './apns.config';
import { redact } from '../../../../platform/redact';

export interface ApnsPushProviderOptions extends ApnsConfig {
  /**
   * How many times the SDK itself re-sends after 408/429/5xx or ExpiredProviderToken (default 0). The SDK retries
   * immediately and ignores Retry-After, so its retries are a burst against a struggling APNs; leaving retries to the
   * activity's retry policy gives real backoff and keeps every attempt visible in the workflow history.
   */
  connectionRetryLimit?: number;
  /** How long APNs keeps trying to reach an offline device (default one day). */
  ttlSeconds?: number;
  /** Per-request timeout in the SDK (its default is 5 s). */
  requestTimeoutMs?: number;
}

const APPLE_PRODUCTION_HOST = 'api.push.apple.com';
const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

/** Reasons that mean this device token will never work for this app: deactivate the device. */
const DEAD_TARGET_REASONS = new Set([
  'BadDeviceToken',
  'DeviceTokenNotForTopic',
  'ExpiredToken',
  'MissingDeviceToken',
  'Unregistered',
]);

/** What `sent[]` holds at runtime; the SDK's typings only declare `device`. */
interface SentEntry {
  device: string;
  'apns-id'?: string;
}

/**
 * APNs over HTTP/2 with token (.p8) authentication. One `apn.Provider` per instance keeps one HTTP/2 session open
 * to Apple, as Apple asks: connecting per notification is treated as a denial-of-service attempt.
 */
export class ApnsPushProvider implements PushProvider {
  readonly id = 'apns' as const;
  private readonly provider: Provider;
  private readonly topic: string;
  private readonly ttlSeconds: number;

  constructor(options: ApnsPushProviderOptions) {
    assertP256PrivateKey(options.keyPem);
    const { address, port } = parseEndpoint(options.endpoint);
    this.topic = options.topic;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    const sdkOptions: ProviderOptions = {
      // A Buffer, not a string: the SDK reads a string that does not look like PEM as a file path, and the failure
      // message would then carry the key material.
      token: { key: Buffer.from(options.keyPem), keyId: options.keyId, teamId: options.teamId },
      address,
      port,
      production: address === APPLE_PRODUCTION_HOST,
      connectionRetryLimit: options.connectionRetryLimit ?? 0,
      ...(options.requestTimeoutMs !== undefined ? { requestTimeout: options.requestTimeoutMs } : {}),
      // Node replaces the public roots with `ca` when it is given; keep them so the extra CA only adds trust.
      ...(options.caPem !== undefined ? { ca: [...rootCertificates, options.caPem] } : {}),
    };
    this.provider = new Provider(sdkOptions);
  }

  async send(request: PushRequest): Promise<SendResult> {
    const { message } = request;
    const note = new Notification();
    note.topic = this.topic;
    note.pushType = 'alert';
    note.priority = 10;
    note.expiry = Math.floor(Date.now() / 1000) + this.ttlSeconds;
    note.alert = { title: message.title, body: message.body };
    if (message.badge !== undefined) note.badge = message.badge;
    if (message.sound !== undefined) note.sound = message.sound;
    // `aps` is Apple's key; the SDK would overwrite it anyway.
    const { aps: _aps, ...custom } = message.data ?? {};
    note.payload = custom;
    // A retry after a lost response sends the same collapse id, so a device that already got the first copy shows
    // one notification rather than two: APNs' only de-duplication, and it works on the device, not in APNs.
    note.collapseId = request.idempotencyKey;
    // A deterministic apns-id ties every attempt of one delivery to one id in Apple's delivery logs and in ours.
    note.id = uuidFromKey(request.idempotencyKey);

    const { sent, failed } = await this.provider.send(note, request.token);
    const ok = sent[0] as SentEntry | undefined;
    if (ok) return { providerMessageId: ok['apns-id'] ?? note.id };
    throw toProviderError(failed[0], request.token);
  }

  async close(): Promise<void> {
    // After a connection error the SDK's session is destroyed without being closed, and shutdown() would wait
    // forever for a 'close' event that has already passed; drop such sessions first (SDK internals, 8.1).
    const client = (this.provider as unknown as { client?: Record<string, unknown> }).client;
    for (const name of ['session', 'manageChannelsSession']) {
      const session = client?.[name] as { destroyed?: boolean } | null | undefined;
      if (client && session?.destroyed) client[name] = null;
    }
    // Provider.shutdown() returns nothing despite its typings; only the callback says when it is done.
    await new Promise<void>((resolve) => {
      void this.provider.shutdown(() => resolve());
    });
  }
}

function assertP256PrivateKey(keyPem: string): void {
  let ok = false;
  try {
    const key = createPrivateKey(keyPem);
    ok = key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  } catch {
    ok = false;
  }
  if (!ok) throw new Error('APNs key is not a P-256 private key in PEM form (the .p8 file from Apple)');
}

function parseEndpoint(endpoint: string | undefined): { address: string; port: number } {
  if (endpoint === undefined) return { address: APPLE_PRODUCTION_HOST, port: 443 };
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') throw new Error(`APNs endpoint must be https://host:port, got ${endpoint}`);
  return { address: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : 443 };
}

/** A UUID-shaped digest of the key (version nibble 8: custom), as APNs wants a canonical UUID in apns-id. */
function uuidFromKey(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function classify(status: number, reason: string): FailureKind {
  if (status === 410 || DEAD_TARGET_REASONS.has(reason)) return 'permanent_target';
  // The SDK has already made a fresh token for the next request, so this one heals on retry; if the clock is so far
  // off that it does not, the retry policy runs out and the failure surfaces.
  if (reason === 'ExpiredProviderToken') return 'transient';
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return 'permanent_request';
}

/** The SDK reports failures as plain objects: `{status, response: {reason}}`, `{status, error}` or `{error}`. */
function toProviderError(failure: ResponseFailure | undefined, deviceToken: string): ProviderError {
  const scrub = (text: string) => redact(text, { values: [deviceToken] });
  if (failure === undefined) {
    return new ProviderError('transient', 'NoResult', 'APNs SDK returned neither a success nor a failure');
  }
  if (typeof failure !== 'object' || failure === null || !('device' in failure)) {
    // Not one of the SDK's result objects: something inside it threw.
    const text = String((failure as { message?: unknown }).message ?? failure);
    return new ProviderError('transient', errorCode(failure) ?? 'Error', scrub(`APNs send failed: ${text}`));
  }
  const status = typeof failure.status === 'number' ? failure.status : undefined;
  const detail = failure.error ? scrub(failure.error.message) : undefined;
  if (status === undefined) {
    const code = (failure.error && errorCode(failure.error)) ?? 'ConnectionError';
    return new ProviderError('transient', code, `APNs unreachable: ${detail ?? 'unknown error'}`);
  }
  // 403 ExpiredProviderToken and 500 InternalServerError arrive as `error` whose message is the reason or a
  // description; every other answer carries Apple's `{reason}` body.
  const reason =
    failure.response?.reason ??
    (detail && /^[A-Za-z]+$/.test(detail) ? detail : status === 500 ? 'InternalServerError' : `HTTP${status}`);
  return new ProviderError(classify(status, reason), reason, `APNs rejected the notification: ${status} ${reason}`, {
    status,
  });
}

/** The innermost `code` (ECONNREFUSED rather than ERR_HTTP2_STREAM_CANCEL) along the SDK's VError cause chain. */
function errorCode(error: unknown): string | undefined {
  let found: string | undefined;
  let current = error;
  // Duck-typed rather than instanceof Error: errors from Node internals come from another realm under jest.
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') found = code;
    current = typeof cause === 'function' ? (cause as () => unknown).call(current) : cause;
  }
  return found;
}
