/**
 * The hot path's SQL runs as named prepared statements on both drivers: each text is parsed once, answers exactly
 * what the driver's own `query` answers, keeps working after an error or a migration, and never runs inside another
 * caller's open transaction (PGlite has one session for the whole process).
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { MAX_PREPARED, pgliteSql, pgSql, statementNames, type Sql } from './sql';
import { parsePostgresUrl } from '../prisma/adapters';
import { createTestDatabase, type TestDatabase } from '../test/support/database';

jest.setTimeout(120_000);

const SCHEMA = `CREATE TABLE things (
  id int PRIMARY KEY, name text, data jsonb, tags text[], at timestamp(3), ratio float8, big bigint, ok boolean
)`;
const INSERT = `INSERT INTO things (id, name, data, tags, at, ratio, big, ok)
  VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8) RETURNING id`;
const SELECT =
  'SELECT id, name, data, tags, at, ratio, big, ok, extract(epoch FROM at)::float8 AS epoch FROM things WHERE id = $1';
const ROW = [
  1,
  'ünïcode ✓',
  { a: [1, 'x'], b: null },
  ['x', 'y,z'],
  new Date(Date.UTC(2026, 11, 5, 12, 30)),
  0.25,
  '9007199254740993',
  true,
];

interface Driver {
  sql: Sql;
  /** The driver's own query: what a prepared statement must answer the same as. */
  plain(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** The names of the statements prepared on the session that ran the last statement. */
  prepared(): Promise<string[]>;
  /** PGlite: executions before a statement is prepared again; PostgreSQL plans every execution (undefined). */
  replanEvery?: number;
  close(): Promise<void>;
}

function behavesLikeThePlainDriver(open: () => Promise<Driver>) {
  let driver: Driver;
  beforeAll(async () => {
    driver = await open();
    await driver.plain(SCHEMA);
  });
  afterAll(async () => driver?.close());

  it('answers what the driver answers, through a statement prepared once', async () => {
    expect(await driver.sql.query(INSERT, ROW)).toEqual([{ id: 1 }]);
    const first = await driver.sql.query(SELECT, [1]);
    const again = await driver.sql.query(SELECT, [1]);
    expect(first).toEqual(await driver.plain(SELECT, [1]));
    expect(again).toEqual(first);
    expect(first[0]).toMatchObject({ name: 'ünïcode ✓', data: { a: [1, 'x'], b: null }, tags: ['x', 'y,z'], ok: true });
    expect(await driver.prepared()).toEqual(expect.arrayContaining(['herald_1', 'herald_2']));
    expect(await driver.sql.query(SELECT, [404])).toEqual([]);
  });

  it('passes nulls and reports a failing statement with its code, then runs the next one', async () => {
    await driver.sql.query(INSERT, [2, null, null, null, null, null, null, null]);
    expect(await driver.sql.query(SELECT, [2])).toEqual(await driver.plain(SELECT, [2]));
    await expect(driver.sql.query(INSERT, [2, 'again', null, null, null, null, null, null])).rejects.toMatchObject({
      code: '23505',
    });
    expect(await driver.sql.query('SELECT count(*)::int AS n FROM things')).toEqual([{ n: 2 }]);
  });

  it('runs a statement prepared before a migration that changed what it returns', async () => {
    const all = 'SELECT * FROM things WHERE id = $1';
    await driver.sql.query(all, [1]);
    await driver.plain('ALTER TABLE things ADD COLUMN added int DEFAULT 7');
    expect(await driver.sql.query(all, [1])).toEqual(await driver.plain(all, [1]));
    expect((await driver.sql.query<{ added: number }>(all, [1]))[0]!.added).toBe(7);
  });

  it('plans follow the table: a statement prepared on a small table uses the index once it has grown', async () => {
    await driver.plain('CREATE TABLE grows (id int PRIMARY KEY, k int NOT NULL)');
    await driver.plain('CREATE INDEX grows_k ON grows (k)');
    // A new installation: a handful of rows, analyzed — reading the whole table is the cheapest plan.
    await driver.plain('INSERT INTO grows SELECT -i, -i FROM generate_series(1, 10) AS i');
    await driver.plain('ANALYZE grows');
    const text = 'SELECT id FROM grows WHERE k = $1';
    // More executions than PostgreSQL's five custom plans before it settles on a generic one.
    for (let i = 0; i < 8; i++) expect(await driver.sql.query(text, [i])).toEqual([]);
    await driver.plain('INSERT INTO grows SELECT i, i FROM generate_series(1, 20000) AS i');
    expect(await driver.sql.query(text, [7])).toEqual([{ id: 7 }]);
    const explain = async () => {
      const [row] = await driver.plain('SELECT name FROM pg_prepared_statements WHERE statement = $1', [text]);
      return (await driver.plain(`EXPLAIN EXECUTE ${String(row!.name)}(7)`)).map((r) => r['QUERY PLAN']).join('\n');
    };
    if (driver.replanEvery !== undefined) {
      // PGlite keeps the generic plan made on the small table (nothing invalidates it) until the statement is
      // prepared again.
      expect(await explain()).toContain('Seq Scan');
      for (let i = 0; i < driver.replanEvery; i++) await driver.sql.query(text, [i]);
    }
    const plan = await explain();
    expect(plan).toContain('grows_k');
    expect(plan).not.toContain('Seq Scan');
  });

  it('commits or rolls back a transaction as a whole', async () => {
    await driver.sql.transaction(async (tx) => {
      await tx.query(INSERT, [3, 'in a transaction', null, null, null, null, null, null]);
    });
    await expect(
      driver.sql.transaction(async (tx) => {
        await tx.query(INSERT, [4, 'rolled back', null, null, null, null, null, null]);
        throw new Error('abandoned');
      }),
    ).rejects.toThrow('abandoned');
    expect(await driver.sql.query('SELECT id FROM things WHERE id > 2 ORDER BY id')).toEqual([{ id: 3 }]);
  });
}

describe('PGlite', () => {
  let db: PGlite;
  behavesLikeThePlainDriver(async () => {
    db = new PGlite();
    return {
      sql: pgliteSql(db, { replanEvery: 20 }),
      replanEvery: 20,
      plain: async (text, params) => (await db.query<Record<string, unknown>>(text, params)).rows,
      prepared: async () =>
        (await db.query<{ name: string }>('SELECT name FROM pg_prepared_statements')).rows.map((r) => r.name),
      close: () => db.close(),
    };
  });

  it('never runs a statement inside another caller’s open transaction', async () => {
    const sql = pgliteSql(db);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertedOnce = new Promise<void>((resolve) => (inserted = resolve));
    const transaction = sql.transaction(async (tx) => {
      await tx.query(INSERT, [10, 'uncommitted', null, null, null, null, null, null]);
      inserted();
      await held;
      throw new Error('rolled back');
    });
    await insertedOnce;
    let answered = false;
    const outside = sql.query<{ n: number }>('SELECT count(*)::int AS n FROM things WHERE id = 10').then((rows) => {
      answered = true;
      return rows;
    });
    // The transaction holds PGlite's session: the statement cannot run, however long we wait.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    release();
    await expect(transaction).rejects.toThrow('rolled back');
    expect(await outside).toEqual([{ n: 0 }]);
  });
});

const onPostgres = process.env.DATABASE_URL ? describe : describe.skip;
onPostgres('PostgreSQL', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  behavesLikeThePlainDriver(async () => {
    database = await createTestDatabase();
    // One connection: the statements prepared on it are the ones pg_prepared_statements lists.
    pool = new pg.Pool({ ...parsePostgresUrl(database.url!), max: 1 });
    return {
      sql: pgSql(pool),
      plain: async (text, params) => (await pool.query(text, params)).rows,
      prepared: async () =>
        (await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements')).rows.map((r) => r.name),
      close: async () => {
        await pool.end();
        await database.close();
      },
    };
  });
});

onPostgres('PostgreSQL behind a pooler that shares server connections', () => {
  it('runs a statement unnamed when its name is already taken on the server connection', async () => {
    const database = await createTestDatabase();
    const pool = new pg.Pool({ ...parsePostgresUrl(database.url!), max: 1 });
    try {
      // What another client's statement looks like on a server connection a pooler hands over.
      await pool.query('PREPARE herald_1 AS SELECT 42 AS taken');
      const sql = pgSql(pool);
      expect(await sql.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect(await sql.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
      await database.close();
    }
  });
});

it(`names at most ${MAX_PREPARED} statement texts; any further text runs unnamed`, () => {
  const nameOf = statementNames();
  for (let i = 0; i < MAX_PREPARED; i++) expect(nameOf(`SELECT ${i}`)).toBe(`herald_${i + 1}`);
  expect(nameOf('SELECT 0')).toBe('herald_1');
  expect(nameOf('SELECT 1 + 1')).toBeUndefined();
});
