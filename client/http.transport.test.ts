/**
 * The HTTP transport's retry and error mapping, against a scripted fake of Herald's API on 127.0.0.1 (the full
 * behaviour against a running Herald is in test/e2e/client-sdk.e2e.test.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  ConflictError,
  createHeraldClient,
  HeraldError,
  InvalidInputError,
  NotFoundError,
  TransientError,
  UnauthorizedError,
  type HeraldClient,
} from 'herald/client';
import { HttpFakeServer, type RecordedRequest, type ScriptedResponse } from '../test/fakes/http-fake-server';
import { retryAfterMs, retryDelay } from './http.transport';

/** Answers like Herald's API: 202 to a send, 200 with `{}` to anything else, unless an answer is queued. */
class HeraldApiFake extends HttpFakeServer<Record<string, unknown>> {
  protected parseBody(raw: string): Record<string, unknown> | undefined {
    try {
      return raw ? JSON.parse(raw) : undefined;
    } catch {
      return undefined;
    }
  }
  protected reject(request: RecordedRequest<Record<string, unknown>>): ScriptedResponse | undefined {
    if (request.headers.authorization !== 'Bearer key') {
      return { status: 401, body: { error: { code: 'unauthorized', message: 'invalid API key' } } };
    }
    return undefined;
  }
  protected succeed(request: RecordedRequest<Record<string, unknown>>): ScriptedResponse {
    if (request.method === 'POST' && request.path === '/v1/notifications') {
      return { status: 202, body: { id: 'ntf_1', status: 'accepted' } };
    }
    return { status: 200, body: {} };
  }
}

const refusal = (status: number, code: string, message = code, details?: unknown): ScriptedResponse => ({
  status,
  body: { error: { code, message, ...(details !== undefined ? { details } : {}) } },
});

let api: HeraldApiFake;
let client: HeraldClient;
const send = { userId: 'u1', template: 'welcome', data: { name: 'Ada' } };

beforeAll(async () => {
  api = new HeraldApiFake();
  await api.start();
});
beforeEach(() => {
  api.reset();
  client = createHeraldClient({
    http: {
      url: `${api.url}/`,
      apiKey: 'key',
      // Long enough that a loaded CI machine never times out a request the fake answers; the no-answer case waits it out.
      timeoutMs: 3000,
      retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
    },
  });
});
afterAll(async () => {
  await api.stop();
});

const keys = (requests: RecordedRequest<Record<string, unknown>>[]) =>
  requests.map((r) => [(r.headers as IncomingHttpHeaders)['idempotency-key'], r.body?.eventId]);

describe('HTTP transport: transient failures are retried with the same event id', () => {
  it.each<[string, ScriptedResponse]>([
    ['503 with Retry-After', { ...refusal(503, 'temporal_unavailable'), headers: { 'Retry-After': '0' } }],
    ['429', refusal(429, 'rate_limited')],
    ['a proxy’s 502 HTML page', { status: 502, body: '<html>Bad Gateway</html>' }],
    ['a connection closed without an answer', { fault: 'hang-up' }],
    ['an attempt that times out', { fault: 'no-response' }],
  ])('after %s, the next attempt succeeds and carries the same key', async (_name, failure) => {
    api.enqueue(failure);
    const result = await client.send(send);
    expect(result).toEqual({ id: 'ntf_1', status: 'accepted', eventId: result.eventId, replayed: false });
    expect(result.eventId).toMatch(/^evt_/);
    expect(api.requests).toHaveLength(2);
    expect(keys(api.requests)).toEqual([
      [result.eventId, result.eventId],
      [result.eventId, result.eventId],
    ]);
  });

  it('the caller’s own event id is the key of every attempt', async () => {
    api.enqueue(refusal(500, 'internal_error'));
    const result = await client.send({ ...send, eventId: 'order-7-shipped' });
    expect(result.eventId).toBe('order-7-shipped');
    expect(keys(api.requests)).toEqual([
      ['order-7-shipped', 'order-7-shipped'],
      ['order-7-shipped', 'order-7-shipped'],
    ]);
  });

  it('gives up after maxAttempts with a TransientError that carries the event id', async () => {
    api.enqueue(...[1, 2, 3].map(() => refusal(503, 'temporal_unavailable', 'could not start')));
    const error = await client.send(send).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'temporal_unavailable', status: 503, attempts: 3, retryable: true });
    expect((error as TransientError).eventId).toBe(api.requests[0]!.body!.eventId);
    expect(api.requests).toHaveLength(3);
    expect(new Set(keys(api.requests).flat()).size).toBe(1);
  });

  it('a timeout on every attempt is a TransientError with code timeout', async () => {
    api.enqueue({ fault: 'no-response' }, { fault: 'no-response' }, { fault: 'no-response' });
    await expect(client.getUser('u1')).rejects.toMatchObject({ name: 'TransientError', code: 'timeout', attempts: 3 });
  });

  it('maxAttempts 1 turns retries off', async () => {
    const once = createHeraldClient({ http: { url: api.url, apiKey: 'key', retry: { maxAttempts: 1 } } });
    api.enqueue(refusal(503, 'temporal_unavailable'));
    await expect(once.send(send)).rejects.toMatchObject({ name: 'TransientError', attempts: 1 });
    expect(api.requests).toHaveLength(1);
  });
});

describe('HTTP transport: a refusal is not retried and becomes the error class to act on', () => {
  it.each<[string, ScriptedResponse, object]>([
    [
      '400 validation_error',
      refusal(400, 'validation_error', 'body.userId: bad', [
        { field: 'body.userId', code: 'invalid_format', message: 'bad' },
        { field: 'body.channels.0', code: 'invalid_value', message: 'bad' },
      ]),
      {
        name: 'InvalidInputError',
        field: 'userId',
        issues: [
          { field: 'userId', code: 'invalid_format', message: 'bad' },
          { field: 'channels.0', code: 'invalid_value', message: 'bad' },
        ],
      },
    ],
    [
      '400 idempotency_key_mismatch',
      refusal(400, 'idempotency_key_mismatch', 'differ'),
      { name: 'InvalidInputError', field: 'eventId' },
    ],
    [
      '404 user_not_found',
      refusal(404, 'user_not_found', 'user "u1" does not exist', { resource: 'user', id: 'u1' }),
      { name: 'NotFoundError', resource: 'user', id: 'u1', status: 404 },
    ],
    [
      '404 template_not_found without details',
      refusal(404, 'template_not_found', 'template "welcome" does not exist'),
      { name: 'NotFoundError', resource: 'template' },
    ],
    ['401', refusal(401, 'unauthorized', 'invalid API key'), { name: 'UnauthorizedError', status: 401 }],
    ['403', refusal(403, 'forbidden', 'missing scope'), { name: 'UnauthorizedError', code: 'forbidden' }],
    ['409', refusal(409, 'not_cancelable', 'already sending'), { name: 'ConflictError', code: 'not_cancelable' }],
    [
      '404 route_not_found',
      refusal(404, 'route_not_found', 'no route'),
      { name: 'HeraldError', code: 'route_not_found' },
    ],
  ])('%s', async (_name, answer, expected) => {
    api.enqueue(answer);
    const error = await client.send(send).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeraldError);
    expect(error).toMatchObject({ ...expected, retryable: false });
    expect((error as HeraldError).eventId).toBe(api.requests[0]!.body!.eventId);
    expect(api.requests).toHaveLength(1);
  });

  it('the classes are distinct, so a caller can branch on them', async () => {
    api.enqueue(refusal(409, 'not_cancelable'));
    const error = await client.cancel('ntf_x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).not.toBeInstanceOf(InvalidInputError);
    expect(error).not.toBeInstanceOf(NotFoundError);
    expect(error).not.toBeInstanceOf(UnauthorizedError);
    expect(error).not.toBeInstanceOf(TransientError);
  });

  it('a wrong API key is an UnauthorizedError', async () => {
    const wrong = createHeraldClient({ http: { url: api.url, apiKey: 'nope' } });
    await expect(wrong.getUser('u1')).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('invalid input never leaves the process', async () => {
    await expect(client.send({ ...send, sendAt: 'tomorrow' })).rejects.toMatchObject({
      name: 'InvalidInputError',
      field: 'sendAt',
    });
    await expect(client.getUser('a/b')).rejects.toMatchObject({ name: 'InvalidInputError', field: 'userId' });
    await expect(client.setPreferences('u1', { quietHours: { start: '25:00', end: '07:00' } })).rejects.toMatchObject({
      name: 'InvalidInputError',
      field: 'quietHours.start',
    });
    expect(api.requests).toHaveLength(0);
  });
});

describe('backoff', () => {
  const retry = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles per attempt with jitter between half and all of it, capped', () => {
    expect([1, 2, 3, 4, 5].map((a) => retryDelay(a, retry, undefined, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 3].map((a) => retryDelay(a, retry, undefined, () => 0))).toEqual([50, 100, 200]);
  });

  it('waits at least what Retry-After asks, up to maxDelayMs', () => {
    expect(retryDelay(1, retry, 700, () => 0)).toBe(700);
    expect(retryDelay(1, retry, 60_000, () => 0)).toBe(1_000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    const inFiveSeconds = new Date(Date.now() + 5_000).toUTCString();
    expect(retryAfterMs(inFiveSeconds)).toBeGreaterThan(3_000);
  });
});
