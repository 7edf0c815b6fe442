/**
 * `npx tsx bench/inbox-streams.ts`: what open inbox streams cost one API process, and how fast an item reaches them.
 * Printed, never asserted (docs/inbox.md has the figures and the method).
 *
 * A child process runs Herald's API (the real Express app and inbox routes) on the embedded database — or on
 * PostgreSQL with `--db postgres` (DATABASE_URL, default the local server; a scratch database is made and dropped),
 * where streams are woken through LISTEN/NOTIFY. This process opens `--streams` SSE streams over `--users` users,
 * then the child delivers items through the inbox channel's own delivery path (store.deliver, as the activity does)
 * at `--rate` items a second for `--seconds`, to random users; each item carries its write time, and every stream
 * that receives it records the delay.
 *
 *   npx tsx bench/inbox-streams.ts [--streams 1000] [--users 200] [--rate 50] [--seconds 20] [--db embedded|postgres]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import express from 'express';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    streams: { type: 'string', default: '1000' },
    users: { type: 'string', default: '200' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    db: { type: 'string', default: 'embedded' },
    server: { type: 'boolean', default: false },
  },
});

if (args.server) void server();
else void main();

/** The API process. */
async function server() {
  const { createApp } = await import('../api/app');
  const { openDatabase } = await import('../platform/db');
  const { createLogger } = await import('../platform/logger');
  const { createInboxStore } = await import('../domain/inbox/store');
  const { defaultInboxConfig } = await import('../platform/config/inbox');
  const url = process.env.BENCH_DATABASE_URL || undefined;
  const dir = url ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'herald-inbox-bench-'));
  const db = openDatabase({ url, pgliteDir: dir, poolSize: 10 });
  await db.migrate();
  const config = { ...defaultInboxConfig(), secrets: ['bench-inbox-key-'.padEnd(40, 'k')] };
  const inner = createApp({
    db: db.prisma,
    sql: db.sql,
    temporal: {} as never,
    taskQueue: 'bench',
    apiKey: 'bench-api-key-0123456789',
    publicUrl: 'http://localhost',
    logger: createLogger('silent'),
    ready: async () => ({ database: true, temporal: true }),
    inbox: { config, databaseUrl: url },
  });
  const store = createInboxStore(db.sql);
  const app = express();
  app.use(express.json());
  app.get('/bench/memory', (_req, res) => {
    global.gc?.();
    res.json(process.memoryUsage());
  });
  // Notifications with an inbox delivery each, ready to be delivered (as planning leaves them).
  app.post('/bench/prepare', async (req, res) => {
    const { users, count } = req.body as { users: string[]; count: number };
    await db.sql.query(
      `INSERT INTO users (id, created_at, updated_at) SELECT u, now(), now() FROM unnest($1::text[]) AS u
       ON CONFLICT DO NOTHING`,
      [users],
    );
    await db.sql.query(
      `INSERT INTO notifications (id, idempotency_key, workflow_id, user_id, template_id, data, channels, status,
                                  created_at, updated_at)
       SELECT 'ntf_b' || g, 'b' || g, 'wf_b' || g, ($1::text[])[1 + (g % array_length($1::text[], 1))], 'bench', '{}',
              ARRAY['inbox'], 'sending', now(), now()
         FROM generate_series(1, $2) AS g`,
      [users, count],
    );
    await db.sql.query(
      `INSERT INTO deliveries (id, notification_id, channel, provider, target, status, content, attempts, created_at,
                               updated_at)
       SELECT 'dlv_b' || g, 'ntf_b' || g, 'inbox', 'inbox', '-', 'pending',
              jsonb_build_object('title', 'Item ' || g, 'body', 'Benchmark'), 0, now(), now()
         FROM generate_series(1, $1) AS g`,
      [count],
    );
    res.json({ ok: true });
  });
  // Delivers them at `rate` a second; each item's write time goes in its title (the content is already rendered).
  app.post('/bench/deliver', async (req, res) => {
    const { count, rate } = req.body as { count: number; rate: number };
    const started = Date.now();
    let failures = 0;
    const inFlight: Promise<unknown>[] = [];
    for (let i = 1; i <= count; i++) {
      const due = started + ((i - 1) * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await db.sql.query(
        `UPDATE deliveries SET content = jsonb_set(content, '{title}', to_jsonb($2::text)) WHERE id = $1`,
        [`dlv_b${i}`, String(Date.now())],
      );
      inFlight.push(store.deliver({ deliveryId: `dlv_b${i}`, at: Date.now() }).catch(() => failures++));
    }
    await Promise.all(inFlight);
    res.json({ seconds: (Date.now() - started) / 1000, failures });
  });
  app.use(inner);
  const listener = app.listen(0, '127.0.0.1', () => {
    process.send!({ port: (listener.address() as { port: number }).port });
  });
  process.on('message', (message) => {
    if (message === 'stop') {
      (inner.locals.closeInboxStreams as () => void)();
      listener.close();
      void db.close().then(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
}

async function main() {
  const streamCount = Number(args.streams);
  const userCount = Number(args.users);
  const rate = Number(args.rate);
  const seconds = Number(args.seconds);

  let dbUrl: string | undefined;
  let dropDb: (() => Promise<void>) | undefined;
  if (args.db === 'postgres') {
    const base = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
    const name = `herald_inbox_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(base);
    u.pathname = `/${name}`;
    dbUrl = u.toString();
    dropDb = async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }

  const child: ChildProcess = fork(__filename, ['--server'], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: { ...process.env, ...(dbUrl ? { BENCH_DATABASE_URL: dbUrl } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m) => resolve((m as { port: number }).port)),
  );
  const base = `http://127.0.0.1:${port}`;
  const post = async (p: string, body: unknown) =>
    (
      await fetch(`${base}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).json();
  const memory = async () => (await (await fetch(`${base}/bench/memory`)).json()) as NodeJS.MemoryUsage;

  try {
    const users = Array.from({ length: userCount }, (_, i) => `bench-user-${i}`);
    const count = rate * seconds;
    await post('/bench/prepare', { users, count });
    const { InboxSigner } = await import('../domain/inbox/tokens');
    const signer = new InboxSigner([Buffer.from('bench-inbox-key-'.padEnd(40, 'k'))]);

    // Warm the server's code paths, then the memory before the streams.
    await fetch(`${base}/v1/inbox/counts`, {
      headers: { authorization: `Bearer ${signer.sign(users[0]!, 600).token}` },
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await memory();

    const delays: number[] = [];
    let received = 0;
    const aborts: AbortController[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < streamCount; i++) {
      const user = users[i % userCount]!;
      const abort = new AbortController();
      aborts.push(abort);
      ready.push(
        (async () => {
          const response = await fetch(
            `${base}/v1/inbox/stream?token=${encodeURIComponent(signer.sign(user, 3600).token)}`,
            {
              signal: abort.signal,
            },
          );
          const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          let resolveReady!: () => void;
          const isReady = new Promise<void>((r) => (resolveReady = r));
          void (async () => {
            try {
              for (;;) {
                const { value, done } = await reader.read();
                if (done) return;
                buffer += value;
                let end: number;
                while ((end = buffer.indexOf('\n\n')) >= 0) {
                  const block = buffer.slice(0, end);
                  buffer = buffer.slice(end + 2);
                  if (block.includes('event: ready')) resolveReady();
                  if (block.includes('event: item.created')) {
                    const data = JSON.parse(
                      block
                        .split('\n')
                        .find((l) => l.startsWith('data: '))!
                        .slice(6),
                    );
                    delays.push(Date.now() - Number(data.item.title));
                    received++;
                  }
                }
              }
            } catch {
              // aborted
            }
          })();
          await isReady;
        })(),
      );
      if (i % 100 === 99) await Promise.all(ready.slice(i - 99, i + 1));
    }
    await Promise.all(ready);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const withStreams = await memory();

    const expected = Array.from({ length: count }, (_, g) => g + 1).reduce((n, g) => {
      const user = users[g % userCount]!;
      const idx = users.indexOf(user);
      // streams of this user: those i with i % userCount === idx
      return n + Math.floor((streamCount - 1 - idx) / userCount) + 1;
    }, 0);
    const result = await post('/bench/deliver', { count, rate });
    const deadline = Date.now() + 30_000;
    while (received < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await memory();
    for (const a of aborts) a.abort();

    delays.sort((a, b) => a - b);
    const q = (p: number) => delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))] ?? NaN;
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    const summary = {
      db: args.db,
      streams: streamCount,
      users: userCount,
      rate,
      seconds,
      items: count,
      deliverSeconds: result.seconds,
      deliveryFailures: result.failures,
      arrivalsExpected: expected,
      arrivalsReceived: received,
      rssBeforeMB: Number(mb(before.rss)),
      rssWithStreamsMB: Number(mb(withStreams.rss)),
      heapBeforeMB: Number(mb(before.heapUsed)),
      heapWithStreamsMB: Number(mb(withStreams.heapUsed)),
      rssPerStreamKB: Number(((withStreams.rss - before.rss) / streamCount / 1024).toFixed(1)),
      heapPerStreamKB: Number(((withStreams.heapUsed - before.heapUsed) / streamCount / 1024).toFixed(1)),
      rssAfterDeliveryMB: Number(mb(after.rss)),
      arrivalMs: { p50: q(50), p90: q(90), p99: q(99), max: delays.at(-1) ?? NaN },
    };
    console.log(JSON.stringify(summary, null, 2));
    console.log(`BENCH_RESULT ${JSON.stringify(summary)}`);
  } finally {
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
    await dropDb?.();
  }
}
