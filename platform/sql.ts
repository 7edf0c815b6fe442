/**
 * Plain SQL for the notification hot path. Prisma's query compiler costs more CPU per statement than the statement
 * itself costs PostgreSQL; the few statements every notification runs (plan, send, record) are written here once,
 * by hand, and run on the same database as Prisma: a `pg` pool on PostgreSQL, the PGlite instance when embedded.
 *
 * Prepared once: those statements are few and their text is fixed, so each runs as a named prepared statement,
 * parsed once per connection instead of on every call. Up to MAX_PREPARED distinct texts are named; any further text
 * runs unnamed, so a statement built per call cannot grow the server's memory.
 *
 * Plans follow the tables' growth. PostgreSQL settles a prepared statement on a generic plan after five executions
 * and keeps it until something invalidates it (a migration, an ANALYZE), not when a table grows: a plan made while a
 * table was small scans it whole once it is large. On PostgreSQL each execution is planned for its values
 * (`plan_cache_mode = force_custom_plan`, a startup parameter of the pool's connections; autovacuum's ANALYZE would
 * mend a stale plan only later). The embedded database has no autovacuum, and planning is a third of a statement's
 * cost there, so it keeps PostgreSQL's generic plans but prepares each statement again every REPLAN_EVERY executions,
 * which plans it anew for the table sizes of the moment.
 *
 * Timestamps: Prisma's columns are `timestamp(3)` without time zone, holding UTC. Statements read them as epoch
 * milliseconds (`extract(epoch …)`) and write them from epoch milliseconds (`to_timestamp(ms / 1000.0) AT TIME ZONE
 * 'UTC'`), so neither driver's local-time parsing can shift them.
 */
import { protocol, types, type PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

export interface SqlQueryable {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Sql extends SqlQueryable {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

export const MAX_PREPARED = 256;
/** Set on each `pg` connection (see above). */
const PLAN_CUSTOM = 'plan_cache_mode=force_custom_plan';
/** Executions of a statement on PGlite before it is prepared, and so planned, again (see above). */
export const REPLAN_EVERY = 500;
/**
 * A prepared statement that cannot be used as such: no such statement, or its name taken on this server connection
 * (both only behind a pooler that shares server connections without tracking prepared statements), or a migration
 * changed what it returns (cached plan must not change result type). The statement then runs unnamed.
 */
const STATEMENT_GONE = new Set(['26000', '42P05', '0A000']);

/** The name each statement text is prepared under, or undefined once MAX_PREPARED texts have names. */
export function statementNames(): (text: string) => string | undefined {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (name === undefined && names.size < MAX_PREPARED) {
      name = `herald_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
}

/**
 * One Sql per pool or PGlite: statement names belong to the pool's connections or to the PGlite session, so two Sql
 * over the same one would give two statements the same name.
 */
const sqlOf = new WeakMap<pg.Pool | PGlite, Sql>();

export function pgSql(pool: pg.Pool): Sql {
  const existing = sqlOf.get(pool);
  if (existing) return existing;
  const nameOf = statementNames();
  // A startup parameter of every connection the pool opens from now on (db.ts hands over a pool that has none yet).
  pool.options.options = [pool.options.options, `-c ${PLAN_CUSTOM}`].filter(Boolean).join(' ');
  // pg prepares a named statement on each connection the first time that connection runs it.
  const config = (text: string, values: unknown[]): pg.QueryConfig => {
    const name = nameOf(text);
    return name === undefined ? { text, values } : { text, values, name };
  };
  const sql: Sql = {
    async query<T>(text: string, params: unknown[] = []) {
      try {
        return (await pool.query(config(text, params))).rows as T[];
      } catch (error) {
        if (!STATEMENT_GONE.has((error as { code?: string }).code ?? '')) throw error;
        return (await pool.query(text, params)).rows as T[];
      }
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
          query: async <R>(text: string, params: unknown[] = []) =>
            (await client.query(config(text, params))).rows as R[],
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
  sqlOf.set(pool, sql);
  return sql;
}

export function pgliteSql(db: PGlite, options: { replanEvery?: number } = {}): Sql {
  const existing = sqlOf.get(db);
  if (existing) return existing;
  const sql: Sql = {
    query: pglitePrepared(db, options.replanEvery ?? REPLAN_EVERY),
    // Transactions are off the hot path: PGlite's own `query` inside them.
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({ query: async <T>(text: string, params: unknown[] = []) => (await tx.query<T>(text, params)).rows }),
      ),
  };
  sqlOf.set(db, sql);
  return sql;
}

interface PreparedStatement {
  name: string;
  /** Executions since it was prepared. */
  runs: number;
  paramTypes: number[];
  columns: { name: string; parse: (value: string) => unknown }[];
}

/**
 * PGlite's `query` sends six protocol messages per statement (parse, describe, bind, describe, execute, sync), each
 * a call into its WebAssembly Postgres, which parses the text every time. Here a statement is parsed and described
 * once under a name, then each call is one call into PGlite (bind, execute, sync), and again every `replanEvery`
 * calls. Values are serialized and rows parsed by PGlite's own type handlers, exactly as its `query` does.
 */
function pglitePrepared(db: PGlite, replanEvery: number) {
  const { serialize } = protocol;
  const nameOf = statementNames();
  const statements = new Map<string, PreparedStatement>();
  const parserOf = (typeId: number): ((value: string) => unknown) => {
    const parser = db.parsers[typeId] ?? types.parsers[typeId];
    return parser ? (value) => parser(value, typeId) : (value) => value;
  };

  async function prepare(name: string, text: string): Promise<PreparedStatement> {
    const { messages } = await db.execProtocol(
      Buffer.concat([serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync()]),
      { syncToFs: false },
    );
    const statement: PreparedStatement = { name, runs: 0, paramTypes: [], columns: [] };
    for (const message of messages) {
      if (message instanceof protocol.messages.ParameterDescriptionMessage) statement.paramTypes = message.dataTypeIDs;
      if (message instanceof protocol.messages.RowDescriptionMessage) {
        statement.columns = message.fields.map((field) => ({ name: field.name, parse: parserOf(field.dataTypeID) }));
      }
    }
    statements.set(text, statement);
    return statement;
  }

  async function close(name: string): Promise<void> {
    await db.execProtocol(Buffer.concat([serialize.close({ type: 'S', name }), serialize.sync()]), { syncToFs: false });
  }

  async function execute<T>(statement: PreparedStatement, params: unknown[]): Promise<T[]> {
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const serializer = db.serializers[statement.paramTypes[i]!];
      return serializer ? serializer(value) : String(value);
    });
    const { messages } = await db.execProtocol(
      Buffer.concat([serialize.bind({ statement: statement.name, values }), serialize.execute({}), serialize.sync()]),
    );
    const rows: T[] = [];
    for (const message of messages) {
      if (!(message instanceof protocol.messages.DataRowMessage)) continue;
      const row: Record<string, unknown> = {};
      statement.columns.forEach((column, i) => {
        const value = message.fields[i];
        row[column.name] = value === null || value === undefined ? null : column.parse(value);
      });
      rows.push(row as T);
    }
    return rows;
  }

  return async <T>(text: string, params: unknown[] = []): Promise<T[]> => {
    const name = nameOf(text);
    if (name === undefined) return (await db.query<T>(text, params)).rows;
    if (db.closed) throw new Error('PGlite is closed');
    await db.waitReady;
    // The same locks as PGlite's `query`: never inside another caller's open transaction, one statement at a time.
    return db._runExclusiveTransaction(() =>
      db._runExclusiveQuery(async () => {
        let statement = statements.get(text);
        if (statement && statement.runs >= replanEvery) {
          await close(name);
          statement = undefined;
        }
        statement ??= await prepare(name, text);
        statement.runs++;
        try {
          return await execute<T>(statement, params);
        } catch (error) {
          if (!STATEMENT_GONE.has((error as { code?: string }).code ?? '')) throw error;
          statements.delete(text);
          await close(name);
          return execute<T>(await prepare(name, text), params);
        }
      }),
    );
  };
}

/** Epoch milliseconds as the UTC `timestamp` Prisma stores. */
export const TS = (param: string) => `(to_timestamp((${param})::float8 / 1000.0) AT TIME ZONE 'UTC')`;
/** A UTC `timestamp` column as epoch milliseconds (float8). */
export const MS = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;
