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
} from '@herald/client';
import {
  HttpFakeServer,
  unusedPort,
  type RecordedRequest,
  type ScriptedResponse,
} from '../../../test/fakes/http-fake-server';
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

describe('HTTP transport: query strings, partial success and calls that are not repeatable', () => {
  it('encodes query parameters: a time zone offset arrives with its +, a list of statuses as one comma list', async () => {
    await client.stats({ from: '2025-03-01T00:00:00+09:00', to: '2025-03-02T00:00:00+09:00', groupBy: 'day' });
    expect(api.lastRequest()).toMatchObject({
      method: 'GET',
      path: '/v1/stats',
      query: { from: '2025-03-01T00:00:00+09:00', to: '2025-03-02T00:00:00+09:00', groupBy: 'day' },
    });
    await client.listNotifications({ status: ['failed', 'partially_delivered'], userId: 'u+1@x', limit: 2 });
    expect(api.lastRequest()).toMatchObject({
      path: '/v1/notifications',
      query: { status: 'failed,partially_delivered', userId: 'u+1@x', limit: '2' },
    });
    // Options left out are not sent at all (the API applies its defaults).
    await client.listTopicSubscribers('news');
    expect(api.lastRequest()).toMatchObject({ path: '/v1/topics/news/subscribers', query: {} });
  });

  it('encodes ids in paths, so a run id with colons is one path segment', async () => {
    await client.getCampaignRun('cmp_1', 'campaign-cmp_1-2025-03-01T00:00:00Z');
    expect(api.lastRequest().path).toBe('/v1/campaigns/cmp_1/runs/campaign-cmp_1-2025-03-01T00%3A00%3A00Z');
    await client.getTemplateVersion('order.shipped', 3);
    expect(api.lastRequest().path).toBe('/v1/templates/order.shipped/versions/3');
  });

  it('a 207 of a bulk upsert is a result with the failed items, not an error, and is not retried', async () => {
    const answer = {
      succeeded: 1,
      failed: 1,
      results: [
        { index: 0, id: 'u1', status: 'created' },
        {
          index: 1,
          id: 'u2',
          status: 'error',
          error: { code: 'validation_error', field: 'phone', message: 'must be E.164' },
        },
      ],
    };
    api.enqueue({ status: 207, body: answer });
    const result = await client.bulkUpsertUsers([
      { id: 'u1', email: 'u1@example.com' },
      { id: 'u2', phone: '555' },
    ]);
    expect(result).toEqual(answer);
    const failed = result.results.filter((r) => r.status === 'error');
    expect(failed.map((r) => r.status === 'error' && r.error.field)).toEqual(['phone']);
    expect(api.requests).toHaveLength(1);
    expect(api.lastRequest().body).toEqual({
      users: [
        { id: 'u1', email: 'u1@example.com' },
        { id: 'u2', phone: '555' },
      ],
    });
  });

  const campaign = {
    name: 'Spring',
    template: 'news',
    audience: { topic: 'members' },
    schedule: { cron: '0 9 * * MON', timezone: 'Europe/Paris' },
  };

  const campaignKeys = () => api.requests.map((r) => (r.headers as IncomingHttpHeaders)['idempotency-key']);

  it.each<[string, ScriptedResponse]>([
    ['a 502', { status: 502, body: '<html>Bad Gateway</html>' }],
    ['a 503 from Herald', refusal(503, 'temporal_unavailable')],
    ['a connection closed without an answer', { fault: 'hang-up' }],
  ])('creating a campaign is retried after %s, with the same generated Idempotency-Key', async (_name, failure) => {
    api.enqueue(failure);
    await client.createCampaign(campaign);
    expect(api.requests).toHaveLength(2);
    const [first, second] = campaignKeys();
    expect(first).toMatch(/^idem_[A-Za-z0-9_-]+$/);
    expect(second).toBe(first);
    expect(api.requests[1]!.body).toEqual(api.requests[0]!.body);
  });

  it('creating a campaign sends your Idempotency-Key as given, a new one for each call without, and puts it on a failure', async () => {
    await client.createCampaign(campaign, { idempotencyKey: 'spring-2025' });
    await client.createCampaign(campaign);
    await client.createCampaign(campaign);
    const [given, generated1, generated2] = campaignKeys();
    expect(given).toBe('spring-2025');
    expect(generated1).not.toBe(generated2);

    api.reset();
    api.enqueue(
      refusal(503, 'temporal_unavailable'),
      refusal(503, 'temporal_unavailable'),
      refusal(503, 'temporal_unavailable'),
    );
    const error = await client.createCampaign(campaign).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ attempts: 3, idempotencyKey: campaignKeys()[0] });
    expect(new Set(campaignKeys()).size).toBe(1);
  });

  it('the same key with another campaign is an InvalidInputError on idempotencyKey, not retried', async () => {
    api.enqueue(
      refusal(422, 'idempotency_key_reused', 'already created a different campaign', { campaignId: 'cmp_1' }),
    );
    const error = await client.createCampaign(campaign, { idempotencyKey: 'k1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({
      code: 'idempotency_key_reused',
      field: 'idempotencyKey',
      idempotencyKey: 'k1',
      details: { campaignId: 'cmp_1' },
      retryable: false,
    });
    expect(api.requests).toHaveLength(1);
  });

  it('listCampaigns sends its filter as the query: a list of statuses as one comma list', async () => {
    await client.listCampaigns({ status: ['active', 'deleted'], limit: 20, cursor: 'abc' });
    expect(api.lastRequest()).toMatchObject({
      method: 'GET',
      path: '/v1/campaigns',
      query: { status: 'active,deleted', limit: '20', cursor: 'abc' },
    });
    await client.listCampaigns();
    expect(api.lastRequest()).toMatchObject({ path: '/v1/campaigns', query: {} });
  });

  it('triggering a run is still not retried after a 503: each repeat would be one more run', async () => {
    api.enqueue(refusal(503, 'temporal_unavailable'));
    const error = await client.triggerCampaign('cmp_1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ attempts: 1 });
    expect((error as Error).message).toContain('not retried');
    expect(api.requests).toHaveLength(1);
  });

  it('a trigger refused by the rate limit (429) is retried: Herald did not act on it', async () => {
    api.enqueue({ ...refusal(429, 'rate_limited'), headers: { 'Retry-After': '0' } });
    await client.triggerCampaign('cmp_1');
    expect(api.requests.map((r) => r.path)).toEqual(['/v1/campaigns/cmp_1/trigger', '/v1/campaigns/cmp_1/trigger']);
  });

  it('a trigger that cannot connect is retried: the request never reached Herald', async () => {
    const unreachable = createHeraldClient({
      http: {
        url: `http://127.0.0.1:${await unusedPort()}`,
        apiKey: 'key',
        retry: { maxAttempts: 3, initialDelayMs: 1 },
      },
    });
    await expect(unreachable.triggerCampaign('cmp_1')).rejects.toMatchObject({
      name: 'TransientError',
      code: 'network_error',
      attempts: 3,
    });
  });

  it('pausing (repeatable) is retried after a 502', async () => {
    api.enqueue({ status: 502, body: '' });
    await client.pauseCampaign('cmp_1');
    expect(api.requests).toHaveLength(2);
  });

  it.each<[string, ScriptedResponse, () => Promise<unknown>, object]>([
    [
      'a cursor the API did not return',
      refusal(400, 'invalid_cursor', 'cursor is not valid'),
      () => client.listNotifications({ cursor: 'bogus' }),
      { name: 'InvalidInputError', field: 'cursor' },
    ],
    [
      'a query field named by the API',
      refusal(400, 'validation_error', 'query.limit: too big', [
        { field: 'query.limit', code: 'too_big', message: 'too big' },
      ]),
      () => client.listCampaignRuns('cmp_1'),
      { name: 'InvalidInputError', field: 'limit' },
    ],
    [
      'a delivery of another notification',
      refusal(400, 'delivery_mismatch', 'not part of it'),
      () => client.trackEvent({ notificationId: 'ntf_1', deliveryId: 'dlv_2', type: 'opened' }),
      { name: 'InvalidInputError', field: 'deliveryId' },
    ],
    [
      'a campaign whose schedule is gone (409 schedule_not_found)',
      refusal(409, 'schedule_not_found', 'pause: no schedule'),
      () => client.pauseCampaign('cmp_1'),
      { name: 'ConflictError', code: 'schedule_not_found', status: 409 },
    ],
    [
      'a retry of a delivered notification',
      refusal(409, 'not_retryable', 'notification is delivered'),
      () => client.retryNotification('ntf_1'),
      { name: 'ConflictError', code: 'not_retryable' },
    ],
    [
      'a missing template version (404 without details)',
      refusal(404, 'template_version_not_found', 'template "news" has no version 9'),
      () => client.getTemplateVersion('news', 9),
      { name: 'NotFoundError', resource: 'template_version', id: 'news' },
    ],
  ])('refused for %s: the error class to act on, not retried', async (_name, answer, call, expected) => {
    api.enqueue(answer);
    await expect(call()).rejects.toMatchObject({ ...expected, retryable: false });
    expect(api.requests).toHaveLength(1);
  });

  it('invalid input to the new calls never leaves the process', async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => client.stats({ from: '2025-03-02T00:00:00Z', to: '2025-03-01T00:00:00Z' }), 'from'],
      [() => client.stats({ from: 'yesterday', to: '2025-03-01T00:00:00Z' }), 'from'],
      [() => client.listNotifications({ status: 'lost' as 'failed' }), 'status.0'],
      [() => client.listNotifications({ limit: 500 }), 'limit'],
      [() => client.listTopicSubscribers('news', { limit: 0 }), 'limit'],
      [() => client.getTemplateVersion('news', 0), 'version'],
      [() => client.previewTemplate('news', { locale: 'not a locale' }), 'locale'],
      [() => client.trackEvent({ notificationId: 'ntf_1', type: 'sent' as 'opened' }), 'type'],
      [() => client.bulkUpsertUsers([]), 'users'],
      [() => client.subscribeToTopic('news', ['ok', 'has space']), 'userIds.1'],
      [() => client.createCampaign({ ...campaign, schedule: { cron: 'every monday' } }), 'schedule.cron'],
      [() => client.previewAudience({ audience: { filter: {} } }), 'audience.filter'],
      [() => client.putCategory('a/b', {}), 'name'],
      [() => client.rescheduleNotification('ntf_1', 'tomorrow'), 'sendAt'],
      [() => client.retryNotifications({ status: 'delivered' as 'failed' }), 'status'],
      [() => client.cancelCampaignRun('cmp_1', ''), 'runId'],
      [() => client.listCampaignRuns('cmp_1', { limit: 101 }), 'limit'],
      [() => client.listCampaigns({ status: 'archived' as 'active' }), 'status.0'],
      [() => client.listCampaigns({ limit: 201 }), 'limit'],
      [() => client.createCampaign(campaign, { idempotencyKey: 'k'.repeat(256) }), 'idempotencyKey'],
    ];
    for (const [call, field] of cases) {
      await expect(call()).rejects.toMatchObject({ name: 'InvalidInputError', field });
    }
    expect(api.requests).toHaveLength(0);
  });
});
