/**
 * Prisma CLI configuration: every schema operation goes through a driver adapter and the Wasm schema engine, so
 * nothing is downloaded (see ../shared/PRISMA.md for why each piece is here). DATABASE_URL set → that PostgreSQL;
 * unset → a throw-away in-memory PGlite.
 */
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { defineConfig } from 'prisma/config';
import { PgliteAdapterFactory, PostgresAdapterFactory } from './prisma/adapters';

// Prisma 6 insists that env("DATABASE_URL") resolves to a postgres-shaped URL even when an adapter is used.
const EMBEDDED_PLACEHOLDER_URL = 'postgresql://embedded@localhost/herald';
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) process.env.DATABASE_URL = EMBEDDED_PLACEHOLDER_URL;

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  async adapter() {
    if (databaseUrl) return new PostgresAdapterFactory(databaseUrl, { max: 2, allowExitOnIdle: true });
    // The CLI exits without closing its adapter, which corrupted an on-disk PGlite folder in our trials. So the CLI
    // only ever gets an in-memory PGlite (enough for `migrate diff` and authoring migrations); the embedded database
    // under .data/ is migrated in-process by `npm start` (prisma/migrate.ts), which closes it properly.
    const db = new PGlite();
    return new PgliteAdapterFactory(db);
  },
});
