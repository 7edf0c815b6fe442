import { Auth } from '@vonage/auth';
import { Vonage } from '@vonage/server-sdk';
import type { FailureKind, SendResult, SmsProvider, SmsRequest } from '../../provider.types';
import { ProviderError } from '../../provider.types';
import { requestFailure, retryAfterMs } from '../../transport-errors';
import type { VonageConfig } from './vonage.config';
import { redact } from '../../../../platform/redact';

export interface VonageSmsProviderOptions extends VonageConfig {
  /** Per-request timeout; defaults to 10 s so that a stuck call ends well inside the activity's timeout. */
  timeoutMs?: number;
}

/**
 * The SMS API answers HTTP 200 with a per-message `status`; anything but "0" is a failure
 * (https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms). Recipient problems cannot be helped by
 * retrying; throttling and Vonage-side errors can.
 */
const TARGET_STATUSES = new Set([
  '6', // invalid message: the destination is unroutable
  '7', // number barred
  '29', // non-whitelisted destination (trial accounts)
  '33', // number de-activated
]);
const TRANSIENT_STATUSES = new Set([
  '1', // throttled
  '5', // internal error
  '10', // too many existing binds
]);

interface VonageMessage {
  status?: string;
  messageId?: string;
  errorText?: string;
}

export class VonageSmsProvider implements SmsProvider {
  readonly id = 'vonage' as const;
  private readonly client: Vonage;

  constructor(private readonly options: VonageSmsProviderOptions) {
    this.client = new Vonage(new Auth({ apiKey: options.apiKey, apiSecret: options.apiSecret }), {
      ...(options.endpoint ? { restHost: options.endpoint } : {}),
      timeout: options.timeoutMs ?? 10_000,
    });
  }

  async send(request: SmsRequest): Promise<SendResult> {
    let response;
    try {
      response = await this.client.sms.send({
        to: request.to.replace(/^\+/, ''),
        from: this.options.from.replace(/^\+(?=\d)/, ''),
        text: request.body,
        // Echoed in delivery receipts, so a receipt finds its delivery even if the message id was never recorded.
        clientRef: request.idempotencyKey,
      });
    } catch (err) {
      throw this.toProviderError(err, request.to);
    }
    const message = (response.messages?.[0] ?? {}) as VonageMessage;
    return { providerMessageId: message.messageId };
  }

  private toProviderError(err: unknown, to: string): unknown {
    const secrets = [to, to.replace(/^\+/, ''), this.options.apiSecret, this.options.apiKey];
    // A non-zero message status: the SDK throws MessageSendAllFailure carrying the parsed answer.
    const failed = (err as { getFailedMessages?: () => VonageMessage[] }).getFailedMessages?.()[0];
    if (failed) {
      const status = String(failed.status ?? '');
      const kind = classifyStatus(status);
      return new ProviderError(
        kind,
        `status_${status}`,
        `Vonage refused the message (status ${status}): ${redact(failed.errorText ?? '', { values: secrets })}`,
      );
    }
    // A non-2xx HTTP answer (401 bad credentials, 429, 5xx from Vonage or a proxy): a VetchError with the response.
    const response = (err as { response?: { status?: number; headers?: { get?(name: string): string | null } } })
      .response;
    if (typeof response?.status === 'number') {
      const status = response.status;
      const kind: FailureKind = status === 429 || status === 408 || status >= 500 ? 'transient' : 'permanent_request';
      const retryAfter =
        kind === 'transient' ? retryAfterMs(response.headers?.get?.('retry-after') ?? undefined) : undefined;
      return new ProviderError(kind, `HTTP_${status}`, `Vonage answered HTTP ${status}`, {
        status,
        ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
      });
    }
    if ((err as { name?: string }).name === 'AbortError') {
      return new ProviderError('transient', 'ETIMEDOUT', 'Vonage request timed out');
    }
    const failure =
      requestFailure(err) ??
      (err instanceof Error && /fetch|network|socket/i.test(err.message)
        ? { kind: 'transient' as const, code: 'ERR_NETWORK' }
        : undefined);
    if (failure) return new ProviderError(failure.kind, failure.code, `Vonage request failed: ${failure.code}`);
    return err;
  }
}

function classifyStatus(status: string): FailureKind {
  if (TARGET_STATUSES.has(status)) return 'permanent_target';
  if (TRANSIENT_STATUSES.has(status)) return 'transient';
  // 2 missing params, 3 invalid params, 4 invalid credentials, 8 account barred, 9 quota exceeded, 15 invalid sender...
  return 'permanent_request';
}

/** Vonage echoes numbers in its error texts; our records must not. */
