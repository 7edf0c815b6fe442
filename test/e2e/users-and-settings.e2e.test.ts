/**
 * Users, devices and settings through the real API: validation of contacts, bulk upsert, token hygiene, erasure,
 * categories with critical messages, and quiet hours changed while a notification waits.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTestHerald, waitForNotification, type TestHerald } from '../support/herald';
import { createLocalTemporal } from '../support/temporal';

jest.setTimeout(120_000);

let temporal: TestWorkflowEnvironment;
let herald: TestHerald;

beforeAll(async () => {
  temporal = await createLocalTemporal();
  herald = await startTestHerald({ temporal }); // no provider credentials: the outbox receives everything
  await herald.api('PUT', '/v1/templates/news', {
    channels: {
      push: { title: 'News', body: 'Hello {{ n }}' },
      sms: { body: 'News {{ n }}' },
      email: { subject: 'News', text: 'Hi {{ n }}' },
    },
  });
});

afterAll(async () => {
  await herald?.stop();
  await temporal?.teardown();
});

const send = async (body: Record<string, unknown>) => {
  const response = await herald.api('POST', '/v1/notifications', { template: 'news', data: { n: 1 }, ...body });
  expect(response.status).toBe(202);
  return response.body as { id: string; status: string };
};

describe('contacts are validated on the way in', () => {
  it.each([
    ['email', { email: 'not-an-email' }, 'body.email'],
    ['phone that is not E.164', { phone: '415-555-0100' }, 'body.phone'],
    ['phone that no country uses', { phone: '+99912345678' }, 'body.phone'],
    ['time zone', { timezone: 'Mars/Olympus_Mons' }, 'body.timezone'],
    ['locale', { locale: 'english please' }, 'body.locale'],
    ['unknown field', { favouriteColour: 'blue' }, 'body'],
  ])('a bad %s is a 400 naming the field', async (_what, body, field) => {
    const response = await herald.api('PUT', '/v1/users/validation-user', body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_error');
    expect(response.body.error.details[0].field).toBe(field);
  });

  it('accepts good contact data and normalises nothing silently', async () => {
    const response = await herald.api('PUT', '/v1/users/good-user', {
      email: 'good@example.com',
      phone: '+821012345678',
      timezone: 'Asia/Seoul',
      locale: 'ko-KR',
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ phone: '+821012345678', timezone: 'Asia/Seoul', locale: 'ko-KR' });
  });
});

describe('the NUL character (\\u0000), which PostgreSQL cannot store, is a 400 naming the field', () => {
  beforeAll(async () => {
    expect((await herald.api('PUT', '/v1/users/nul-user', {})).status).toBe(201);
  });

  it.each([
    [
      'a device token',
      'POST',
      '/v1/users/nul-user/devices',
      { platform: 'android', token: 'abc\u0000defghij' },
      'body.token',
    ],
    ['a name', 'PUT', '/v1/users/nul-user', { name: 'Nul\u0000Name' }, 'body.name'],
    ['a value deep in data', 'PUT', '/v1/users/nul-user', { data: { a: [{ b: '\u0000' }] } }, 'body.data.a.0.b'],
    ['a key in data', 'PUT', '/v1/users/nul-user', { data: { 'k\u0000': 1 } }, 'body.data'],
    [
      'a template body',
      'PUT',
      '/v1/templates/nul',
      { channels: { sms: { body: 'hi\u0000' } } },
      'body.channels.sms.body',
    ],
    ['a query parameter', 'GET', '/v1/notifications?cursor=%00abc', undefined, 'query.cursor'],
    ['a path parameter', 'GET', '/v1/users/nul%00user', undefined, 'path.userId'],
  ])('in %s', async (_what, method, path, body, field) => {
    const response = await herald.api(method, path, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_error');
    expect(response.body.error.details[0].field).toBe(field);
  });
});

describe('a method a path does not have', () => {
  const allowed = (response: { headers: Headers }) =>
    (response.headers.get('allow') ?? '')
      .split(',')
      .map((method) => method.trim())
      .sort();

  it('is a 405 method_not_allowed with an Allow header listing the methods the path has', async () => {
    const response = await herald.api('POST', '/v1/users/someone');
    expect(response.status).toBe(405);
    expect(response.body.error.code).toBe('method_not_allowed');
    expect(allowed(response)).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT']);
  });

  it('is judged on the most literal path: /v1/notifications/retry is not /v1/notifications/{id}', async () => {
    const response = await herald.api('PUT', '/v1/notifications/retry', {});
    expect(response.status).toBe(405);
    expect(allowed(response)).toEqual(['OPTIONS', 'POST']);
  });

  it('OPTIONS answers 204 with the same Allow header; a path that does not exist stays a 404', async () => {
    const options = await fetch(`${herald.url}/v1/users/someone/devices`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(allowed(options)).toEqual(['GET', 'HEAD', 'OPTIONS', 'POST']);

    const missing = await herald.api('POST', '/v1/no-such-thing');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('route_not_found');
    expect(missing.headers.get('allow')).toBeNull();
  });
});

describe('bulk upsert', () => {
  it('reports per-item results: good items are stored, bad ones name their field', async () => {
    await herald.api('PUT', '/v1/users/bulk-2', { name: 'before' });
    const response = await herald.api('POST', '/v1/users/bulk', {
      users: [
        { id: 'bulk-1', email: 'b1@example.com' },
        { id: 'bulk-2', name: 'after' },
        { id: 'bulk-3', phone: '12345' },
        { id: 'bad id with spaces' },
      ],
    });
    expect(response.status).toBe(207);
    expect(response.body).toMatchObject({ succeeded: 2, failed: 2 });
    expect(response.body.results.map((r: { status: string }) => r.status)).toEqual([
      'created',
      'updated',
      'error',
      'error',
    ]);
    expect(response.body.results[2].error).toMatchObject({ code: 'validation_error', field: 'phone' });
    expect(response.body.results[3].error.field).toBe('id');
    expect((await herald.api('GET', '/v1/users/bulk-2')).body.name).toBe('after');
    expect((await herald.api('GET', '/v1/users/bulk-3')).status).toBe(404);
  });

  it('refuses more than 1,000 users in one request', async () => {
    const users = Array.from({ length: 1001 }, (_, i) => ({ id: `many-${i}` }));
    const response = await herald.api('POST', '/v1/users/bulk', { users });
    expect(response.status).toBe(400);
    expect(response.body.error.details[0].field).toBe('body.users');
  });
});

describe('devices', () => {
  it('the same token again updates the device; a token registered by another user moves to that user', async () => {
    await herald.api('PUT', '/v1/users/alice', {});
    await herald.api('PUT', '/v1/users/bob', {});
    const first = await herald.api('POST', '/v1/users/alice/devices', {
      platform: 'android',
      token: 'shared-token-123',
    });
    expect(first.status).toBe(201);
    const again = await herald.api('POST', '/v1/users/alice/devices', {
      platform: 'android',
      token: 'shared-token-123',
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);

    const moved = await herald.api('POST', '/v1/users/bob/devices', { platform: 'android', token: 'shared-token-123' });
    expect(moved.body).toMatchObject({ id: first.body.id, userId: 'bob', active: true });
    expect((await herald.api('GET', '/v1/users/alice/devices')).body.devices).toEqual([]);
    expect((await herald.api('GET', '/v1/users/bob/devices')).body.devices).toHaveLength(1);
  });
});

describe('erasure', () => {
  it('DELETE /v1/users/{id} says what it erased and leaves nothing personal in the database', async () => {
    const email = 'erase-me@example.com';
    const phone = '+14155550177';
    const token = 'erase-device-token-42';
    await herald.api('PUT', '/v1/users/erase-me', { email, phone, name: 'Eve Erasable', data: { city: 'Lyon' } });
    await herald.api('POST', '/v1/users/erase-me/devices', { platform: 'ios', token });
    await herald.api('PUT', '/v1/users/erase-me/preferences', { channels: { push: true } });
    const { id } = await send({ userId: 'erase-me', data: { n: 'Eve Erasable' } });
    expect((await waitForNotification(herald, id)).status).toBe('delivered');

    const response = await herald.api('DELETE', '/v1/users/erase-me');
    expect(response.status).toBe(200);
    expect(response.body.erased).toMatchObject({
      user: 1,
      devices: 1,
      preferences: 1,
      deliveries: 3,
      notifications: 1,
      outboxMessages: 3,
    });

    // Every row of every table, as text: none of the personal data is left.
    const tables = ['users', 'devices', 'preferences', 'notifications', 'deliveries', 'outbox_messages'];
    for (const table of tables) {
      const rows = await herald.db.prisma.$queryRawUnsafe<unknown[]>(
        `SELECT row_to_json(t)::text AS j FROM "${table}" t`,
      );
      const dump = JSON.stringify(rows);
      for (const secret of [email, phone, token, 'Eve Erasable', 'Lyon']) expect(dump).not.toContain(secret);
    }
    expect((await herald.api('GET', '/v1/users/erase-me')).status).toBe(404);
    // The notification log keeps the fact that something was sent, without the content.
    const log = (await herald.api('GET', `/v1/notifications/${id}`)).body;
    for (const delivery of log.deliveries) expect(delivery.target).toBe(`[erased]:${delivery.id}`);
  });

  it('erases a user with an iOS and an Android device and a delivered notification: nothing of them is left anywhere', async () => {
    const secrets = {
      email: 'two-devices@example.com',
      phone: '+14155550178',
      name: 'Dora Twodevices',
      iosToken: 'ios-token-erase-0001',
      androidToken: 'android-token-erase-0002',
      city: 'Grenoble',
    };
    const userId = 'erase-two-devices';
    await herald.api('PUT', `/v1/users/${userId}`, {
      email: secrets.email,
      phone: secrets.phone,
      name: secrets.name,
      data: { city: secrets.city },
    });
    await herald.api('POST', `/v1/users/${userId}/devices`, { platform: 'ios', token: secrets.iosToken });
    await herald.api('POST', `/v1/users/${userId}/devices`, { platform: 'android', token: secrets.androidToken });
    const { id } = await send({ userId, data: { n: secrets.name } });
    const sent = await waitForNotification(herald, id);
    expect(sent.status).toBe('delivered');
    expect(sent.deliveries.filter((d: { channel: string }) => d.channel === 'push')).toHaveLength(2);
    // A conversion reported with personal details in its metadata.
    const event = await herald.api('POST', '/v1/events', {
      notificationId: id,
      type: 'converted',
      metadata: { email: secrets.email },
    });
    expect(event.status).toBe(201);

    const response = await herald.api('DELETE', `/v1/users/${userId}`);
    expect(response.status).toBe(200);
    expect(response.body.erased).toMatchObject({ user: 1, devices: 2, deliveries: 4, notifications: 1 });

    // Every row of every table, as text.
    const tables = await herald.db.prisma.$queryRawUnsafe<{ name: string }[]>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['deliveries', 'outbox_messages']));
    for (const { name } of tables) {
      const rows = await herald.db.prisma.$queryRawUnsafe<unknown[]>(
        `SELECT row_to_json(t)::text AS j FROM "${name}" t`,
      );
      const dump = JSON.stringify(rows);
      for (const secret of Object.values(secrets))
        expect({ table: name, leaks: dump.includes(secret) }).toEqual({ table: name, leaks: false });
    }
    // And every answer of the API about it.
    const answers = await Promise.all([
      herald.api('GET', `/v1/notifications/${id}`),
      herald.api('GET', `/v1/notifications?userId=${userId}`),
      herald.api('GET', '/v1/outbox?limit=500'),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      for (const secret of Object.values(secrets)) expect(JSON.stringify(answer.body)).not.toContain(secret);
    }
    // The log keeps the fact of each delivery (channel, status), one row per target as before.
    const log = answers[0]!.body;
    expect(log.deliveries.map((d: { channel: string }) => d.channel).sort()).toEqual(['email', 'push', 'push', 'sms']);
    expect(new Set(log.deliveries.map((d: { target: string }) => d.target)).size).toBe(4);
  });
});

describe('categories and preferences', () => {
  beforeAll(async () => {
    await herald.api('PUT', '/v1/categories/security', { critical: true, description: 'Sign-in alerts' });
    await herald.api('PUT', '/v1/categories/marketing', { channels: { sms: false } });
    await herald.api('PUT', '/v1/users/carol', { email: 'carol@example.com', phone: '+14155550188' });
    await herald.api('POST', '/v1/users/carol/devices', { platform: 'web', token: 'carol-web-token' });
  });

  it('a category default turns a channel off for users who set nothing, with the reason recorded', async () => {
    const n = await waitForNotification(herald, (await send({ userId: 'carol', category: 'marketing' })).id);
    expect(n.status).toBe('delivered');
    const sms = n.deliveries.find((d: { channel: string }) => d.channel === 'sms');
    expect(sms).toMatchObject({ status: 'skipped', error: 'category_default_off_sms' });
  });

  it('a user who mutes a category gets nothing from it (suppressed, with the reason), but critical ones still arrive', async () => {
    await herald.api('PUT', '/v1/users/carol/preferences', {
      channels: { push: false, sms: false, email: false },
      categories: { marketing: { enabled: false }, security: { enabled: false } },
    });
    const muted = await waitForNotification(herald, (await send({ userId: 'carol', category: 'marketing' })).id);
    expect(muted.status).toBe('suppressed');
    expect(muted.deliveries.map((d: { error: string }) => d.error)).toEqual(Array(3).fill('user_disabled_category'));

    const critical = await waitForNotification(herald, (await send({ userId: 'carol', category: 'security' })).id);
    expect(critical.status).toBe('delivered');
    expect(critical.deliveries.map((d: { status: string }) => d.status)).toEqual(['sent', 'sent', 'sent']);
  });

  it("a user's settings apply to a category the operator never defined", async () => {
    await herald.api('PUT', '/v1/users/frank', { email: 'frank@example.com' });
    await herald.api('PUT', '/v1/users/frank/preferences', { categories: { newsletter: { enabled: false } } });
    const n = await waitForNotification(herald, (await send({ userId: 'frank', category: 'newsletter' })).id);
    expect(n.status).toBe('suppressed');
    expect(n.deliveries.map((d: { error: string }) => d.error)).toEqual(Array(3).fill('user_disabled_category'));
  });

  it('PUT /v1/categories validates its input', async () => {
    const response = await herald.api('PUT', '/v1/categories/bad', { critical: 'yes' });
    expect(response.status).toBe(400);
    expect(response.body.error.details[0].field).toBe('body.critical');
    expect((await herald.api('GET', '/v1/categories')).body.categories.map((c: { name: string }) => c.name)).toEqual([
      'marketing',
      'security',
    ]);
  });
});

describe('quiet hours', () => {
  it('holds a notification inside the window (status scheduled, with the release time) and applies a change made while it waits', async () => {
    const now = new Date();
    const hhmm = (d: Date) =>
      `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    // A window around "now" in UTC, long enough that it cannot end during the test.
    const start = hhmm(new Date(now.getTime() - 3600_000));
    const end = hhmm(new Date(now.getTime() + 3 * 3600_000));
    await herald.api('PUT', '/v1/users/dave', { phone: '+14155550199', timezone: 'UTC' });
    await herald.api('PUT', '/v1/users/dave/preferences', { quietHours: { start, end } });

    const { id } = await send({ userId: 'dave', channels: ['sms'] });
    let held;
    for (let i = 0; i < 100; i++) {
      held = (await herald.api('GET', `/v1/notifications/${id}`)).body;
      if (held.holdReason) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(held).toMatchObject({ status: 'scheduled', holdReason: 'quiet_hours' });
    expect(Date.parse(held.heldUntil)).toBeGreaterThan(now.getTime());
    expect(held.deliveries).toEqual([]);

    // The user drops their quiet hours: the waiting notification is released at once.
    await herald.api('PUT', '/v1/users/dave/preferences', { quietHours: null });
    const done = await waitForNotification(herald, id, 30_000);
    expect(done).toMatchObject({ status: 'delivered', heldUntil: null, holdReason: null });
  });

  it('a critical notification is not held by quiet hours', async () => {
    await herald.api('PUT', '/v1/users/erin', { phone: '+14155550111', timezone: 'UTC' });
    await herald.api('PUT', '/v1/users/erin/preferences', { quietHours: { start: '00:00', end: '23:59' } });
    const n = await waitForNotification(
      herald,
      (await send({ userId: 'erin', category: 'security', channels: ['sms'] })).id,
    );
    expect(n).toMatchObject({ status: 'delivered', heldUntil: null });
  });
});
