/**
 * The client SDK (`herald/client`) through both transports against a running Herald: the real API on port 0, a real
 * Temporal dev server and worker, the test's database, and the real provider SDKs pointed at local fakes. Assertions
 * are what the caller sees (results, error classes) and what actually happened (requests at the fake providers, rows
 * in the database).
 */
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  ConflictError,
  createHeraldClient,
  InvalidInputError,
  NotFoundError,
  TransientError,
  UnauthorizedError,
  type HeraldClient,
} from 'herald/client';
import { notificationIntakeWorkflowId, notificationWorkflowId } from '../../lib/ids';
import { NOTIFICATION_INTAKE_WORKFLOW, type NotificationIntakeResult } from '../../workflows/definitions';
import { unusedPort } from '../fakes/http-fake-server';
import { FlakyProxy } from '../fakes/flaky-proxy';
import { TemporalAuthFake } from '../fakes/temporal-auth.fake';
import { startTestHerald, TEST_API_KEY, waitForNotification, type TestHerald } from '../support/herald';
import { startProviderFakes, type ProviderFakes } from '../support/provider-fakes';
import { createLocalTemporal } from '../support/temporal';

jest.setTimeout(120_000);

let temporal: TestWorkflowEnvironment;
let fakes: ProviderFakes;
let herald: TestHerald;
let overHttp: HeraldClient;
let overTemporal: HeraldClient;

const httpOptions = () => ({ url: herald.url, apiKey: TEST_API_KEY, retry: { initialDelayMs: 10, maxDelayMs: 50 } });

beforeAll(async () => {
  temporal = await createLocalTemporal();
  fakes = await startProviderFakes();
  herald = await startTestHerald({ env: fakes.env, temporal });
  overHttp = createHeraldClient({ http: httpOptions() });
  overTemporal = createHeraldClient({
    http: httpOptions(),
    temporal: { client: herald.client, taskQueue: herald.taskQueue },
  });
  await overHttp.putTemplate('shipped', {
    channels: {
      push: { title: 'Hi {{ name }}', body: 'Order {{ order }} shipped' },
      sms: { body: 'Order {{ order }} shipped' },
      email: { subject: 'Order {{ order }}', text: 'Hello {{ name }}, order {{ order }} shipped' },
    },
  });
});

afterAll(async () => {
  await herald?.stop();
  await fakes?.stop();
  await temporal?.teardown();
});

let users = 0;
/** A user with an email, a phone, an iOS and an Android device: four targets. */
async function createUser(client: HeraldClient = overHttp): Promise<string> {
  const userId = `sdk-user-${++users}`;
  await client.upsertUser(userId, { email: `${userId}@example.com`, phone: '+14155550123', name: 'Ada' });
  await client.registerDevice(userId, { platform: 'ios', token: `${'ab12'.repeat(16)}${users}` });
  await client.registerDevice(userId, { platform: 'android', token: `android-token-${users}-0123456789` });
  return userId;
}

function providerCounts() {
  return {
    apns: fakes.apns.requests.length,
    fcm: fakes.fcm.sends.length,
    twilio: fakes.twilio.requests.length,
    sendgrid: fakes.sendgrid.requests.length,
  };
}

function sentSince(before: ReturnType<typeof providerCounts>) {
  const now = providerCounts();
  return {
    apns: now.apns - before.apns,
    fcm: now.fcm - before.fcm,
    twilio: now.twilio - before.twilio,
    sendgrid: now.sendgrid - before.sendgrid,
  };
}

const ONE_PER_TARGET = { apns: 1, fcm: 1, twilio: 1, sendgrid: 1 };

async function expectOneNotification(eventId: string, id: string) {
  const rows = await herald.db.prisma.notification.findMany({
    where: { idempotencyKey: eventId },
    include: { deliveries: true },
  });
  expect(rows.map((r) => r.id)).toEqual([id]);
  const notification = await waitForNotification(herald, id);
  expect(notification.status).toBe('delivered');
  expect(notification.eventId).toBe(eventId);
  expect(notification.deliveries).toHaveLength(4);
  expect(notification.deliveries.every((d: { status: string }) => d.status === 'sent')).toBe(true);
}

describe('one event id is one notification, whichever transport sends it', () => {
  it('sent through HTTP, then through Temporal: the same notification, delivered once per target', async () => {
    const userId = await createUser();
    const before = providerCounts();
    const eventId = `order-1-shipped-${userId}`;
    const input = { userId, template: 'shipped', data: { name: 'Ada', order: 'A-1' }, eventId };

    const first = await overHttp.send(input);
    expect(first).toMatchObject({ status: 'accepted', eventId, replayed: false });
    await waitForNotification(herald, first.id);
    const second = await overTemporal.send(input);
    expect(second).toEqual({ id: first.id, status: 'delivered', eventId, replayed: true });

    await expectOneNotification(eventId, first.id);
    expect(sentSince(before)).toEqual(ONE_PER_TARGET);
  });

  it('sent through Temporal, then through HTTP: the same notification, delivered once per target', async () => {
    const userId = await createUser();
    const before = providerCounts();
    const eventId = `order-2-shipped-${userId}`;
    const input = { userId, template: 'shipped', data: { name: 'Ada', order: 'A-2' }, eventId };

    const first = await overTemporal.send(input);
    expect(first).toMatchObject({ status: 'accepted', eventId, replayed: false });
    const second = await overHttp.send(input);
    expect(second).toMatchObject({ id: first.id, eventId, replayed: true });

    await expectOneNotification(eventId, first.id);
    // The notification's workflow carries its id only; neither workflow id reveals the event id.
    const started = (await herald.client.workflow.getHandle(notificationWorkflowId(eventId)).fetchHistory()).events?.[0]
      ?.workflowExecutionStartedEventAttributes;
    // Stored encrypted (docs/operations.md); decrypted, it is the notification id alone.
    const stored = started!.input!.payloads![0]!;
    expect(Buffer.from(stored.metadata!.encoding!).toString()).toBe('binary/encrypted');
    const [payload] = await herald.codec.decode([stored]);
    expect(JSON.parse(Buffer.from(payload!.data!).toString('utf8'))).toEqual({ notificationId: first.id });
    expect(notificationWorkflowId(eventId)).not.toContain(userId);
    expect(notificationIntakeWorkflowId(eventId)).not.toContain(userId);
    // Once it has finished, a third send through either changes nothing.
    expect(await overTemporal.send(input)).toMatchObject({ id: first.id, status: 'delivered', replayed: true });
    expect(await overHttp.send(input)).toMatchObject({ id: first.id, status: 'delivered', replayed: true });
    expect(sentSince(before)).toEqual(ONE_PER_TARGET);
  });

  it('sent through both at the same moment, twice each: one notification, delivered once per target', async () => {
    const userId = await createUser();
    const before = providerCounts();
    const eventId = `order-3-shipped-${userId}`;
    const input = { userId, template: 'shipped', data: { name: 'Ada', order: 'A-3' }, eventId };

    const results = await Promise.all([
      overTemporal.send(input),
      overHttp.send(input),
      overTemporal.send(input),
      overHttp.send(input),
    ]);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    await expectOneNotification(eventId, results[0]!.id);
    expect(sentSince(before)).toEqual(ONE_PER_TARGET);
  });

  it.each([
    ['HTTP', () => overHttp],
    ['Temporal', () => overTemporal],
  ])('without an event id (%s), the client generates one and returns it', async (_name, client) => {
    const userId = await createUser();
    const sent = await client().send({ userId, template: 'shipped', data: { name: 'Ada', order: 'A-4' } });
    expect(sent.eventId).toMatch(/^evt_/);
    const notification = await waitForNotification(herald, sent.id);
    expect(notification).toMatchObject({ id: sent.id, eventId: sent.eventId, status: 'delivered' });
    expect((await overTemporal.get(sent.id)).eventId).toBe(sent.eventId);
  });
});

describe.each([
  ['HTTP', () => overHttp],
  ['Temporal', () => overTemporal],
])('errors a caller can act on, over %s', (name, client) => {
  it('invalid input is an InvalidInputError naming the field, and nothing is sent', async () => {
    const count = await herald.db.prisma.notification.count();
    const error = await client()
      .send({ userId: 'has space', template: 'shipped' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ code: 'validation_error', field: 'userId', retryable: false });

    const channels = await client()
      .send({ userId: 'u', template: 'shipped', channels: ['pigeon' as 'sms'] })
      .catch((e: unknown) => e);
    expect(channels).toMatchObject({ name: 'InvalidInputError', field: 'channels.0' });
    expect(await herald.db.prisma.notification.count()).toBe(count);
  });

  it('an unknown user or template is a NotFoundError, and the event id stays free for a retry', async () => {
    const userId = `late-user-${name}`;
    const eventId = `welcome-${userId}`;
    const input = {
      userId,
      template: 'shipped',
      data: { name: 'Late', order: 'L-1' },
      eventId,
      channels: ['email' as const],
    };

    const noUser = await client()
      .send(input)
      .catch((e: unknown) => e);
    expect(noUser).toBeInstanceOf(NotFoundError);
    expect(noUser).toMatchObject({ code: 'user_not_found', resource: 'user', id: userId, eventId });

    const known = await createUser();
    const noTemplate = await client()
      .send({ ...input, userId: known, template: 'no-such-template', eventId: `${eventId}-t` })
      .catch((e: unknown) => e);
    expect(noTemplate).toMatchObject({ name: 'NotFoundError', resource: 'template', id: 'no-such-template' });
    expect(await herald.db.prisma.notification.count({ where: { userId: { in: [userId, known] } } })).toBe(0);

    // The caller fixes the cause and sends the same event again: it is accepted and delivered once.
    await overHttp.upsertUser(userId, { email: `${userId}@example.com` });
    const before = providerCounts();
    const sent = await client().send(input);
    expect(sent.replayed).toBe(false);
    expect((await waitForNotification(herald, sent.id)).status).toBe('delivered');
    expect(sentSince(before)).toEqual({ apns: 0, fcm: 0, twilio: 0, sendgrid: 1 });
  });

  it('cancel: a scheduled notification is canceled at once; a sent one is a ConflictError; an unknown one NotFound', async () => {
    const userId = await createUser();
    const sendAt = new Date(Date.now() + 3600_000).toISOString();
    const scheduled = await client().send({ userId, template: 'shipped', data: { name: 'A', order: 'C-1' }, sendAt });
    expect(scheduled.status).toBe('scheduled');
    expect(await client().cancel(scheduled.id)).toEqual({ id: scheduled.id, status: 'canceled' });
    // Recorded before the answer: a read right after sees it.
    expect((await overHttp.get(scheduled.id)).status).toBe('canceled');
    expect(await client().cancel(scheduled.id)).toEqual({ id: scheduled.id, status: 'canceled' });

    const sent = await client().send({ userId, template: 'shipped', data: { name: 'A', order: 'C-2' } });
    await waitForNotification(herald, sent.id);
    const conflict = await client()
      .cancel(sent.id)
      .catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict).toMatchObject({ code: 'not_cancelable', retryable: false });
    expect((conflict as Error).message).toContain('delivered');

    const unknown = await client()
      .cancel('ntf_' + '0'.repeat(40))
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ name: 'NotFoundError', resource: 'notification' });
  });
});

describe('the intake workflow', () => {
  it('validates what it is given with the API schema, whoever started it', async () => {
    const result: NotificationIntakeResult = await herald.client.workflow.execute(NOTIFICATION_INTAKE_WORKFLOW, {
      taskQueue: herald.taskQueue,
      workflowId: `intake-without-sdk-${users}`,
      args: [{ idempotencyKey: 'raw-intake-1', notification: { userId: 'has space', template: 'shipped', extra: 1 } }],
    });
    expect(result).toMatchObject({ accepted: false, code: 'validation_error' });
    expect(result.accepted === false && result.details).toEqual([
      expect.objectContaining({ field: 'userId' }),
      expect.objectContaining({ code: 'unrecognized_keys' }),
    ]);
    expect(await herald.db.prisma.notification.count({ where: { idempotencyKey: 'raw-intake-1' } })).toBe(0);
  });
});

describe('unauthorised', () => {
  it('over HTTP, a wrong API key is an UnauthorizedError', async () => {
    const wrong = createHeraldClient({ http: { ...httpOptions(), apiKey: 'not-the-key' } });
    const error = await wrong.getUser('anyone').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error).toMatchObject({ code: 'unauthorized', status: 401, retryable: false });
    const send = await wrong.send({ userId: 'u', template: 'shipped' }).catch((e: unknown) => e);
    expect(send).toMatchObject({ name: 'UnauthorizedError' });
  });

  it('over Temporal, a cluster that refuses the credentials is an UnauthorizedError', async () => {
    const cluster = new TemporalAuthFake(16, 'invalid API key');
    const address = await cluster.start();
    const connection = await Connection.lazy({ address });
    try {
      const client = createHeraldClient({ temporal: { client: new Client({ connection }), acceptTimeoutMs: 5_000 } });
      const error = await client.send({ userId: 'u', template: 'shipped' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect(error).toMatchObject({ code: 'unauthorized', retryable: false });
      expect(cluster.calls.length).toBeGreaterThan(0);
    } finally {
      await connection.close();
      await cluster.stop();
    }
  });
});

describe('transient failures are retry-safe: the event id is reused', () => {
  it('over HTTP, a 503 from a proxy is retried with the same event id, and one notification results', async () => {
    const proxy = new FlakyProxy(herald.url);
    const url = await proxy.start();
    try {
      const client = createHeraldClient({ http: { ...httpOptions(), url } });
      const userId = await createUser();
      const before = providerCounts();
      proxy.enqueue('unavailable');
      const sent = await client.send({ userId, template: 'shipped', data: { name: 'A', order: 'R-1' } });

      const posts = proxy.requests.filter((r) => r.method === 'POST' && r.path === '/v1/notifications');
      expect(posts).toHaveLength(2);
      expect(posts.map((p) => p.headers['idempotency-key'])).toEqual([sent.eventId, sent.eventId]);
      expect(posts.map((p) => (p.body as { eventId: string }).eventId)).toEqual([sent.eventId, sent.eventId]);
      expect(sent.replayed).toBe(false);
      await expectOneNotification(sent.eventId, sent.id);
      expect(sentSince(before)).toEqual(ONE_PER_TARGET);
    } finally {
      await proxy.stop();
    }
  });

  it('over HTTP, an answer lost after Herald accepted is retried, and the retry finds the same notification', async () => {
    const proxy = new FlakyProxy(herald.url);
    const url = await proxy.start();
    try {
      const client = createHeraldClient({ http: { ...httpOptions(), url } });
      const userId = await createUser();
      const before = providerCounts();
      proxy.enqueue('lose-response');
      const sent = await client.send({ userId, template: 'shipped', data: { name: 'A', order: 'R-2' } });

      expect(proxy.forwarded).toBe(2);
      expect(sent.replayed).toBe(true);
      await expectOneNotification(sent.eventId, sent.id);
      expect(sentSince(before)).toEqual(ONE_PER_TARGET);
    } finally {
      await proxy.stop();
    }
  });

  it('over HTTP, when Herald stays unreachable, a TransientError carries the event id to send again', async () => {
    const client = createHeraldClient({
      http: {
        url: `http://127.0.0.1:${await unusedPort()}`,
        apiKey: TEST_API_KEY,
        retry: { maxAttempts: 3, initialDelayMs: 5 },
      },
    });
    const error = await client
      .send({ userId: 'u', template: 'shipped', eventId: 'evt-unreachable' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'network_error', retryable: true, attempts: 3, eventId: 'evt-unreachable' });
  });

  it('over Temporal, when no worker accepts in time, a TransientError; the same event id later is one notification', async () => {
    const userId = await createUser();
    const client = createHeraldClient({
      http: httpOptions(),
      temporal: { client: herald.client, taskQueue: herald.taskQueue, acceptTimeoutMs: 2_000 },
    });
    const input = { userId, template: 'shipped', data: { name: 'A', order: 'T-1' } };
    await herald.stopWorker();
    let error: unknown;
    try {
      error = await client.send(input).catch((e: unknown) => e);
    } finally {
      await herald.startWorker();
    }
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'not_accepted', retryable: true });
    const eventId = (error as TransientError).eventId!;
    expect(eventId).toMatch(/^evt_/);
    expect(await herald.db.prisma.notification.count({ where: { idempotencyKey: eventId } })).toBe(0);

    const before = providerCounts();
    const sent = await client.send({ ...input, eventId });
    expect(sent).toMatchObject({ eventId, replayed: false });
    await expectOneNotification(eventId, sent.id);
    expect(sentSince(before)).toEqual(ONE_PER_TARGET);
  });

  it('over Temporal, when the cluster is unreachable, a TransientError', async () => {
    const connection = await Connection.lazy({ address: `127.0.0.1:${await unusedPort()}`, connectTimeout: 1_000 });
    try {
      const client = createHeraldClient({ temporal: { client: new Client({ connection }), acceptTimeoutMs: 1_000 } });
      const error = await client.send({ userId: 'u', template: 'shipped' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
      expect(error).toMatchObject({ code: 'temporal_unavailable', retryable: true });
    } finally {
      await connection.close();
    }
  });
});

describe('the other calls a service needs', () => {
  it('users, devices, preferences and templates round-trip with their inferred types', async () => {
    const userId = `profile-${++users}`;
    const user = await overTemporal.upsertUser(userId, {
      email: 'p@example.com',
      locale: 'fr-FR',
      timezone: 'Europe/Paris',
    });
    expect(user).toMatchObject({ id: userId, email: 'p@example.com', locale: 'fr-FR' });
    expect((await overTemporal.getUser(userId)).timezone).toBe('Europe/Paris');

    const device = await overTemporal.registerDevice(userId, {
      platform: 'android',
      token: 'profile-token-0123456789',
    });
    expect(device).toMatchObject({ userId, platform: 'android', provider: 'fcm', active: true });
    expect(
      await overTemporal.registerDevice(userId, { platform: 'android', token: 'profile-token-0123456789' }),
    ).toMatchObject({ id: device.id });
    expect((await overTemporal.listDevices(userId)).map((d) => d.id)).toEqual([device.id]);

    const preferences = await overTemporal.setPreferences(userId, {
      channels: { sms: false },
      quietHours: { start: '22:00', end: '07:00' },
    });
    expect(preferences).toEqual({
      channels: { sms: false },
      categories: {},
      quietHours: { start: '22:00', end: '07:00' },
    });
    expect(await overTemporal.getPreferences(userId)).toEqual(preferences);

    const template = await overTemporal.putTemplate('profile-tpl', { channels: { sms: { body: 'Hi {{ name }}' } } });
    expect(template).toMatchObject({ id: 'profile-tpl', version: 1, channels: { sms: { body: 'Hi {{ name }}' } } });
    expect((await overTemporal.getTemplate('profile-tpl')).version).toBe(1);
    const broken = await overTemporal
      .putTemplate('profile-tpl', { channels: { sms: { body: 'Hi {{ name' } } })
      .catch((e: unknown) => e);
    expect(broken).toMatchObject({ name: 'InvalidInputError', code: 'template_syntax_error', status: 422 });

    await overTemporal.removeDevice(userId, device.id);
    expect(await overTemporal.listDevices(userId)).toEqual([]);
    const gone = await overTemporal.removeDevice(userId, device.id).catch((e: unknown) => e);
    expect(gone).toMatchObject({ name: 'NotFoundError', resource: 'device', id: device.id });

    expect((await overTemporal.deleteUser(userId)).erased.user).toBe(1);
    const deleted = await overTemporal.getUser(userId).catch((e: unknown) => e);
    expect(deleted).toMatchObject({ name: 'NotFoundError', resource: 'user', id: userId, status: 404 });
  });

  it('a client with only Temporal says which calls need HTTP', async () => {
    const client = createHeraldClient({ temporal: { client: herald.client, taskQueue: herald.taskQueue } });
    expect(client.transport).toBe('temporal');
    await expect(client.getUser('anyone')).rejects.toMatchObject({ code: 'http_transport_required' });
  });
});
