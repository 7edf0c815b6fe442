/**
 * Measures GET /v1/stats on a large tracking_events table: creates a scratch database on the PostgreSQL server of
 * DATABASE_URL, migrates it, fills it with ROWS events (default 5,000,000) over a year, and prints EXPLAIN ANALYZE of
 * the stats query for a day, a week and a month (grouped by channel, template and day), cold and then warm. Drops the scratch database at the end.
 *
 *   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx scripts/explain-stats.ts 5000000
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { statsQuery } from '../api/services/stats.service';
import { openDatabase } from '../platform/db';
import { parsePostgresUrl } from '../prisma/adapters';

async function admin(url: string, sql: string) {
  const client = new pg.Client({ ...parsePostgresUrl(url), database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function main() {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is required (a PostgreSQL server where a scratch database can be created)');
  const rows = Number(process.argv[2] ?? 5_000_000);
  const keep = process.argv.includes('--keep');
  const name = `herald_explain_${randomBytes(4).toString('hex')}`;
  await admin(base, `CREATE DATABASE "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = openDatabase({ url: url.toString() });
  try {
    await db.migrate();
    const started = Date.now();
    await db.prisma.$executeRawUnsafe(`INSERT INTO users (id, updated_at) VALUES ('u', now())`);
    await db.prisma.$executeRawUnsafe(`INSERT INTO templates (id, current_version, updated_at) VALUES ('t', 1, now())`);
    const notifications = Math.max(1, Math.floor(rows / 8));
    await db.prisma.$executeRawUnsafe(`
      INSERT INTO notifications (id, idempotency_key, workflow_id, user_id, template_id, template_version, status, updated_at)
      SELECT 'n' || i, 'n' || i, 'n' || i, 'u', 't', 1, 'delivered', now() FROM generate_series(1, ${notifications}) i`);
    // Eight events per notification, a year long; three in four counted (repeats of opens and clicks are not).
    await db.prisma.$executeRawUnsafe(`
      INSERT INTO tracking_events (id, notification_id, delivery_id, type, channel, template_id, category, source, at,
                                   counted, dedupe_key)
      SELECT 'e' || i, 'n' || (i / 8 + 1), 'd' || (i / 4),
             (ARRAY['sent','delivered','opened','clicked','opened','converted','failed','clicked'])[i % 8 + 1],
             (ARRAY['push','sms','email'])[(i / 8) % 3 + 1], 'tpl_' || ((i / 8) % 20),
             (ARRAY['marketing','orders','security',NULL])[(i / 8) % 4 + 1],
             CASE WHEN i % 16 = 6 THEN 'herald' ELSE 'sendgrid' END,
             timestamp '2025-01-01' + (i * (interval '365 days' / ${rows})),
             i % 4 <> 3, CASE WHEN i % 4 <> 3 THEN 'k' || i END
        FROM generate_series(0, ${rows - 1}) i`);
    await db.prisma.$executeRawUnsafe('VACUUM ANALYZE tracking_events');
    console.log(`${rows.toLocaleString('en')} events loaded in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    for (const [label, from, to, groupBy] of [
      ['one day, by channel', '2025-06-01T00:00:00Z', '2025-06-02T00:00:00Z', 'channel'],
      ['one week, by template', '2025-06-01T00:00:00Z', '2025-06-08T00:00:00Z', 'template'],
      ['one month, by day', '2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z', 'day'],
    ] as const) {
      const explain = () =>
        db.prisma.$queryRaw<
          { 'QUERY PLAN': string }[]
        >`EXPLAIN (ANALYZE, BUFFERS) ${statsQuery({ from, to }, groupBy)}`;
      // First run on a cold cache, then the plan again with the pages in memory.
      const cold = (await explain()).map((r) => r['QUERY PLAN']);
      const warm = (await explain()).map((r) => r['QUERY PLAN']);
      console.log(`\n--- ${label} (cold: ${cold.at(-1)})\n${warm.join('\n')}`);
    }
  } finally {
    await db.close();
    if (keep) console.log(`\nkept database ${name}`);
    else await admin(base, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
