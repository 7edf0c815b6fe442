/**
 * The in-app inbox end to end: the real API and worker on a Temporal dev server, the `inbox` channel delivering
 * through the notification workflow, user tokens, the feed API and its Server-Sent Events stream — on the embedded
 * database, or on PostgreSQL when DATABASE_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { createInboxClient, mintInboxToken, type InboxStreamEvent } from '@herald/client';
import type { Server } from 'node:http';
import { createApp } from '../../api/app';
import { InboxBus } from '../../domain/inbox/bus';
import { InboxSigner } from '../../domain/inbox/tokens';
import { createLogger } from '../../platform/logger';
import { createInboxStore } from '../../domain/inbox/store';
import { startTestHerald, TEST_API_KEY, waitForNotification, type TestHerald } from '../support/herald';
import { openSse, type SseStream } from '../support/sse';
import { until } from '../support/until';

jest.setTimeout(180_000);

const OLD_KEY = 'old-inbox-key-'.padEnd(40, 'o');
const NEW_KEY = 'new-inbox-key-'.padEnd(40, 'n');

let herald: TestHerald;
const streams: SseStream[] = [];

beforeAll(async () => {
  herald = await startTestHerald({
    env: { HERALD_INBOX_SECRET: `${NEW_KEY},${OLD_KEY}`, HERALD_INBOX_HEARTBEAT_SECONDS: '5' },
  });
  expect(
    (
      await herald.api('PUT', '/v1/templates/comment', {
        channels: {
          inbox: {
            title: '{{ author }} commented',
            body: '“{{ text }}”',
            url: 'https://app.example/posts/{{ post }}',
            actions: [{ label: 'Reply', url: 'https://app.example/posts/{{ post }}#reply' }],
            data: { post: '{{ post }}' },
          },
          email: { subject: '{{ author }} commented', text: '{{ text }}' },
        },
        // A locale's entry replaces the channel's content as a whole.
        locales: {
          fr: {
            inbox: {
              title: '{{ author }} a commenté',
              body: '« {{ text }} »',
              url: 'https://app.example/posts/{{ post }}',
              actions: [{ label: 'Répondre', url: 'https://app.example/posts/{{ post }}#reply' }],
              data: { post: '{{ post }}' },
            },
          },
        },
      })
    ).status,
  ).toBeLessThan(300);
});

afterAll(async () => {
  for (const s of streams) s.close();
  await herald?.stop();
});

async function newUser(extra: Record<string, unknown> = {}) {
  const id = `u-${randomUUID()}`;
  expect((await herald.api('PUT', `/v1/users/${id}`, { email: `${id}@example.test`, ...extra })).status).toBe(201);
  return id;
}

async function tokenFor(userId: string, body: Record<string, unknown> = {}) {
  const res = await herald.api('POST', '/v1/inbox/tokens', { userId, ...body });
  expect(res.status).toBe(201);
  return res.body as { token: string; expiresAt: string; keyId: string };
}

/** Calls a feed route as the user's app does. */
async function asUser(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return herald.api(method, path, body, { authorization: `Bearer ${token}`, ...headers });
}

async function stream(token: string, headers: Record<string, string> = {}, query = '') {
  const s = await openSse(`${herald.url}/v1/inbox/stream?token=${encodeURIComponent(token)}${query}`, headers);
  streams.push(s);
  return s;
}

async function send(userId: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const res = await herald.api('POST', '/v1/notifications', { userId, template: 'comment', data, ...extra });
  expect(res.status).toBe(202);
  return res.body.id as string;
}

const SQL_ITEMS = (n: number, userId: string, start: number, sameTime = false) =>
  herald.db.sql.query(
    `INSERT INTO inbox_items (id, user_id, notification_id, title, body, created_at, updated_at)
     SELECT 'inb_seed_' || $2 || '_' || lpad(g::text, 6, '0'), $2, 'n_seed_' || $2 || '_' || g, 'Item ' || g, 'Body',
            to_timestamp(($3::float8 + CASE WHEN $4 THEN (g / 7) ELSE g END * 1000) / 1000.0) AT TIME ZONE 'UTC',
            now() AT TIME ZONE 'UTC'
       FROM generate_series(1, $1) AS g`,
    [n, userId, start, sameTime],
  );

describe('the inbox channel', () => {
  it('a notification appears on an open stream, with the counts, and in the feed', async () => {
    const userId = await newUser({ locale: 'fr-FR' });
    const { token } = await tokenFor(userId);
    const s = await stream(token);
    expect(s.status).toBe(200);
    const ready = await s.next((m) => m.event === 'ready');
    expect(ready.data.counts).toEqual({ unread: 0, unseen: 0, total: 0 });

    const id = await send(userId, { author: 'Ada', text: 'Nice', post: 'p1' }, { channels: ['inbox'] });
    const created = await s.next((m) => m.event === 'item.created');
    expect(created.data.item).toMatchObject({
      notificationId: id,
      title: 'Ada a commenté',
      body: '« Nice »',
      url: 'https://app.example/posts/p1',
      actions: [{ label: 'Répondre', url: 'https://app.example/posts/p1#reply' }],
      data: { post: 'p1' },
      readAt: null,
    });
    expect(created.data.counts).toEqual({ unread: 1, unseen: 1, total: 1 });
    expect(Number(created.id)).toBe(Number(ready.id) + 1);

    const done = await waitForNotification(herald, id);
    expect(done.status).toBe('delivered');
    expect(done.deliveries).toEqual([expect.objectContaining({ channel: 'inbox', provider: 'inbox', status: 'sent' })]);
    const feed = await asUser(token, 'GET', '/v1/inbox/items');
    expect(feed.status).toBe(200);
    expect(feed.body.items.map((i: { notificationId: string }) => i.notificationId)).toEqual([id]);
    expect(feed.body.counts).toEqual({ unread: 1, unseen: 1, total: 1 });
    expect(feed.body.pageInfo).toEqual({ hasMore: false, nextCursor: null });

    // Stats: delivered, opened (read), clicked.
    const itemId = created.data.item.id as string;
    const read = await asUser(token, 'POST', `/v1/inbox/items/${itemId}/read`);
    expect(read.body.counts).toEqual({ unread: 0, unseen: 0, total: 1 });
    const click = await asUser(token, 'POST', `/v1/inbox/items/${itemId}/click`, { action: 0 });
    expect(click.status).toBe(200);
    expect(click.body.url).toBe('https://app.example/posts/p1#reply');
    const events = await herald.db.sql.query<{ type: string; channel: string }>(
      `SELECT type, channel FROM tracking_events WHERE notification_id = $1 AND counted ORDER BY type`,
      [id],
    );
    expect(events.map((e) => `${e.channel}:${e.type}`)).toEqual([
      'inbox:clicked',
      'inbox:delivered',
      'inbox:opened',
      'inbox:sent',
    ]);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const stats = await herald.api('GET', `/v1/stats?groupBy=channel&from=${from}&to=${to}`);
    expect(stats.status).toBe(200);
    expect(stats.body.groups.find((g: { key: string }) => g.key === 'inbox')).toMatchObject({
      delivered: expect.any(Number),
      opened: 1,
      clicked: 1,
    });
    const opened = await herald.db.sql.query<{ opened: boolean }>(
      `SELECT opened_at IS NOT NULL AS opened FROM notifications WHERE id = $1`,
      [id],
    );
    expect(opened[0]!.opened).toBe(true);
  });

  it('delivery is idempotent: one item per notification however often the delivery runs', async () => {
    const userId = await newUser();
    const id = await send(userId, { author: 'Bo', text: 'Hi', post: 'p2' }, { channels: ['inbox'] });
    await waitForNotification(herald, id);
    const [delivery] = await herald.db.sql.query<{ id: string }>(
      `SELECT id FROM deliveries WHERE notification_id = $1 AND channel = 'inbox'`,
      [id],
    );
    const store = createInboxStore(herald.db.sql);
    const again = await Promise.all([1, 2, 3].map(() => store.deliver({ deliveryId: delivery!.id, at: Date.now() })));
    const [{ count }] = (await herald.db.sql.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM inbox_items WHERE notification_id = $1`,
      [id],
    )) as [{ count: number }];
    expect(count).toBe(1);
    expect(new Set(again.map((a) => (a.outcome === 'delivered' ? a.itemId : a.reason))).size).toBe(1);
  });

  it("honours the user's preferences and the category's defaults", async () => {
    const muted = await newUser();
    await herald.api('PUT', `/v1/users/${muted}/preferences`, { channels: { inbox: false } });
    const a = await waitForNotification(
      herald,
      await send(muted, { author: 'A', text: 't', post: 'p' }, { channels: ['inbox'] }),
    );
    expect(a.status).toBe('suppressed');
    expect(a.deliveries[0]).toMatchObject({ channel: 'inbox', status: 'skipped' });

    expect((await herald.api('PUT', '/v1/categories/digest', { channels: { inbox: false } })).status).toBeLessThan(300);
    const user = await newUser();
    const b = await waitForNotification(
      herald,
      await send(user, { author: 'A', text: 't', post: 'p' }, { channels: ['inbox', 'email'], category: 'digest' }),
    );
    expect(b.deliveries.find((d: { channel: string }) => d.channel === 'inbox')).toMatchObject({ status: 'skipped' });
    expect(b.deliveries.find((d: { channel: string }) => d.channel === 'email')).toMatchObject({ status: 'sent' });
  });
});

describe('escalation', () => {
  it('an item still unread after the wait goes out by e-mail; a read one does not', async () => {
    const userId = await newUser();
    const { token } = await tokenFor(userId);
    const s = await stream(token);
    await s.next((m) => m.event === 'ready');
    const data = { author: 'Esc', text: 'please read', post: 'p9' };
    const unread = await send(userId, data, {
      channels: ['inbox'],
      escalation: { afterMinutes: 0.05, channel: 'email' },
    });
    const read = await send(userId, data, { channels: ['inbox'], escalation: { afterMinutes: 0.5, channel: 'email' } });
    const item = await s.next((m) => m.event === 'item.created' && m.data.item.notificationId === read);
    expect((await asUser(token, 'POST', `/v1/inbox/items/${item.data.item.id}/read`)).status).toBe(200);

    const escalated = await waitForNotification(herald, unread);
    expect(
      escalated.deliveries.map((d: { channel: string; status: string }) => `${d.channel}:${d.status}`).sort(),
    ).toEqual(['email:sent', 'inbox:sent']);
    const kept = await waitForNotification(herald, read);
    expect(kept.deliveries.map((d: { channel: string }) => d.channel)).toEqual(['inbox']);
  });
});

describe('access', () => {
  it('refuses missing, forged, expired and other-user tokens; rotated keys still verify', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const { token, keyId } = await tokenFor(alice);
    const bobItem = await waitForNotification(
      herald,
      await send(bob, { author: 'x', text: 'y', post: 'z' }, { channels: ['inbox'] }),
    );
    const [bobRow] = await herald.db.sql.query<{ id: string }>(
      `SELECT id FROM inbox_items WHERE notification_id = $1`,
      [bobItem.id],
    );

    const none = await herald.api('GET', '/v1/inbox/items', undefined, { authorization: '' });
    expect([none.status, none.body.error.code]).toEqual([401, 'inbox_token_missing']);
    // The API key is not a user token.
    expect((await herald.api('GET', '/v1/inbox/items')).body.error.code).toBe('inbox_token_invalid');

    const [prefix, claims, signature] = token.split('.') as [string, string, string];
    const forgedClaims = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), sub: bob }),
    ).toString('base64url');
    for (const forged of [
      `${prefix}.${forgedClaims}.${signature}`,
      `${prefix}.${claims}.${signature.slice(0, -2)}AA`,
    ]) {
      const res = await asUser(forged, 'GET', '/v1/inbox/items');
      expect([res.status, res.body.error.code]).toEqual([401, 'inbox_token_invalid']);
    }
    const expired = new InboxSigner([Buffer.from(NEW_KEY)]).sign(alice, 60, Date.now() - 3_600_000).token;
    const res = await asUser(expired, 'GET', '/v1/inbox/items');
    expect([res.status, res.body.error.code]).toEqual([401, 'inbox_token_expired']);
    const sse = await stream(expired);
    expect(sse.status).toBe(401);

    // Another user's feed: refused by name, and their items are not there for this token.
    const other = await asUser(token, 'GET', `/v1/inbox/items?userId=${bob}`);
    expect([other.status, other.body.error.code]).toEqual([403, 'inbox_user_mismatch']);
    expect((await asUser(token, 'POST', `/v1/inbox/items/${bobRow!.id}/read`)).status).toBe(404);
    expect((await asUser(token, 'DELETE', `/v1/inbox/items/${bobRow!.id}`)).status).toBe(404);
    const bulk = await asUser(token, 'POST', '/v1/inbox/items/read', { ids: [bobRow!.id] });
    expect(bulk.body.changed).toBe(0);
    const bobToken = (await tokenFor(bob)).token;
    expect((await asUser(bobToken, 'GET', '/v1/inbox/items')).body.counts.unread).toBe(1);

    // Rotation: the new key signs; a token of the previous key still verifies while it is listed.
    expect(keyId).toBe(new InboxSigner([Buffer.from(NEW_KEY)]).keyId);
    const old = new InboxSigner([Buffer.from(OLD_KEY)]).sign(alice, 600).token;
    expect((await asUser(old, 'GET', '/v1/inbox/items')).status).toBe(200);
    const unknown = new InboxSigner([Buffer.from('another-key-'.padEnd(40, 'x'))]).sign(alice, 600).token;
    expect((await asUser(unknown, 'GET', '/v1/inbox/items')).body.error.code).toBe('inbox_token_invalid');

    // A token lives no longer than asked (and never longer than configured).
    const short = await tokenFor(alice, { expiresIn: 60 });
    expect(Date.parse(short.expiresAt) - Date.now()).toBeLessThanOrEqual(61_000);
    expect((await herald.api('POST', '/v1/inbox/tokens', { userId: 'bad id' })).status).toBe(400);
  });
});

describe('the user-id HMAC mode', () => {
  it('when enabled, accepts a user id with its HMAC, refuses a wrong one, and CORS answers the configured origin', async () => {
    const userId = await newUser();
    const app = createApp({
      db: herald.db.prisma,
      sql: herald.db.sql,
      temporal: herald.client,
      taskQueue: herald.taskQueue,
      apiKey: TEST_API_KEY,
      publicUrl: herald.config.publicUrl,
      logger: createLogger('silent'),
      ready: async () => ({ database: true, temporal: true }),
      inbox: {
        config: { ...herald.config.inbox, userHmac: true, corsOrigins: ['https://app.example'] },
        bus: new InboxBus(),
      },
    });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const hmac = new InboxSigner([Buffer.from(NEW_KEY)]).userHmac(userId);
      const ok = await fetch(`${url}/v1/inbox/items`, {
        headers: { 'x-herald-user-id': userId, 'x-herald-user-hmac': hmac, origin: 'https://app.example' },
      });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const wrong = await fetch(`${url}/v1/inbox/items`, {
        headers: { 'x-herald-user-id': `${userId}x`, 'x-herald-user-hmac': hmac },
      });
      expect([wrong.status, ((await wrong.json()) as { error: { code: string } }).error.code]).toEqual([
        401,
        'inbox_hmac_invalid',
      ]);
      const preflight = await fetch(`${url}/v1/inbox/items/read`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
      const elsewhere = await fetch(`${url}/v1/inbox/items`, { headers: { origin: 'https://evil.example' } });
      expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
      // Off (the default): the same headers are no credential.
      const off = await herald.api('GET', '/v1/inbox/items', undefined, {
        authorization: '',
        'x-herald-user-id': userId,
        'x-herald-user-hmac': hmac,
      });
      expect(off.status).toBe(401);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the feed', () => {
  it('10,000 items paginate without a gap or a repeat, ties in time included', async () => {
    const userId = await newUser();
    const { token } = await tokenFor(userId);
    await SQL_ITEMS(10_000, userId, Date.parse('2026-01-01T00:00:00Z'), true);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await asUser(
        token,
        'GET',
        `/v1/inbox/items?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.counts).toEqual({ unread: 10_000, unseen: 10_000, total: 10_000 });
      seen.push(...res.body.items.map((i: { id: string }) => i.id));
      cursor = res.body.pageInfo.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(100);
    expect(seen.length).toBe(10_000);
    expect(new Set(seen).size).toBe(10_000);
    // Newest first: the seed's numbering, descending.
    expect(seen[0]).toBe(`inb_seed_${userId}_010000`);
    expect(seen.at(-1)).toBe(`inb_seed_${userId}_000001`);
    expect((await asUser(token, 'GET', '/v1/inbox/items?cursor=not-a-cursor')).body.error.code).toBe('invalid_cursor');
  });

  it('filters, and changes per item and in bulk (ids, or all with a filter), counts after each', async () => {
    const userId = await newUser();
    const { token } = await tokenFor(userId);
    await SQL_ITEMS(10, userId, Date.now() - 60_000);
    await herald.db.sql.query(
      `UPDATE inbox_items SET category = 'billing' WHERE user_id = $1 AND title IN ('Item 1', 'Item 2')`,
      [userId],
    );
    const ids = (await asUser(token, 'GET', '/v1/inbox/items')).body.items.map((i: { id: string }) => i.id) as string[];
    let r = await asUser(token, 'POST', '/v1/inbox/items/seen', { all: true });
    expect(r.body).toMatchObject({ changed: 10, counts: { unread: 10, unseen: 0, total: 10 } });
    r = await asUser(token, 'POST', '/v1/inbox/items/read', { ids: ids.slice(0, 3) });
    expect(r.body.counts).toEqual({ unread: 7, unseen: 0, total: 10 });
    r = await asUser(token, 'POST', `/v1/inbox/items/${ids[0]}/unread`);
    expect(r.body.item.readAt).toBeNull();
    expect(r.body.counts.unread).toBe(8);
    r = await asUser(token, 'POST', '/v1/inbox/items/archive', { all: true, category: 'billing' });
    expect(r.body).toMatchObject({ changed: 2, counts: { total: 8 } });
    expect((await asUser(token, 'GET', '/v1/inbox/items?archived=only')).body.items).toHaveLength(2);
    expect((await asUser(token, 'GET', '/v1/inbox/items?status=read')).body.items).toHaveLength(2);
    expect((await asUser(token, 'GET', '/v1/inbox/items?status=unread&archived=include')).body.items).toHaveLength(8);
    r = await asUser(token, 'DELETE', `/v1/inbox/items/${ids[5]}`);
    expect(r.body).toMatchObject({ changed: 1, item: null });
    r = await asUser(token, 'POST', '/v1/inbox/items/delete', { all: true, status: 'read' });
    expect(r.body.counts).toEqual({ unread: r.body.counts.unread, unseen: 0, total: r.body.counts.unread });
    expect((await asUser(token, 'GET', '/v1/inbox/items?status=bogus')).status).toBe(400);
    expect((await asUser(token, 'POST', '/v1/inbox/items/read', { ids: [] })).status).toBe(400);
    expect((await asUser(token, 'POST', `/v1/inbox/items/${ids[3]}/click`, { action: 3 })).body.error.code).toBe(
      'inbox_action_not_found',
    );
  });

  it('counts stay exact under concurrent bulk changes, and every event is numbered without a hole', async () => {
    const userId = await newUser();
    const { token } = await tokenFor(userId);
    await SQL_ITEMS(300, userId, Date.now() - 600_000);
    const s = await stream(token);
    await s.next((m) => m.event === 'ready');
    const ids = (await asUser(token, 'GET', '/v1/inbox/items?limit=100')).body.items.map((i: { id: string }) => i.id);
    const ops = [
      () => asUser(token, 'POST', '/v1/inbox/items/read', { all: true }),
      () => asUser(token, 'POST', '/v1/inbox/items/unread', { ids: ids.slice(0, 50) }),
      () => asUser(token, 'POST', '/v1/inbox/items/archive', { ids: ids.slice(25, 75) }),
      () => asUser(token, 'POST', '/v1/inbox/items/seen', { all: true }),
      () => asUser(token, 'POST', '/v1/inbox/items/unarchive', { all: true, archived: 'only' }),
      () => asUser(token, 'POST', '/v1/inbox/items/delete', { ids: ids.slice(60, 90) }),
      () => asUser(token, 'POST', '/v1/inbox/items/read', { ids: ids.slice(0, 10) }),
      () => asUser(token, 'POST', '/v1/inbox/items/archive', { all: true, status: 'unread' }),
    ];
    const results = await Promise.all([...ops, ...ops].map((op) => op()));
    for (const r of results) expect(r.status).toBe(200);
    const truth = (
      await herald.db.sql.query<{ unread: number; unseen: number; total: number }>(
        `SELECT count(*) FILTER (WHERE read_at IS NULL)::int AS unread, count(*) FILTER (WHERE seen_at IS NULL)::int AS unseen,
                count(*)::int AS total FROM inbox_items WHERE user_id = $1 AND archived_at IS NULL`,
        [userId],
      )
    )[0];
    const now = await asUser(token, 'GET', '/v1/inbox/counts');
    expect(now.body.counts).toEqual(truth);
    // The stream's last message says the same, and its ids are 1, 2, 3… in order.
    const last = Number(now.body.lastEventId);
    const final = await s.next((m) => Number(m.id) === last);
    expect(final.data.counts).toEqual(truth);
    const numbered = s.messages.filter((m) => m.event !== 'ready').map((m) => Number(m.id));
    expect(numbered).toEqual(Array.from({ length: numbered.length }, (_, i) => i + 1));
    // Each answer's counts are those of the event it made.
    for (const r of results) {
      if (r.body.changed === 0) continue;
      const event = s.messages.find((m) => m.id === r.body.lastEventId)!;
      expect(event.data.counts).toEqual(r.body.counts);
    }
  });
});

describe('the stream', () => {
  it('resumes after a dropped connection from Last-Event-ID, losing nothing', async () => {
    const userId = await newUser();
    const { token } = await tokenFor(userId);
    const first = await stream(token);
    const ready = await first.next((m) => m.event === 'ready');
    const n1 = await send(userId, { author: 'A', text: '1', post: 'p' }, { channels: ['inbox'] });
    const e1 = await first.next((m) => m.event === 'item.created');
    first.close();

    // While no stream is open: two more items, and one read.
    const n2 = await send(userId, { author: 'A', text: '2', post: 'p' }, { channels: ['inbox'] });
    const n3 = await send(userId, { author: 'A', text: '3', post: 'p' }, { channels: ['inbox'] });
    await waitForNotification(herald, n2);
    await waitForNotification(herald, n3);
    await asUser(token, 'POST', `/v1/inbox/items/${e1.data.item.id}/read`);

    const resumed = await stream(token, { 'last-event-id': e1.id! });
    const got = await resumed.next((m) => m.event === 'items.updated');
    const after = resumed.messages.filter((m) => Number(m.id) > Number(e1.id));
    expect(after.map((m) => Number(m.id))).toEqual([Number(e1.id) + 1, Number(e1.id) + 2, Number(e1.id) + 3]);
    expect(
      after
        .filter((m) => m.event === 'item.created')
        .map((m) => m.data.item.notificationId)
        .sort(),
    ).toEqual([n2, n3].sort());
    expect(got.data).toMatchObject({ change: 'read', ids: [e1.data.item.id], counts: { unread: 2, total: 3 } });
    expect(resumed.messages.some((m) => m.event === 'ready')).toBe(false);
    expect(Number(ready.id)).toBe(0);
    expect(n1).toBeDefined();

    // A resume from before purged events: told to reload.
    await herald.db.sql.query(`DELETE FROM inbox_events WHERE user_id = $1 AND seq <= 2`, [userId]);
    const late = await stream(token, { 'last-event-id': '0' });
    const reset = await late.next((m) => m.event === 'reset');
    expect(reset.data.counts).toEqual({ unread: 2, unseen: 2, total: 3 });
  });

  it('sends heartbeats on an idle stream', async () => {
    const userId = await newUser();
    const { token } = await tokenFor(userId);
    const s = await stream(token);
    await s.next((m) => m.event === 'ready');
    await until('a heartbeat', async () => (s.comments > 0 ? true : undefined), { timeoutMs: 40_000 });
  });
});

describe('the client SDK', () => {
  it('mints a token on the server, lists, changes and subscribes in the app, renewing an expired token', async () => {
    const userId = await newUser();
    let minted = 0;
    const inbox = createInboxClient({
      url: herald.url,
      token: async () => {
        minted++;
        // The first token is already expired: the client asks for another when it is refused.
        if (minted === 1) return new InboxSigner([Buffer.from(NEW_KEY)]).sign(userId, 60, Date.now() - 3_600_000).token;
        return (await mintInboxToken({ url: herald.url, apiKey: TEST_API_KEY }, userId)).token;
      },
    });
    const page = await inbox.list({ status: 'all', limit: 10 });
    expect(page.counts).toEqual({ unread: 0, unseen: 0, total: 0 });
    expect(minted).toBe(2);
    const events: InboxStreamEvent[] = [];
    const stop = inbox.subscribe({ lastEventId: page.lastEventId, onEvent: (e) => events.push(e) });
    try {
      const id = await send(userId, { author: 'C', text: 'sdk', post: 'p' }, { channels: ['inbox'] });
      const created = await until('item.created', async () => events.find((e) => e.type === 'item.created'));
      if (created.type !== 'item.created') throw new Error('unreachable');
      expect(created.item.notificationId).toBe(id);
      const read = await inbox.update(created.item.id, 'read');
      expect(read.counts.unread).toBe(0);
      const updated = await until('items.updated', async () => events.find((e) => e.type === 'items.updated'));
      expect(updated.counts).toEqual(read.counts);
      expect((await inbox.bulk('delete', { all: true })).counts.total).toBe(0);
      await expect(inbox.update('inb_missing', 'read')).rejects.toMatchObject({ code: 'inbox_item_not_found' });
    } finally {
      stop();
    }
  });
});

describe('retention and erasure', () => {
  it('purges items older than the retention, telling open streams; erasing a user removes theirs', async () => {
    const userId = await newUser();
    const { token } = await tokenFor(userId);
    await SQL_ITEMS(5, userId, Date.now() - 100 * 86_400_000);
    const id = await send(userId, { author: 'A', text: 'fresh', post: 'p' }, { channels: ['inbox'] });
    await waitForNotification(herald, id);
    const s = await stream(token);
    await s.next((m) => m.event === 'ready');
    const purged = await createInboxStore(herald.db.sql).purge(Date.now() - 90 * 86_400_000);
    expect(purged.items).toBeGreaterThanOrEqual(5);
    const update = await s.next((m) => m.event === 'items.updated' && m.data.change === 'delete');
    expect(update.data.ids).toHaveLength(5);
    expect(update.data.counts.total).toBe(1);
    expect(
      (await asUser(token, 'GET', '/v1/inbox/items')).body.items.map(
        (i: { notificationId: string }) => i.notificationId,
      ),
    ).toEqual([id]);

    const erased = await herald.api('DELETE', `/v1/users/${userId}`);
    expect(erased.status).toBe(200);
    expect(erased.body.erased.inboxItems).toBe(1);
    const left = await herald.db.sql.query(
      `SELECT 1 FROM inbox_items WHERE user_id = $1 UNION ALL SELECT 1 FROM inbox_events WHERE user_id = $1`,
      [userId],
    );
    expect(left).toHaveLength(0);
  });
});
