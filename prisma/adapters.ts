/**
 * Driver adapters for Prisma 6.19.3 with the fixes that its migration engine needs (see ../shared/PRISMA.md):
 * the same two adapters serve the CLI (prisma.config.ts) and the runtime (platform/db.ts), so the embedded database and
 * PostgreSQL run the same schema and the same migration files.
 */
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';

const PG_NAME_OID = 19;
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

type QueryResultLike = { fields?: { dataTypeID: number }[] };

/** The schema engine reads catalog columns of type `name` and `"char"`, which the pg adapter cannot decode. */
function reportCatalogTypesAsText(result: unknown): void {
  for (const field of (result as QueryResultLike | undefined)?.fields ?? []) {
    if (field.dataTypeID === PG_NAME_OID || field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
  }
}

class CatalogFriendlyClient extends pg.Client {
  // pg's query() has a callback form (used by Pool.query) and a promise form (used by the adapter): patch both.
  override query(...args: unknown[]): never {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const callback = last as (err: unknown, res: unknown) => void;
      args[args.length - 1] = (err: unknown, res: unknown) => {
        reportCatalogTypesAsText(res);
        callback(err, res);
      };
      return (super.query as (...a: unknown[]) => never)(...args);
    }
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).then((res) => {
        reportCatalogTypesAsText(res);
        return res;
      }) as never;
    }
    return result as never;
  }
}

export interface PgConnectionFields {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  ssl?: pg.PoolConfig['ssl'];
}

export function parsePostgresUrl(url: string): PgConnectionFields {
  const parsed = new URL(url);
  const sslmode = parsed.searchParams.get('sslmode');
  return {
    host: decodeURIComponent(parsed.hostname) || parsed.searchParams.get('host') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username) || 'postgres',
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
    ssl: sslmode && sslmode !== 'disable' ? { rejectUnauthorized: sslmode === 'verify-full' } : undefined,
  };
}

/** Sends a migration script whole, as the native engine does (the adapter splits on `;`, breaking `$$` bodies). */
function sendScriptsWhole(adapter: SqlDriverAdapter, pool: pg.Pool): SqlDriverAdapter {
  const withOnError = adapter as SqlDriverAdapter & { onError(error: unknown): never };
  adapter.executeScript = async (script: string) => {
    try {
      await pool.query(script);
    } catch (error) {
      withOnError.onError(error);
    }
  };
  return adapter;
}

/** PostgreSQL: a pool built from separate fields (a connection string would override the shadow database name). */
export class PostgresAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = '@prisma/adapter-pg';
  private readonly fields: PgConnectionFields;

  constructor(
    url: string,
    private readonly poolOptions: { max?: number; allowExitOnIdle?: boolean } = {},
  ) {
    this.fields = parsePostgresUrl(url);
  }

  private pool(database: string): pg.Pool {
    return new pg.Pool({ ...this.fields, database, Client: CatalogFriendlyClient, ...this.poolOptions });
  }

  async connect(): Promise<SqlDriverAdapter> {
    const pool = this.pool(this.fields.database);
    const adapter = await new PrismaPg(pool, { disposeExternalPool: true }).connect();
    return sendScriptsWhole(adapter, pool);
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID().replace(/-/g, '')}`;
    await this.admin(`CREATE DATABASE "${database}"`);
    const pool = this.pool(database);
    const adapter = sendScriptsWhole(await new PrismaPg(pool, { disposeExternalPool: true }).connect(), pool);
    const dispose = adapter.dispose.bind(adapter);
    // Close our own pool before dropping: PostgreSQL refuses to drop a database that is being accessed.
    adapter.dispose = async () => {
      await dispose();
      await this.admin(`DROP DATABASE IF EXISTS "${database}"`);
    };
    return adapter;
  }

  private async admin(sql: string): Promise<void> {
    const client = new pg.Client({ ...this.fields });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

/** Embedded PGlite: one in-process database in a folder. It must be closed, or the folder may not open again. */
export class PgliteAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = 'pglite-prisma-adapter';
  private readonly inner: PrismaPGlite;

  constructor(readonly db: PGlite) {
    this.inner = new PrismaPGlite(db);
  }

  async connect(): Promise<SqlDriverAdapter> {
    return fixPgliteAdapter(await this.inner.connect(), this.db);
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const shadow = new PGlite();
    const adapter = fixPgliteAdapter(await new PrismaPGlite(shadow).connect(), shadow);
    adapter.dispose = () => shadow.close();
    return adapter;
  }
}

function fixPgliteAdapter(adapter: SqlDriverAdapter, db: PGlite): SqlDriverAdapter {
  const withOnError = adapter as SqlDriverAdapter & { onError(error: unknown): never };
  // Upstream does not await exec(), so a failing migration would be reported as applied.
  adapter.executeScript = async (script: string) => {
    try {
      await db.exec(script);
    } catch (error) {
      withOnError.onError(error);
    }
  };
  // Shadow replay sends whole multi-statement scripts as argument-less raw SQL; a prepared statement refuses those.
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeRaw = async (query) => {
    if (query.args.length > 0) return executeRaw(query);
    try {
      const results = await db.exec(query.sql);
      return results[results.length - 1]?.affectedRows ?? 0;
    } catch (error) {
      return withOnError.onError(error);
    }
  };
  return adapter;
}
