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
import { createPgliteFolder, EMBEDDED_START_PARAMS } from './pglite-folder';
import { pgliteSql, pgSql, type Sql } from './sql';
import { PgliteAdapterFactory, PostgresAdapterFactory, parsePostgresUrl } from '../prisma/adapters';

export type Db = PrismaClient;
export { Prisma } from '../generated/prisma/client';

export interface Database {
  prisma: PrismaClient;
  /** Plain SQL on the same database, for the hot path (platform/sql.ts). */
  sql: Sql;
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
  const pool = new pg.Pool({ ...parsePostgresUrl(url), max: poolSize });
  // An idle connection dropped by the server (a restart) must not crash the process: the pool replaces it.
  pool.on('error', () => undefined);
  return {
    prisma,
    sql: pgSql(pool),
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
    async close() {
      await Promise.all([prisma.$disconnect(), pool.end()]);
    },
  };
}

function openPglite(dir: string | undefined, snapshot: Blob | undefined): Database {
  const folder = dir ? path.resolve(dir) : undefined;
  // A folder is created from the template (platform/pglite-folder.ts), unless a snapshot fills it.
  if (folder && snapshot) fs.mkdirSync(path.dirname(folder), { recursive: true });
  else if (folder) createPgliteFolder(folder);
  const db = new PGlite(folder, {
    startParams: [...EMBEDDED_START_PARAMS],
    ...(snapshot ? { loadDataDir: snapshot } : {}),
  });
  const prisma = new PrismaClient({ adapter: new PgliteAdapterFactory(db) });
  let closed = false;
  return {
    prisma,
    sql: pgliteSql(db),
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

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // Prisma: cannot reach, timed out, server closed the connection, pool timeout.
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  'P2024',
  // PostgreSQL: admin/crash shutdown, cannot connect now, too many connections.
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);
const UNREACHABLE_MESSAGE =
  /Connection terminated|connect ECONN|server closed the connection|terminating connection|the database system is (starting up|shutting down|in recovery mode)|Can't reach database server|DatabaseNotReachable|ConnectionClosed/i;

/**
 * Whether an error means the database could not be reached (down, restarting, out of connections) rather than that
 * the request was wrong: the API answers 503 with a retry hint for those, never 500.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; kind?: unknown; originalCode?: unknown };
  if (typeof e.code === 'string' && (UNREACHABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  if (typeof e.originalCode === 'string' && (UNREACHABLE_CODES.has(e.originalCode) || e.originalCode.startsWith('08')))
    return true;
  if (typeof e.kind === 'string' && /DatabaseNotReachable|ConnectionClosed|SocketTimeout/.test(e.kind)) return true;
  if (typeof e.message === 'string' && UNREACHABLE_MESSAGE.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}
