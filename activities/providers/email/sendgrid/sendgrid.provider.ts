import { Client } from '@sendgrid/client';
import type { MailDataRequired } from '@sendgrid/mail';
import { MailService } from '@sendgrid/mail';
import type { EmailProvider, EmailRequest, FailureKind, SendResult } from '../../provider.types';
import { ProviderError } from '../../provider.types';
import { headerValue, requestFailure, retryAfterMs } from '../../transport-errors';
import type { SendgridConfig } from './sendgrid.config';
import { redact } from '../../../../platform/redact';

export interface SendgridEmailProviderOptions extends SendgridConfig {
  /** Per-request timeout; defaults to 10 s (the SDK's default is none: a stuck call would hang the activity). */
  timeoutMs?: number;
}

/** What @sendgrid/client rejects with when the API answers ≥ 400 (its typings claim `body` is a string; it is JSON). */
interface SendgridResponseError extends Error {
  code: number;
  response: { headers: unknown; body: unknown };
}

interface SendgridApiError {
  message?: string;
  field?: string | null;
}

export class SendgridEmailProvider implements EmailProvider {
  readonly id = 'sendgrid' as const;
  private readonly mail = new MailService();

  constructor(private readonly options: SendgridEmailProviderOptions) {
    // A client of our own: the package's default export is a process-wide singleton that other code could reconfigure.
    const client = new Client();
    // setApiKey resets the base URL to SendGrid's region host, so the endpoint must be set after it.
    client.setApiKey(options.apiKey);
    if (options.endpoint) client.setDefaultRequest('baseUrl', options.endpoint);
    this.mail.setClient(client);
    this.mail.setTimeout(options.timeoutMs ?? 10_000);
  }

  async send(request: EmailRequest): Promise<SendResult> {
    const content = [
      ...(request.text ? [{ type: 'text/plain', value: request.text }] : []),
      ...(request.html ? [{ type: 'text/html', value: request.html }] : []),
    ];
    const [first, ...rest] = content;
    if (!first) throw new ProviderError('permanent_request', 'EMPTY_CONTENT', 'Email has neither html nor text');

    const data: MailDataRequired = {
      from: this.options.from,
      subject: request.subject,
      content: [first, ...rest],
      personalizations: [
        {
          to: request.to,
          // Headers and custom_args go on the personalization, not the message: the SDK also copies message-level
          // headers into the HTTP request's own headers, and the OpenAPI document types message-level custom_args as
          // a string. The event webhook reports personalization custom_args all the same.
          ...(request.headers && Object.keys(request.headers).length > 0 ? { headers: request.headers } : {}),
          customArgs: { herald_delivery_id: request.idempotencyKey },
        },
      ],
    };

    try {
      const [response] = await this.mail.send(data);
      const messageId = headerValue(response.headers, 'x-message-id');
      return typeof messageId === 'string' && messageId ? { providerMessageId: messageId } : {};
    } catch (err) {
      throw toProviderError(err, request.to);
    }
  }
}

function isResponseError(err: unknown): err is SendgridResponseError {
  return (
    err instanceof Error &&
    typeof (err as { code?: unknown }).code === 'number' &&
    typeof (err as { response?: unknown }).response === 'object'
  );
}

function toProviderError(err: unknown, to: string): ProviderError {
  if (isResponseError(err)) {
    const status = err.code;
    const errors = apiErrors(err.response.body);
    const kind = classify(status, errors);
    const retryAfter = kind === 'transient' ? retryAfterOf(err.response.headers) : undefined;
    const detail = errors.map((e) => (e.field && e.field !== 'null' ? `${e.field}: ${e.message}` : e.message));
    return new ProviderError(
      kind,
      `HTTP_${status}`,
      redact(`SendGrid answered HTTP ${status}${detail.length ? `: ${detail.join('; ')}` : ''}`, { values: [to] }),
      { status, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) },
    );
  }
  const failure = requestFailure(err);
  if (failure) return new ProviderError(failure.kind, failure.code, `SendGrid request failed: ${failure.code}`);
  // Nothing left but the SDK refusing our data before any I/O ("Must provide `email`"…): a bug in the request.
  return new ProviderError(
    'permanent_request',
    'INVALID_REQUEST',
    redact(`SendGrid SDK rejected the message: ${err instanceof Error ? err.message : String(err)}`, { values: [to] }),
  );
}

function apiErrors(body: unknown): SendgridApiError[] {
  const errors = (body as { errors?: unknown } | null | undefined)?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is SendgridApiError => !!e && typeof e === 'object') : [];
}

const RECIPIENT_FIELD = /^personalizations(\.\d+)?\.(to|cc|bcc)(\.|$)/;

function classify(status: number, errors: SendgridApiError[]): FailureKind {
  if (status === 429 || status === 408 || status >= 500) return 'transient';
  // Only when every complaint is about the recipient is the target at fault; anything else is our payload's bug.
  if (
    status === 400 &&
    errors.length > 0 &&
    errors.every((e) => typeof e.field === 'string' && RECIPIENT_FIELD.test(e.field))
  ) {
    return 'permanent_target';
  }
  // 401/403 key or sender identity, 400 payload, 413 too large, 404 wrong endpoint.
  return 'permanent_request';
}

/** SendGrid's 429 carries X-RateLimit-Reset (epoch seconds) rather than Retry-After; a proxy may send the latter. */
function retryAfterOf(headers: unknown): number | undefined {
  const retryAfter = retryAfterMs(headerValue(headers, 'retry-after'));
  if (retryAfter !== undefined) return retryAfter;
  const reset = Number(headerValue(headers, 'x-ratelimit-reset'));
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - Date.now()) : undefined;
}
