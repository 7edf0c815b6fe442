import { randomUUID } from 'node:crypto';
import { Agent } from 'node:https';
import type { RequestOptions } from 'node:https';
import { connect as netConnect, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, rootCertificates } from 'node:tls';

import { deleteApp, initializeApp } from 'firebase-admin/app';
import type { App } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import type { Messaging, TokenMessage } from 'firebase-admin/messaging';

import { ProviderError } from '../../provider.types';
import type { FailureKind, PushProvider, PushRequest, SendResult } from '../../provider.types';
import { ServiceAccountCredential, TokenExchangeError } from './service-account.credential';
import type { ServiceAccountKey } from './service-account.credential';
import type { FcmConfig } from './fcm.config';
import { redact } from '../../../../platform/redact';

export interface FcmPushProviderOptions extends Omit<FcmConfig, 'credentials'> {
  /** The service-account JSON key (`client_email`, `private_key`, ...). */
  credentials: ServiceAccountKey;
  /** A CA to trust in addition to the public roots (a proxy's or a local fake's). */
  caPem?: string;
  /**
   * How many times firebase-admin itself retries 503s and connection resets (default 0). Its own default is four
   * retries over about seven seconds inside one activity attempt, up to a minute each when FCM sends Retry-After;
   * the activity's retry policy retries with backoff anyway and records each attempt.
   */
  sdkMaxRetries?: number;
  /** How long FCM keeps a message for an offline device (default one day, like APNs). */
  ttlSeconds?: number;
}

const DEFAULT_TTL_SECONDS = 24 * 60 * 60;
/** The data key carrying the delivery's idempotency key, so the app can drop a copy it has already shown. */
export const DELIVERY_ID_DATA_KEY = 'herald_delivery_id';

/**
 * FCM HTTP v1 through firebase-admin. One firebase App per provider (uniquely named, so several providers and test
 * fakes never share state), with an HTTP agent that sends every connection to the configured endpoint.
 */
export class FcmPushProvider implements PushProvider {
  readonly id = 'fcm' as const;
  private readonly agent: Agent;
  private readonly credential: ServiceAccountCredential;
  private readonly app: App;
  private readonly messaging: Messaging;
  private readonly ttlSeconds: number;
  private closed = false;

  constructor(options: FcmPushProviderOptions) {
    this.agent = createAgent(options.endpoint, options.caPem);
    this.credential = new ServiceAccountCredential(options.credentials, this.agent);
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.app = initializeApp(
      { credential: this.credential, projectId: options.projectId, httpAgent: this.agent },
      `herald-fcm-${randomUUID()}`,
    );
    this.messaging = getMessaging(this.app);
    // Messaging.send() always uses HTTP/1.1 through the agent; the HTTP/2 path (sendEach) would ignore the agent and
    // reach Google directly, so make sure nothing ever takes it.
    this.messaging.enableLegacyHttpTransport();
    setSdkRetries(this.messaging, options.sdkMaxRetries ?? 0);
  }

  async send(request: PushRequest): Promise<SendResult> {
    try {
      // Fetched first so that a token-endpoint failure is classified from its real cause; firebase-admin then gets
      // the cached token.
      await this.credential.getAccessToken();
      const name = await this.messaging.send(this.buildMessage(request));
      return { providerMessageId: name };
    } catch (error) {
      throw toProviderError(error, request.token);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await deleteApp(this.app);
    this.agent.destroy();
  }

  private buildMessage(request: PushRequest): TokenMessage {
    const { message, idempotencyKey } = request;
    const data = { ...message.data, [DELIVERY_ID_DATA_KEY]: idempotencyKey };
    const base: TokenMessage = {
      token: request.token,
      notification: { title: message.title, body: message.body },
      data,
    };
    switch (request.platform) {
      case 'android':
        return {
          ...base,
          android: {
            priority: 'high',
            ttl: this.ttlSeconds * 1000,
            // A tag, not a collapseKey: FCM keeps at most four collapse keys per device, so one per delivery would
            // drop stored messages. A tag makes a retried copy replace the shown notification instead of adding one.
            notification: {
              tag: idempotencyKey,
              ...(message.sound !== undefined ? { sound: message.sound } : {}),
              ...(message.badge !== undefined ? { notificationCount: message.badge } : {}),
            },
          },
        };
      case 'web':
        return {
          ...base,
          webpush: {
            headers: { TTL: String(this.ttlSeconds), Urgency: 'high' },
            notification: { title: message.title, body: message.body, tag: idempotencyKey },
          },
        };
      case 'ios':
        return {
          ...base,
          apns: {
            headers: {
              'apns-push-type': 'alert',
              'apns-priority': '10',
              'apns-collapse-id': idempotencyKey,
              'apns-expiration': String(Math.floor(Date.now() / 1000) + this.ttlSeconds),
            },
            payload: {
              aps: {
                ...(message.badge !== undefined ? { badge: message.badge } : {}),
                ...(message.sound !== undefined ? { sound: message.sound } : {}),
              },
            },
          },
        };
    }
  }
}

/** An agent that dials the endpoint whatever host a request names; keep-alive because the provider is long-lived. */
function createAgent(endpoint: string | undefined, caPem: string | undefined): Agent {
  // Node replaces the public roots with `ca` when it is given; keep them so the extra CA only adds trust.
  const ca = caPem !== undefined ? [...rootCertificates, caPem] : undefined;
  if (endpoint === undefined) return new Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`FCM endpoint must be http(s)://host:port, got ${endpoint}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const secure = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : secure ? 443 : 80;
  class EndpointAgent extends Agent {
    override createConnection(_options: RequestOptions): Duplex {
      if (!secure) return netConnect({ host, port });
      return tlsConnect({
        host,
        port,
        ...(isIP(host) ? {} : { servername: host }),
        ...(ca ? { ca } : {}),
        ALPNProtocols: ['http/1.1'],
      });
    }
  }
  return new EndpointAgent({ keepAlive: true });
}

/**
 * firebase-admin 13 has no public retry setting; its request handler's HTTP client reads `retry` on every call
 * (SDK internals). The 503 test fails if a later version moves it and retries silently come back.
 */
function setSdkRetries(messaging: Messaging, maxRetries: number): void {
  const client = (messaging as unknown as { messagingRequestHandler?: { httpClient?: { retry?: unknown } } })
    .messagingRequestHandler?.httpClient;
  if (!client || typeof client.retry !== 'object' || client.retry === null) return;
  client.retry = maxRetries > 0 ? { ...client.retry, maxRetries } : null;
}

const TARGET_CODES = new Set([
  'messaging/registration-token-not-registered',
  'messaging/invalid-registration-token',
  'messaging/invalid-recipient',
  'messaging/invalid-package-name',
]);
const TRANSIENT_CODES = new Set([
  'messaging/message-rate-exceeded',
  'messaging/device-message-rate-exceeded',
  'messaging/topics-message-rate-exceeded',
  'messaging/server-unavailable',
  'messaging/internal-error',
  // A server answer the SDK could not map (a proxy's 502 page, a new error code): let the retry policy judge.
  'messaging/unknown-error',
  'app/network-error',
  'app/network-timeout',
]);

function classify(code: string, message: string): FailureKind {
  if (TARGET_CODES.has(code)) return 'permanent_target';
  if (TRANSIENT_CODES.has(code)) return 'transient';
  // FCM answers a malformed token with a plain INVALID_ARGUMENT; only the message tells it from a bad payload.
  if (code === 'messaging/invalid-argument' && /registration token|message\.token/i.test(message)) {
    return 'permanent_target';
  }
  // SENDER_ID_MISMATCH (the token belongs to another Firebase project) and PERMISSION_DENIED (the service account
  // may not send for this project) both become mismatched-credential; FCM's message is what tells them apart.
  if (code === 'messaging/mismatched-credential')
    return /sender ?id/i.test(message) ? 'permanent_target' : 'permanent_request';
  return 'permanent_request';
}

function toProviderError(error: unknown, deviceToken: string): ProviderError {
  const scrub = (text: string) => redact(text, { values: [deviceToken] });
  if (error instanceof TokenExchangeError) {
    return new ProviderError(
      error.kind,
      error.code,
      error.message,
      error.status !== undefined ? { status: error.status } : {},
    );
  }
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
  };
  const text = scrub(typeof message === 'string' ? message : String(error));
  if (typeof code !== 'string') return new ProviderError('transient', 'Error', `FCM send failed: ${text}`);
  return new ProviderError(classify(code, text), code, `FCM rejected the message: ${text}`);
}
