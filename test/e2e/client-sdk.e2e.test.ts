/**
 * The client SDK (`@herald/client`) through both transports against a running Herald: the real API on port 0, a real
 * Temporal dev server and worker, the test's database, and the real provider SDKs pointed at local fakes. Assertions
 * are what the caller sees (results, error classes) and what actually happened (requests at the fake providers, rows
 * in the database).
 */
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  ConflictError,
  createHeraldClient,
  InvalidInputError,
  NotFoundError,
  TransientError,
  UnauthorizedError,
  type HeraldClient,
} from '@herald/client';
import { notificationIntakeWorkflowId, notificationWorkflowId, redriveWorkflowId } from '../../contract/ids';
import {
  NOTIFICATION_INTAKE_WORKFLOW,
  type NotificationIntakeResult,
} from '../../contract/workflows/notification.definitions';
import { unusedPort } from '../fakes/http-fake-server';
import { FlakyProxy } from '../fakes/flaky-proxy';
import { TemporalAuthFake } from '../fakes/temporal-auth.fake';
import { twilioError } from '../fakes/twilio.fake';
import { startTestHerald, TEST_API_KEY, waitForNotification, type TestHerald } from '../support/herald';
import { startProviderFakes, type ProviderFakes } from '../support/provider-fakes';
import { createLocalTemporal } from '../support/temporal';
import { until } from '../support/until';

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
    const error = await client.listCategories().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'http_transport_required' });
    expect((error as Error).message).toContain('listCategories');
  });
});

/** Polls until `probe` gives a value (a wait, not a timing assertion: only a hang fails it). */
const inHours = (hours: number) => new Date(Date.now() + hours * 3600_000).toISOString();
const order = (o: string) => ({ name: 'Ada', order: o });

/** The subjects of the emails the SendGrid fake accepted for an address. */
function emailsTo(address: string): string[] {
  return fakes.sendgrid.sent
    .filter((m) => JSON.stringify(m.body.personalizations).includes(`"${address}"`))
    .map((m) => String(m.body.subject));
}

describe('users in bulk', () => {
  it('bulkUpsertUsers stores the good users and reports each bad one by index and field, without throwing', async () => {
    const result = await overHttp.bulkUpsertUsers([
      { id: 'bulk-1', email: 'bulk-1@example.com', data: { plan: 'bulk' } },
      { id: 'bulk-2', phone: '+1555' },
      { id: 'has space', email: 'space@example.com' },
      { id: 'bulk-3', email: 'bulk-3@example.com' },
    ]);
    expect(result).toEqual({
      succeeded: 2,
      failed: 2,
      results: [
        { index: 0, id: 'bulk-1', status: 'created' },
        {
          index: 1,
          id: 'bulk-2',
          status: 'error',
          error: { code: 'validation_error', field: 'phone', message: expect.any(String) },
        },
        {
          index: 2,
          id: 'has space',
          status: 'error',
          error: { code: 'validation_error', field: 'id', message: expect.any(String) },
        },
        { index: 3, id: 'bulk-3', status: 'created' },
      ],
    });
    expect(await overHttp.getUser('bulk-1')).toMatchObject({ email: 'bulk-1@example.com', data: { plan: 'bulk' } });
    await expect(overHttp.getUser('bulk-2')).rejects.toBeInstanceOf(NotFoundError);

    // The same user again is updated, not duplicated, and keeps the fields it was not given.
    expect(await overHttp.bulkUpsertUsers([{ id: 'bulk-1', name: 'Bulk One' }])).toEqual({
      succeeded: 1,
      failed: 0,
      results: [{ index: 0, id: 'bulk-1', status: 'updated' }],
    });
    expect(await overHttp.getUser('bulk-1')).toMatchObject({ name: 'Bulk One', email: 'bulk-1@example.com' });

    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ id: `many-${i}` }));
    await expect(overHttp.bulkUpsertUsers(tooMany)).rejects.toMatchObject({
      name: 'InvalidInputError',
      field: 'users',
    });
    expect(await herald.db.prisma.user.count({ where: { id: { startsWith: 'many-' } } })).toBe(0);
  });
});

describe('notifications: list, retry, reschedule', () => {
  it("listNotifications pages through a user's notifications newest first, each once, and filters by status", async () => {
    const userId = await createUser();
    const sent = [];
    for (const o of ['L-1', 'L-2', 'L-3']) {
      sent.push(await overHttp.send({ userId, template: 'shipped', data: order(o), channels: ['email'] }));
    }
    await Promise.all(sent.map((s) => waitForNotification(herald, s.id)));
    const waiting = await overHttp.send({ userId, template: 'shipped', data: order('L-4'), sendAt: inHours(1) });

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await overHttp.listNotifications({ userId, limit: 2, cursor });
      expect(page.notifications.every((n) => n.userId === userId)).toBe(true);
      seen.push(...page.notifications.map((n) => n.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual([waiting.id, ...sent.map((s) => s.id).reverse()]);

    const delivered = await overHttp.listNotifications({ userId, status: 'delivered' });
    expect(delivered.notifications.map((n) => n.id)).toEqual(sent.map((s) => s.id).reverse());
    expect(delivered.notifications[0]!.deliveries).toEqual([
      expect.objectContaining({ channel: 'email', status: 'sent' }),
    ]);
    // A list page leaves out the tracking timeline; reading the notification gives it.
    expect(delivered.notifications[0]).not.toHaveProperty('events');
    expect((await overHttp.get(sent[0]!.id)).events).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'sent', channel: 'email' })]),
    );
    const notYet = await overHttp.listNotifications({ userId, status: ['scheduled', 'canceled'] });
    expect(notYet).toEqual({ notifications: [expect.objectContaining({ id: waiting.id })], nextCursor: null });
    await overHttp.cancel(waiting.id);
  });

  it('retryNotification re-sends only the failed target; a delivered notification is a ConflictError', async () => {
    const userId = await createUser();
    const sms = fakes.twilio.requests.length;
    // Twilio refuses the request as ours to fix (a bad sender): permanent, so the notification fails at once.
    fakes.twilio.enqueue(twilioError(400, 21606, "The 'From' phone number is not a valid, SMS-capable number"));
    const { id } = await overHttp.send({ userId, template: 'shipped', data: order('F-1'), channels: ['sms', 'email'] });
    const failed = await waitForNotification(herald, id);
    expect(failed.status).toBe('partially_delivered');
    const emails = emailsTo(`${userId}@example.com`).length;

    expect(await overHttp.retryNotification(id)).toEqual({ id, status: 'sending', redrive: 1 });
    const { workflowId } = await herald.db.prisma.notification.findUniqueOrThrow({ where: { id } });
    await herald.client.workflow.getHandle(redriveWorkflowId(workflowId, 1)).result();
    const done = await overHttp.get(id);
    expect(done.status).toBe('delivered');
    expect(done.deliveries.map((d) => `${d.channel}:${d.status}`).sort()).toEqual(['email:sent', 'sms:sent']);
    expect(fakes.twilio.requests.length - sms).toBe(2);
    expect(emailsTo(`${userId}@example.com`)).toHaveLength(emails); // the delivered email was not sent again

    const again = await overHttp.retryNotification(id).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConflictError);
    expect(again).toMatchObject({ code: 'not_retryable', status: 409 });
  });

  it('retryNotifications re-drives the failed ones among the ids given and says why it skipped each of the others', async () => {
    const userId = await createUser();
    fakes.twilio.enqueue(twilioError(400, 21606, "The 'From' phone number is not a valid, SMS-capable number"));
    const bad = await overHttp.send({ userId, template: 'shipped', data: order('F-2'), channels: ['sms'] });
    expect((await waitForNotification(herald, bad.id)).status).toBe('failed');
    const good = await overHttp.send({ userId, template: 'shipped', data: order('F-3'), channels: ['sms'] });
    expect((await waitForNotification(herald, good.id)).status).toBe('delivered');

    expect(await overHttp.retryNotifications({ ids: [bad.id, good.id, 'ntf_unknown'] })).toEqual({
      redriven: [{ id: bad.id, redrive: 1 }],
      skipped: [
        { id: good.id, code: 'not_retryable', reason: 'notification is delivered' },
        { id: 'ntf_unknown', code: 'notification_not_found', reason: 'notification "ntf_unknown" does not exist' },
      ],
      more: false,
    });
    const { workflowId } = await herald.db.prisma.notification.findUniqueOrThrow({ where: { id: bad.id } });
    await herald.client.workflow.getHandle(redriveWorkflowId(workflowId, 1)).result();
    expect((await overHttp.get(bad.id)).status).toBe('delivered');
  });

  it('rescheduleNotification moves a waiting notification; moved to now it is sent; once sent it is a ConflictError', async () => {
    const userId = await createUser();
    const { id } = await overHttp.send({
      userId,
      template: 'shipped',
      data: order('S-1'),
      channels: ['email'],
      sendAt: inHours(1),
    });
    const later = inHours(2);
    expect(await overHttp.rescheduleNotification(id, later)).toMatchObject({ id, status: 'scheduled', sendAt: later });
    expect(emailsTo(`${userId}@example.com`)).toEqual([]);

    await overHttp.rescheduleNotification(id, new Date().toISOString());
    expect((await waitForNotification(herald, id)).status).toBe('delivered');
    expect(emailsTo(`${userId}@example.com`)).toEqual(['Order S-1']);

    const late = await overHttp.rescheduleNotification(id, inHours(1)).catch((e: unknown) => e);
    expect(late).toMatchObject({ name: 'ConflictError', code: 'not_reschedulable' });
  });
});

describe('templates: versions and previews', () => {
  it('lists and reads stored versions, and previews a version, a locale and a stored user', async () => {
    await overHttp.putTemplate('sdk-otp', { channels: { sms: { body: 'Code {{ code }} [ref {{ ref }}]' } } });
    await overHttp.putTemplate('sdk-otp', {
      channels: { sms: { body: 'Your code: {{ code }}' } },
      locales: { ko: { sms: { body: '인증번호 {{ code }}' } } },
    });

    const versions = await overHttp.listTemplateVersions('sdk-otp');
    expect(versions).toMatchObject({ id: 'sdk-otp', currentVersion: 2 });
    expect(versions.versions.map((v) => [v.version, v.current])).toEqual([
      [2, true],
      [1, false],
    ]);
    const first = await overHttp.getTemplateVersion('sdk-otp', 1);
    expect(first).toMatchObject({
      id: 'sdk-otp',
      version: 1,
      channels: { sms: { body: 'Code {{ code }} [ref {{ ref }}]' } },
    });
    expect(first.locales).toBeUndefined();
    const missing = await overHttp.getTemplateVersion('sdk-otp', 9).catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'NotFoundError', resource: 'template_version', id: 'sdk-otp' });

    // Version 1 in GSM-7: the brackets cost two units each, one segment.
    const gsm = await overHttp.previewTemplate('sdk-otp', { data: { code: '123456', ref: 'A1' }, version: 1 });
    const body = 'Code 123456 [ref A1]';
    expect(gsm).toMatchObject({ template: 'sdk-otp', version: 1, missingVariables: [] });
    expect(gsm.channels.sms).toEqual({
      body,
      encoding: 'GSM-7',
      characters: body.length,
      units: body.length + 2,
      segments: 1,
      perSegment: 160,
      nonGsmCharacters: [],
      missingVariables: [],
    });

    // The current version for a Korean user: the ko text (from the user's locale), in UCS-2.
    await overHttp.upsertUser('sdk-ko-user', { locale: 'ko-KR', phone: '+821012345678' });
    const ko = await overHttp.previewTemplate('sdk-otp', { data: { code: '123456' }, userId: 'sdk-ko-user' });
    expect(ko.locale).toEqual({ requested: 'ko-KR', used: 'ko' });
    expect(ko.channels.sms).toMatchObject({ body: '인증번호 123456', encoding: 'UCS-2', segments: 1, perSegment: 70 });
    expect(ko.channels.sms!.nonGsmCharacters).toContain('인');

    // Without data: the variables a real send would miss.
    expect((await overHttp.previewTemplate('sdk-otp')).missingVariables).toEqual(['code']);
    const unknown = await overHttp.previewTemplate('no-such-template').catch((e: unknown) => e);
    expect(unknown).toMatchObject({ name: 'NotFoundError', resource: 'template', id: 'no-such-template' });
  });
});

describe('engagement and statistics', () => {
  it('trackEvent records opens, clicks and conversions once each; stats counts exactly the known set', async () => {
    // `from` in a +09:00 offset: its `+` must reach the API intact.
    const from = new Date(Date.now() - 60_000 + 9 * 3600_000).toISOString().replace('Z', '+09:00');
    const userId = await createUser();
    const category = `stats-${userId}`;
    const { id } = await overHttp.send({
      userId,
      template: 'shipped',
      data: order('E-1'),
      channels: ['push'],
      category,
    });
    const n = await waitForNotification(herald, id);
    expect(n.deliveries.map((d: { status: string }) => d.status)).toEqual(['sent', 'sent']); // iOS and Android
    const push = n.deliveries[0].id as string;

    const opened = await overHttp.trackEvent({ notificationId: id, deliveryId: push, type: 'opened' });
    expect(opened).toEqual({
      notificationId: id,
      deliveryId: push,
      channel: 'push',
      type: 'opened',
      stored: true,
      counted: true,
    });
    // The app reports the same open again: recorded, not counted twice.
    const reopened = await overHttp.trackEvent({ notificationId: id, deliveryId: push, type: 'opened' });
    expect(reopened).toMatchObject({ stored: true, counted: false });
    await overHttp.trackEvent({ notificationId: id, deliveryId: push, type: 'clicked', metadata: { screen: 'order' } });
    expect(await overHttp.trackEvent({ notificationId: id, type: 'converted' })).toMatchObject({
      channel: null,
      counted: true,
    });
    expect(await overHttp.trackEvent({ notificationId: id, type: 'converted' })).toMatchObject({ counted: false });
    const timeline = (await overHttp.get(id)).events.filter((e) => e.source === 'api');
    expect(timeline.map((e) => `${e.type}:${e.counted}`).sort()).toEqual([
      'clicked:true',
      'converted:false',
      'converted:true',
      'opened:false',
      'opened:true',
    ]);

    const to = inHours(1 / 60);
    const stats = await overHttp.stats({ from, to, groupBy: 'category' });
    expect(stats).toMatchObject({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    expect(stats.groupBy).toBe('category');
    expect(stats.groups.find((g) => g.key === category)).toEqual({
      key: category,
      sent: 2,
      delivered: 2,
      failed: 0,
      opened: 1,
      clicked: 1,
      converted: 1,
      rates: { delivery: 1, failure: 0, open: 0.5, click: 0.5, conversion: 0.5 },
    });
    // Every counted event is in one group, so the totals are the groups' sums.
    expect(stats.totals.sent).toBe(stats.groups.reduce((sum, g) => sum + g.sent, 0));

    const elsewhere = await overHttp.send({ userId, template: 'shipped', data: order('E-2'), channels: ['push'] });
    await waitForNotification(herald, elsewhere.id);
    const mismatch = await overHttp
      .trackEvent({ notificationId: elsewhere.id, deliveryId: push, type: 'opened' })
      .catch((e: unknown) => e);
    expect(mismatch).toMatchObject({ name: 'InvalidInputError', code: 'delivery_mismatch', field: 'deliveryId' });
    const unknown = await overHttp
      .trackEvent({ notificationId: 'ntf_missing', type: 'opened' })
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ name: 'NotFoundError', resource: 'notification', id: 'ntf_missing' });
  });
});

describe('categories', () => {
  it("a category's defaults change what a send does; it is updated, listed, and once deleted no longer applies", async () => {
    const userId = await createUser();
    const name = 'sdk-no-texts';
    const targets = async () => {
      const { id } = await overHttp.send({ userId, template: 'shipped', data: order('K-1'), category: name });
      const n = await waitForNotification(herald, id);
      return (n.deliveries as { channel: string; status: string; error?: string }[])
        .map((d) => `${d.channel}:${d.status}${d.error ? `:${d.error}` : ''}`)
        .sort();
    };

    const created = await overHttp.putCategory(name, { description: 'No texts', channels: { sms: false } });
    expect(created).toMatchObject({
      name,
      description: 'No texts',
      critical: false,
      channels: { sms: false },
      quietHours: 'respect',
    });
    expect(await overHttp.getCategory(name)).toEqual(created);
    expect((await overHttp.listCategories()).find((c) => c.name === name)).toEqual(created);
    expect(await targets()).toEqual(['email:sent', 'push:sent', 'push:sent', 'sms:skipped:category_default_off_sms']);

    // A put replaces the category: the description it was not given is gone.
    const replaced = await overHttp.putCategory(name, { channels: { sms: false, email: false } });
    expect(replaced).toMatchObject({ name, critical: false, channels: { sms: false, email: false } });
    expect(replaced.description).toBeUndefined();
    expect(await targets()).toEqual([
      'email:skipped:category_default_off_email',
      'push:sent',
      'push:sent',
      'sms:skipped:category_default_off_sms',
    ]);

    await overHttp.deleteCategory(name);
    const gone = await overHttp.getCategory(name).catch((e: unknown) => e);
    expect(gone).toMatchObject({ name: 'NotFoundError', resource: 'category', id: name });
    expect((await overHttp.listCategories()).map((c) => c.name)).not.toContain(name);
    expect(await targets()).toEqual(['email:sent', 'push:sent', 'push:sent', 'sms:sent']);
    await expect(overHttp.deleteCategory(name)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('topics and audiences', () => {
  it('subscribers are added and removed with a result per user, paged with a cursor, and an audience preview follows', async () => {
    const members = [await createUser(), await createUser()].sort();
    const key = 'sdk-topic';
    expect(await overHttp.putTopic(key)).toMatchObject({ key, name: null, subscriberCount: 0 });
    expect(await overHttp.putTopic(key, { name: 'SDK' })).toMatchObject({ key, name: 'SDK' });

    expect(await overHttp.subscribeToTopic(key, [members[0]!, members[1]!, 'nobody', members[0]!])).toEqual({
      subscribed: 2,
      results: [
        { userId: members[0], status: 'subscribed' },
        { userId: members[1], status: 'subscribed' },
        { userId: 'nobody', status: 'user_not_found' },
      ],
    });
    expect(await overHttp.subscribeToTopic(key, [members[1]!])).toEqual({
      subscribed: 0,
      results: [{ userId: members[1], status: 'already_subscribed' }],
    });
    expect(await overHttp.getTopic(key)).toMatchObject({ key, name: 'SDK', subscriberCount: 2 });

    const first = await overHttp.listTopicSubscribers(key, { limit: 1 });
    const second = await overHttp.listTopicSubscribers(key, { limit: 1, cursor: first.nextCursor! });
    const last = await overHttp.listTopicSubscribers(key, { limit: 1, cursor: second.nextCursor! });
    expect([...first.subscribers, ...second.subscribers].map((s) => s.userId)).toEqual(members);
    expect(last).toEqual({ subscribers: [], nextCursor: null });

    expect(await overHttp.previewAudience({ audience: { topic: key } })).toEqual({
      size: 2,
      userIds: members,
      nextCursor: null,
    });
    expect(await overHttp.unsubscribeFromTopic(key, [members[0]!, 'nobody'])).toEqual({
      unsubscribed: 1,
      results: [
        { userId: members[0], status: 'unsubscribed' },
        { userId: 'nobody', status: 'not_subscribed' },
      ],
    });
    expect(await overHttp.previewAudience({ audience: { topic: key } })).toMatchObject({
      size: 1,
      userIds: [members[1]],
    });

    await overHttp.deleteTopic(key);
    const gone = await overHttp.getTopic(key).catch((e: unknown) => e);
    expect(gone).toMatchObject({ name: 'NotFoundError', resource: 'topic', id: key });
    await expect(overHttp.previewAudience({ audience: { topic: key } })).rejects.toMatchObject({ resource: 'topic' });
  });
});

describe('campaigns', () => {
  const far = { cron: '0 0 1 1 *', timezone: 'Asia/Seoul' }; // New Year in Seoul: runs come from trigger here
  beforeAll(async () => {
    await overHttp.putTemplate('sdk-news', {
      channels: { email: { subject: 'News for {{ user.id }}', text: 'Your plan: {{ plan }}' } },
    });
  });

  const firstRun = (campaignId: string) =>
    until('a run to begin', async () => (await overHttp.listCampaignRuns(campaignId)).runs[0]?.id);

  it('is created on a schedule, paused and resumed, triggered into a run that reaches its audience once, and deleted', async () => {
    const members = ['sdk-member-0', 'sdk-member-1', 'sdk-member-2'];
    const bulk = await overHttp.bulkUpsertUsers(
      members.map((id) => ({ id, email: `${id}@example.com`, data: { plan: 'sdk-campaign' } })),
    );
    expect(bulk.succeeded).toBe(3);
    const audience = { filter: { data: { plan: 'sdk-campaign' } } };
    const page = await overHttp.previewAudience({ audience, limit: 2 });
    expect(page).toMatchObject({ size: 3, userIds: members.slice(0, 2) });
    const rest = await overHttp.previewAudience({ audience, limit: 2, cursor: page.nextCursor! });
    expect(rest).toEqual({ size: 3, userIds: members.slice(2), nextCursor: null });

    const campaign = await overHttp.createCampaign({
      name: 'SDK news',
      template: 'sdk-news',
      audience,
      data: { plan: 'pro' },
      schedule: far,
    });
    expect(campaign).toMatchObject({
      name: 'SDK news',
      template: 'sdk-news',
      status: 'active',
      audience,
      schedule: far,
    });
    // The schedule runs in its time zone: midnight on 1 January in Seoul is 15:00 UTC on 31 December.
    const read = await overHttp.getCampaign(campaign.id);
    expect(read.nextRunAt?.[0]).toMatch(/^\d{4}-12-31T15:00:00/);

    const schedule = herald.client.schedule.getHandle(campaign.scheduleId);
    expect(await overHttp.pauseCampaign(campaign.id)).toMatchObject({ id: campaign.id, status: 'paused' });
    expect((await schedule.describe()).state.paused).toBe(true);
    expect(await overHttp.resumeCampaign(campaign.id)).toMatchObject({ status: 'active' });
    expect((await schedule.describe()).state.paused).toBe(false);

    expect(await overHttp.triggerCampaign(campaign.id)).toEqual({ campaignId: campaign.id, triggered: true });
    const runId = await firstRun(campaign.id);
    const run = await until('the run to complete', async () => {
      const current = await overHttp.getCampaignRun(campaign.id, runId);
      return current.status === 'completed' ? current : undefined;
    });
    expect(run).toMatchObject({
      campaignId: campaign.id,
      audienceSize: 3,
      started: 3,
      delivered: 3,
      failed: 0,
      inFlight: 0,
      percentComplete: 100,
    });
    for (const id of members) expect(emailsTo(`${id}@example.com`)).toEqual([`News for ${id}`]);
    expect((await overHttp.listCampaignRuns(campaign.id)).runs.map((r) => r.id)).toEqual([runId]);
    const finished = await overHttp.cancelCampaignRun(campaign.id, runId).catch((e: unknown) => e);
    expect(finished).toMatchObject({ name: 'ConflictError', code: 'not_cancelable' });

    await overHttp.deleteCampaign(campaign.id);
    expect((await overHttp.getCampaign(campaign.id)).status).toBe('deleted');
    await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const deleted = await overHttp.triggerCampaign(campaign.id).catch((e: unknown) => e);
    expect(deleted).toMatchObject({ name: 'ConflictError', code: 'campaign_deleted', status: 409 });

    const unknown = await overHttp.getCampaign('cmp_missing').catch((e: unknown) => e);
    expect(unknown).toMatchObject({ name: 'NotFoundError', resource: 'campaign', id: 'cmp_missing' });
    const noRun = await overHttp.getCampaignRun(campaign.id, 'run-missing').catch((e: unknown) => e);
    expect(noRun).toMatchObject({ name: 'NotFoundError', resource: 'campaign_run', id: 'run-missing' });
  });

  it('canceling a run: recipients not yet started are never started', async () => {
    // Every recipient is in quiet hours, so the first page stays in flight and leaves no room for a second.
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    const quietHours = { start: hhmm(new Date(Date.now() - 3600_000)), end: hhmm(new Date(Date.now() + 3 * 3600_000)) };
    const members = Array.from({ length: 12 }, (_, i) => `sdk-held-${String(i).padStart(2, '0')}`);
    await overHttp.bulkUpsertUsers(members.map((id) => ({ id, email: `${id}@example.com`, timezone: 'UTC' })));
    for (const id of members) await overHttp.setPreferences(id, { quietHours });
    const campaign = await overHttp.createCampaign({
      name: 'SDK held',
      template: 'sdk-news',
      audience: { userIds: members },
      schedule: far,
      pacing: { pageSize: 10, maxInFlight: 10 },
    });
    await overHttp.triggerCampaign(campaign.id);
    const runId = await firstRun(campaign.id);
    await until('the first page to start', async () => {
      const run = await overHttp.getCampaignRun(campaign.id, runId);
      return run.started === 10 ? run : undefined;
    });

    const canceled = await overHttp.cancelCampaignRun(campaign.id, runId);
    expect(['canceling', 'canceled']).toContain(canceled.status);
    // The run's workflow ends, on the cancel request or on seeing the run marked canceling; nothing more can start.
    const workflow = herald.client.workflow.getHandle(runId);
    await workflow.result().catch(() => undefined);
    expect(['COMPLETED', 'CANCELLED']).toContain((await workflow.describe()).status.name);
    expect(await overHttp.getCampaignRun(campaign.id, runId)).toMatchObject({
      status: 'canceled',
      audienceSize: 12,
      started: 10,
      inFlight: 10,
    });
    expect(await herald.db.prisma.notification.count({ where: { campaignRunId: runId } })).toBe(10);
  });
});
