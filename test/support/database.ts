import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openDatabase, type Database } from '../../platform/db';
import { parsePostgresUrl } from '../../prisma/adapters';
import { applyMigrations } from '../../prisma/migrate';
import { buildOnce } from './run-dir';
import { track } from './teardown';

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
 * An embedded database with every migration applied, dumped once per test run: a PGlite starts from it in about a
 * second, where initdb and the migrations take several (and most of a test file's set-up on a busy machine).
 */
async function migratedPgliteSnapshot(): Promise<Blob> {
  const file = await buildOnce('pglite-migrated.tar', async () => {
    const db = new PGlite();
    try {
      await applyMigrations({
        query: async (sql, params) => db.query(sql, params) as never,
        exec: async (script) => void (await db.exec(script)),
      });
      return new Uint8Array(await (await db.dumpDataDir('none')).arrayBuffer());
    } finally {
      await db.close();
    }
  });
  return new Blob([fs.readFileSync(file)]);
}

/**
 * A fresh, migrated database for one test file: a new database on the PostgreSQL server of DATABASE_URL when it is
 * set (CI), an in-memory PGlite otherwise. Dropped on close, or at the end of the file if a test never got there.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const db = openDatabase({ pgliteSnapshot: await migratedPgliteSnapshot() });
    // Applies nothing (the snapshot has every migration), as production start-up finds on an up-to-date folder.
    await db.migrate();
    return closedAtEnd(db, 'an embedded test database');
  }
  const name = `herald_test_${randomBytes(6).toString('hex')}`;
  await admin(base, `CREATE DATABASE "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = openDatabase({ url: url.toString(), poolSize: 5 });
  await db.migrate();
  return closedAtEnd(
    {
      ...db,
      url: url.toString(),
      async close() {
        await db.close();
        await admin(base, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      },
    },
    `the test database ${name}`,
  );
}

function closedAtEnd(db: TestDatabase, name: string): TestDatabase {
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= db.close());
  const forget = track(name, close);
  return {
    ...db,
    close() {
      forget();
      return close();
    },
  };
}
