import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../lib/db';
import { parsePostgresUrl } from '../../prisma/adapters';

export interface TestDatabase extends Database {
  /** The URL of this test's own database (PostgreSQL only), for child processes. */
  url?: string;
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ ...parsePostgresUrl(url), database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database for one test file: a new database on the PostgreSQL server of DATABASE_URL when it is
 * set (CI), an in-memory PGlite otherwise. Dropped on close.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const db = openDatabase({});
    await db.migrate();
    return db;
  }
  const name = `herald_test_${randomBytes(6).toString('hex')}`;
  await admin(base, `CREATE DATABASE "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = openDatabase({ url: url.toString(), poolSize: 5 });
  await db.migrate();
  return {
    ...db,
    url: url.toString(),
    async close() {
      await db.close();
      await admin(base, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
