import { AsyncLocalStorage } from 'node:async_hooks';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import TwilioServiceException from 'twilio/lib/base/TwilioServiceException';
import type { FailureKind, SendResult, SmsProvider, SmsRequest } from '../../provider.types';
import { ProviderError } from '../../provider.types';
import { headerValue, requestFailure, retryAfterMs } from '../../transport-errors';
import type { TwilioConfig } from './twilio.config';
import { DEAD_NUMBER_CODES } from './twilio.codes';
import { redact } from '../../../../platform/redact';

export interface TwilioSmsProviderOptions extends TwilioConfig {
  /** Per-request timeout; defaults to 10 s so that a stuck call ends well inside the activity's timeout. */
  timeoutMs?: number;
  /** Delivery receipts go here; the delivery id is appended as `herald_delivery_id` (see send()). */
  statusCallbackUrl?: string;
}

/** Recipient problems: the number is invalid, unreachable by SMS, or has opted out. Retrying cannot help. */
const TARGET_CODES = new Set<number>([
  ...DEAD_NUMBER_CODES,
  21214, // 'To' number cannot be reached
  21217, // number does not appear to be valid
  21610, // recipient unsubscribed (replied STOP)
]);

/** Twilio-side back-pressure reported as a 4xx: the same request succeeds later. */
const TRANSIENT_CODES = new Set([
  20429, // too many requests
  21611, // the 'From' number's queue is full
]);

/**
 * RestException drops the response headers, and Retry-After lives there. Each send() runs in its own store so the
 * headers of *its* response are found even when many sends share the client concurrently.
 */
const responseHeaders = new AsyncLocalStorage<{ headers?: unknown }>();

class HeaderKeepingRequestClient extends twilio.RequestClient {
  override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const response = await super.request(opts);
    const slot = responseHeaders.getStore();
    if (slot) slot.headers = response.headers;
    return response;
  }
}

export class TwilioSmsProvider implements SmsProvider {
  readonly id = 'twilio' as const;
  private readonly client: twilio.Twilio;

  constructor(private readonly options: TwilioSmsProviderOptions) {
    const httpClient = new HeaderKeepingRequestClient({
      timeout: options.timeoutMs ?? 10_000,
      keepAlive: true,
      // The SDK's own 429 retry would sleep inside the activity, invisible to Temporal and to heartbeats, and then
      // hand over a failure the retry policy retries again (attempts multiply). Temporal's retry policy owns retries.
      autoRetry: false,
    });
    this.client = twilio(options.accountSid, options.authToken, {
      httpClient,
      autoRetry: false,
      // Empty values stop the SDK from reading TWILIO_REGION / TWILIO_EDGE from the environment, which would rewrite
      // the configured host (proxy.corp.example.com → proxy.sydney.au1.example.com). Choose regions via `endpoint`.
      region: '',
      edge: '',
    });
    if (options.endpoint) this.client.api.baseUrl = options.endpoint;
  }

  async send(request: SmsRequest): Promise<SendResult> {
    const slot: { headers?: unknown } = {};
    try {
      const message = await responseHeaders.run(slot, () =>
        this.client.messages.create({
          to: request.to,
          from: this.options.from,
          body: request.body,
          ...(this.options.statusCallbackUrl
            ? { statusCallback: withDeliveryId(this.options.statusCallbackUrl, request.idempotencyKey) }
            : {}),
        }),
      );
      return { providerMessageId: message.sid };
    } catch (err) {
      throw this.toProviderError(err, request.to, slot.headers);
    }
  }

  private toProviderError(err: unknown, to: string, headers: unknown): unknown {
    const secrets = [to, this.options.authToken];
    // The Messages API answers in the legacy format (RestException); newer APIs answer RFC 9457 problems.
    if (err instanceof twilio.RestException || err instanceof TwilioServiceException) {
      const { status, code } = err;
      const kind = classify(status, code);
      const retryAfter = kind === 'transient' ? retryAfterMs(headerValue(headers, 'retry-after')) : undefined;
      const detail = redact(err.message ?? '', { values: secrets });
      return new ProviderError(
        kind,
        code ? String(code) : `HTTP_${status}`,
        `Twilio answered HTTP ${status}${code ? ` (code ${code})` : ''}: ${detail}`,
        { status, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) },
      );
    }
    const failure = requestFailure(err);
    if (failure) return new ProviderError(failure.kind, failure.code, `Twilio request failed: ${failure.code}`);
    return err;
  }
}

function classify(status: number, code: number | undefined): FailureKind {
  if (code !== undefined && TARGET_CODES.has(code)) return 'permanent_target';
  if (status === 429 || status === 408 || status >= 500 || (code !== undefined && TRANSIENT_CODES.has(code))) {
    return 'transient';
  }
  // 20003 bad credentials, 21606 bad 'From', 20404 wrong account or path, 21602 empty body...: our request is wrong.
  return 'permanent_request';
}

/**
 * Receipts name the message by SID, but a worker can die between Twilio accepting the message and Herald recording
 * the SID; carrying the delivery id in the callback URL lets the receipt find its delivery anyway.
 */
function withDeliveryId(callbackUrl: string, deliveryId: string): string {
  const url = new URL(callbackUrl);
  url.searchParams.set('herald_delivery_id', deliveryId);
  return url.toString();
}

/** Twilio echoes the recipient in its messages ("The 'To' number +1555… is not valid"); our records must not. */
