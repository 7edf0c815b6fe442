/**
 * Plain SQL for the notification hot path. Prisma's query compiler costs more CPU per statement than the statement
 * itself costs PostgreSQL; the few statements every notification runs (plan, send, record) are written here once,
 * by hand, and run on the same database as Prisma: a `pg` pool on PostgreSQL, the PGlite instance when embedded.
 *
 * Timestamps: Prisma's columns are `timestamp(3)` without time zone, holding UTC. Statements read them as epoch
 * milliseconds (`extract(epoch …)`) and write them from epoch milliseconds (`to_timestamp(ms / 1000.0) AT TIME ZONE
 * 'UTC'`), so neither driver's local-time parsing can shift them.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';

export interface SqlQueryable {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Sql extends SqlQueryable {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

export function pgSql(pool: pg.Pool): Sql {
  return {
    async query<T>(text: string, params: unknown[] = []) {
      return (await pool.query(text, params)).rows as T[];
    },
    async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A connection the server drops while it is checked out (between two statements) reports it as an 'error'
      // event: without a listener that would crash the process; the next statement fails instead, and is retried.
      const ignore = () => undefined;
      client.on('error', ignore);
      let failed: unknown;
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <R>(text: string, params: unknown[] = []) => (await client.query(text, params)).rows as R[],
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        failed = error;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        // A connection whose transaction failed may be broken (the server went away): do not hand it out again.
        client.off('error', ignore);
        client.release(failed === undefined ? undefined : true);
      }
    },
  };
}

export function pgliteSql(db: PGlite): Sql {
  const on = (q: PGlite | Transaction): SqlQueryable => ({
    async query<T>(text: string, params: unknown[] = []) {
      return (await q.query<T>(text, params)).rows;
    },
  });
  return {
    ...on(db),
    transaction: (fn) => db.transaction((tx) => fn(on(tx))),
  };
}

/** Epoch milliseconds as the UTC `timestamp` Prisma stores. */
export const TS = (param: string) => `(to_timestamp((${param})::float8 / 1000.0) AT TIME ZONE 'UTC')`;
/** A UTC `timestamp` column as epoch milliseconds (float8). */
export const MS = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;
