/**
 * Herald's HTTP API, for services that cannot reach the Temporal cluster. Almost every call is safe to repeat (sends
 * and campaign creations carry an Idempotency-Key; everything else is a read, an upsert, a delete or a state change
 * that a second time leaves as it is), so transient failures — network errors, timeouts, 408, 429 and 5xx — are
 * retried with exponential backoff and jitter, honouring Retry-After, a bounded number of times; then a
 * TransientError says so. The call that is not (triggering a campaign run: each repeat is one more) is retried only
 * when the failure proves Herald did not act on the request.
 */
import { HeraldError, heraldErrorFrom, TransientError, type HeraldErrorOptions } from './errors';
import type {
  CancelResult,
  Device,
  DeviceInput,
  KeyedSendInput,
  Notification,
  NotificationStatus,
  NotificationTransport,
  Preferences,
  PreferencesInput,
  SendResult,
  Template,
  TemplateInput,
  User,
  UserErasure,
  UserInput,
} from './types';

export interface RetryOptions {
  /** Attempts in all, the first included (default 4; 1 turns retries off). */
  maxAttempts?: number;
  /** Delay before the first retry (default 250 ms); doubled on each further retry. */
  initialDelayMs?: number;
  /** Longest delay between two attempts, Retry-After included (default 5 s). */
  maxDelayMs?: number;
}

export interface HttpTransportOptions {
  /** Herald's base URL, e.g. https://herald.internal:3000 */
  url: string;
  apiKey: string;
  /** Time limit of one attempt (default 10 s); a timed-out attempt is retried like a network error. */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Another fetch implementation (a proxy agent, instrumentation). Defaults to the global fetch. */
  fetch?: typeof fetch;
}

const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);
/** Answers given before any handler ran (the rate limit, "too early"): even a call that is not repeatable is retried. */
const NOT_ACTED_ON_STATUSES = new Set([425, 429]);
/** No connection was made, so the request never reached Herald. */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seconds or an HTTP date, as RFC 9110 allows. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * The wait before attempt `attempt + 1`: exponential backoff with jitter (between half and all of the doubled
 * delay, so that clients that failed together do not retry together); a server's Retry-After is a floor; both are
 * capped at maxDelayMs.
 */
export function retryDelay(
  attempt: number,
  retry: Required<RetryOptions>,
  retryAfter?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.min(retry.maxDelayMs, Math.max(jittered, retryAfter ?? 0));
}

interface Attempted {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface RequestOptions {
  body?: unknown;
  /** Query parameters; undefined ones are left out. */
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  /** Names the resource for a 404 without details. */
  id?: string;
  /**
   * False for a call that does something more each time it is repeated: a failure that leaves unknown whether Herald
   * acted on it (no answer, a 5xx) is then not retried, and the TransientError says so.
   */
  repeatable?: boolean;
}

/** The transport for calls that need HTTP; `call` names the call in the error when the client has none. */
export type NeedHttp = (call: string) => HttpTransport;

export class HttpTransport implements NotificationTransport {
  readonly kind = 'http';
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retry: Required<RetryOptions>;

  constructor(private readonly options: HttpTransportOptions) {
    if (!options.url) throw new HeraldError('invalid_configuration', 'http.url is required');
    if (!options.apiKey) throw new HeraldError('invalid_configuration', 'http.apiKey is required');
    this.base = options.url.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retry = {
      maxAttempts: Math.max(1, options.retry?.maxAttempts ?? 4),
      initialDelayMs: options.retry?.initialDelayMs ?? 250,
      maxDelayMs: options.retry?.maxDelayMs ?? 5_000,
    };
  }

  /** One call, retried while the failure is transient (and, for a call that is not repeatable, not acted on). */
  async request<T>(
    method: string,
    path: string,
    { body, query, headers = {}, id, repeatable = true }: RequestOptions = {},
  ): Promise<{ body: T; headers: Headers }> {
    const target = path + queryString(query);
    for (let attempt = 1; ; attempt++) {
      let failure: { message: string; code: string; options: HeraldErrorOptions; retryAfter?: number };
      let actedOn: boolean;
      try {
        const answer = await this.attempt(method, target, body, headers);
        if (answer.status < 300) return { body: answer.body as T, headers: answer.headers };
        const refusal = readRefusal(answer);
        if (!RETRYABLE_STATUSES.has(answer.status)) throw heraldErrorFrom(refusal, answer.status, { id });
        failure = {
          message: `${method} ${target}: ${answer.status} ${refusal.message}`,
          code: refusal.code,
          options: { status: answer.status, details: refusal.details },
          retryAfter: retryAfterMs(answer.headers.get('retry-after')),
        };
        actedOn = !NOT_ACTED_ON_STATUSES.has(answer.status);
      } catch (error) {
        if (error instanceof HeraldError) throw error;
        // No answer (refused, reset, timed out): the request may or may not have reached Herald — safe to repeat.
        const reason = (error as Error).name === 'TimeoutError' ? 'timeout' : 'network_error';
        const cause = describe(error);
        failure = {
          message: `${method} ${target}: ${reason === 'timeout' ? `no answer in ${this.timeoutMs} ms` : cause}`,
          code: reason,
          options: { cause: error },
        };
        actedOn = !NOT_CONNECTED_CODES.has(cause);
      }
      if (!repeatable && actedOn) {
        throw new TransientError(
          failure.code,
          `${failure.message} (not retried: Herald may have acted on it, and repeating it would do it again)`,
          attempt,
          failure.options,
        );
      }
      if (attempt >= this.retry.maxAttempts) {
        throw new TransientError(
          failure.code,
          `${failure.message} (gave up after ${attempt} attempt${attempt > 1 ? 's' : ''})`,
          attempt,
          failure.options,
        );
      }
      await sleep(retryDelay(attempt, this.retry, failure.retryAfter));
    }
  }

  private async attempt(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<Attempted> {
    const response = await this.fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.options.apiKey}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // A proxy's HTML error page: the status still says what happened.
        if (response.ok) throw new HeraldError('invalid_response', `${method} ${path}: the answer is not JSON`);
        parsed = undefined;
      }
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  async send(input: KeyedSendInput): Promise<SendResult> {
    const { body, headers } = await this.request<{ id: string; status: NotificationStatus }>(
      'POST',
      '/v1/notifications',
      { body: input, headers: { 'idempotency-key': input.eventId } },
    );
    return {
      id: body.id,
      status: body.status,
      eventId: input.eventId,
      replayed: headers.get('idempotent-replayed') === 'true',
    };
  }

  async get(id: string): Promise<Notification> {
    return (await this.request<Notification>('GET', `/v1/notifications/${enc(id)}`, { id })).body;
  }

  async cancel(id: string): Promise<CancelResult> {
    await this.request<Notification>('DELETE', `/v1/notifications/${enc(id)}`, { id });
    return { id, status: 'canceled' };
  }

  async upsertUser(userId: string, input: UserInput): Promise<User> {
    return (await this.request<User>('PUT', `/v1/users/${enc(userId)}`, { body: input, id: userId })).body;
  }

  async getUser(userId: string): Promise<User> {
    return (await this.request<User>('GET', `/v1/users/${enc(userId)}`, { id: userId })).body;
  }

  async deleteUser(userId: string): Promise<UserErasure> {
    return (await this.request<UserErasure>('DELETE', `/v1/users/${enc(userId)}`, { id: userId })).body;
  }

  async registerDevice(userId: string, input: DeviceInput): Promise<Device> {
    const path = `/v1/users/${enc(userId)}/devices`;
    return (await this.request<Device>('POST', path, { body: input, id: userId })).body;
  }

  async listDevices(userId: string): Promise<Device[]> {
    const path = `/v1/users/${enc(userId)}/devices`;
    return (await this.request<{ devices: Device[] }>('GET', path, { id: userId })).body.devices;
  }

  async removeDevice(userId: string, deviceId: string): Promise<void> {
    await this.request('DELETE', `/v1/users/${enc(userId)}/devices/${enc(deviceId)}`, { id: deviceId });
  }

  async getPreferences(userId: string): Promise<Preferences> {
    return (await this.request<Preferences>('GET', `/v1/users/${enc(userId)}/preferences`, { id: userId })).body;
  }

  async setPreferences(userId: string, preferences: PreferencesInput): Promise<Preferences> {
    const path = `/v1/users/${enc(userId)}/preferences`;
    return (await this.request<Preferences>('PUT', path, { body: preferences, id: userId })).body;
  }

  async putTemplate(templateId: string, input: TemplateInput): Promise<Template> {
    const path = `/v1/templates/${enc(templateId)}`;
    return (await this.request<Template>('PUT', path, { body: input, id: templateId })).body;
  }

  async getTemplate(templateId: string): Promise<Template> {
    return (await this.request<Template>('GET', `/v1/templates/${enc(templateId)}`, { id: templateId })).body;
  }
}

export const enc = encodeURIComponent;

/** `?a=1&b=2`, percent-encoded (a `+` in a time zone offset stays a `+`), or nothing. */
function queryString(query: Record<string, string | undefined> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.append(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

function readRefusal(answer: Attempted): { code: string; message: string; details?: unknown } {
  const error = (answer.body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
    ?.error;
  if (error && typeof error.code === 'string') {
    return {
      code: error.code,
      message: typeof error.message === 'string' ? error.message : error.code,
      ...(error.details !== undefined ? { details: error.details } : {}),
    };
  }
  // Not Herald's error format (a proxy or load balancer answered): name the status instead.
  return { code: `http_${answer.status}`, message: `HTTP ${answer.status}` };
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
