/**
 * Herald's database: PostgreSQL when a URL is given, otherwise an embedded PGlite (in a folder, or in memory for
 * tests). Both run the same migrations and the same generated Prisma client.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client';
import { applyMigrations, type SqlSession } from '../prisma/migrate';
import { PgliteAdapterFactory, PostgresAdapterFactory, parsePostgresUrl } from '../prisma/adapters';

export type Db = PrismaClient;
export { Prisma } from '../generated/prisma/client';

export interface Database {
  prisma: PrismaClient;
  kind: 'postgres' | 'pglite';
  /** Applies pending migrations; returns their names. */
  migrate(): Promise<string[]>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL. When absent, PGlite is used. */
  url?: string;
  /** PGlite folder; absent → in memory. */
  pgliteDir?: string;
  /** A PGlite data folder to start from (`PGlite.dumpDataDir()`): tests copy one migrated database instead of running initdb. */
  pgliteSnapshot?: Blob;
  poolSize?: number;
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.url
    ? openPostgres(options.url, options.poolSize ?? 10)
    : openPglite(options.pgliteDir, options.pgliteSnapshot);
}

function openPostgres(url: string, poolSize: number): Database {
  const prisma = new PrismaClient({ adapter: new PostgresAdapterFactory(url, { max: poolSize }) });
  return {
    prisma,
    kind: 'postgres',
    async migrate() {
      const client = new pg.Client({ ...parsePostgresUrl(url) });
      await client.connect();
      try {
        const session: SqlSession = {
          query: async (sql, params) => client.query(sql, params as unknown[]) as never,
          exec: async (script) => void (await client.query(script)),
        };
        return await applyMigrations(session);
      } finally {
        await client.end();
      }
    },
    ping: () => ping(prisma),
    close: () => prisma.$disconnect(),
  };
}

function openPglite(dir: string | undefined, snapshot: Blob | undefined): Database {
  if (dir) fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  const db = new PGlite(dir ? path.resolve(dir) : undefined, snapshot ? { loadDataDir: snapshot } : undefined);
  const prisma = new PrismaClient({ adapter: new PgliteAdapterFactory(db) });
  let closed = false;
  return {
    prisma,
    kind: 'pglite',
    async migrate() {
      const session: SqlSession = {
        query: async (sql, params) => db.query(sql, params) as never,
        exec: async (script) => void (await db.exec(script)),
      };
      return applyMigrations(session);
    },
    ping: () => ping(prisma),
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      // An unclosed PGlite folder may not open again.
      await db.close();
    },
  };
}

async function ping(prisma: PrismaClient): Promise<boolean> {
  try {
    await prisma.$queryRaw`SELECT 1`;
    return true;
  } catch {
    return false;
  }
}
