/**
 * The inbox stream across API processes on PostgreSQL: a notification is written by one process (its API and worker)
 * and streamed by another, which learns of it only through LISTEN/NOTIFY — its own bus, its own connection pool, and
 * a heartbeat far longer than the test, so no periodic re-read can stand in for the notification.
 *
 * Needs PostgreSQL (DATABASE_URL, as CI sets it); on the embedded database there is one process by design.
 */
import type { Server } from 'node:http';
import { createApp } from '../../api/app';
import { openDatabase, type Database } from '../../platform/db';
import { InboxBus } from '../../domain/inbox/bus';
import { createLogger } from '../../platform/logger';
import { startTestHerald, TEST_API_KEY, waitForNotification, type TestHerald } from '../support/herald';
import { openSse, type SseStream } from '../support/sse';
import { track } from '../support/teardown';

jest.setTimeout(180_000);

const onPostgres = process.env.DATABASE_URL ? describe : describe.skip;

onPostgres('two API processes on PostgreSQL', () => {
  let herald: TestHerald;
  let second: { url: string; db: Database; server: Server };
  const streams: SseStream[] = [];
  let stopSecond: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    herald = await startTestHerald({ env: { HERALD_INBOX_HEARTBEAT_SECONDS: '300' } });
    // The second API process: its own pool, its own bus (nothing in this process wakes it), the same database.
    const db = openDatabase({ url: herald.db.url!, poolSize: 3 });
    const app = createApp({
      db: db.prisma,
      sql: db.sql,
      temporal: herald.client,
      taskQueue: herald.taskQueue,
      apiKey: TEST_API_KEY,
      publicUrl: herald.config.publicUrl,
      logger: createLogger('silent'),
      ready: async () => ({ database: true, temporal: true }),
      inbox: { config: herald.config.inbox, databaseUrl: herald.db.url!, bus: new InboxBus(herald.db.url!) },
    });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    second = { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, db, server };
    stopSecond = async () => {
      forget();
      for (const s of streams) s.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.close();
    };
    const forget = track('the second API process', () => stopSecond!());
    await herald.api('PUT', '/v1/templates/hello', { channels: { inbox: { title: 'Hello {{ n }}', body: 'Body' } } });
  });

  afterAll(async () => {
    await stopSecond?.();
    await herald?.stop();
  });

  it('a notification written through one process arrives on a stream of the other; so do changes', async () => {
    await herald.api('PUT', '/v1/users/pg-user', { name: 'P' });
    const { token } = (await herald.api('POST', '/v1/inbox/tokens', { userId: 'pg-user' })).body;
    // The token is signed by the key both processes share (generated once, kept in the database).
    const s = await openSse(`${second.url}/v1/inbox/stream?token=${encodeURIComponent(token)}`);
    streams.push(s);
    expect(s.status).toBe(200);
    await s.next((m) => m.event === 'ready');

    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const res = await herald.api('POST', '/v1/notifications', {
        userId: 'pg-user',
        template: 'hello',
        data: { n },
        channels: ['inbox'],
      });
      ids.push(res.body.id);
    }
    for (const id of ids) await waitForNotification(herald, id);
    const created = await Promise.all(
      ids.map((id) => s.next((m) => m.event === 'item.created' && m.data.item.notificationId === id, 20_000)),
    );
    expect(created.map((m) => Number(m.id)).sort()).toEqual([1, 2, 3]);

    const read = await fetch(`${herald.url}/v1/inbox/items/read`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ all: true }),
    });
    expect(read.status).toBe(200);
    const updated = await s.next((m) => m.event === 'items.updated', 20_000);
    expect(updated.data).toMatchObject({ change: 'read', counts: { unread: 0, total: 3 } });
    expect(updated.data.ids).toHaveLength(3);
    // No heartbeat could have carried them (300 s).
    expect(s.comments).toBe(0);
  });
});
