/**
 * The embedded database's folder: how PGlite starts, and how a new folder is created without its initdb's memory
 * staying in Herald's process.
 *
 * PGlite creates a new folder by running initdb in a second, in-memory instance and copying the result: ≈450 MB of
 * WebAssembly memory that would stay resident in Herald's process for its whole life (docs/performance.md). So
 * `npm run setup` creates one empty folder, the template (dist/pglite-template), in its own short-lived process, and a
 * first start copies it with plain file operations. Without a template (a checkout where setup has not run), a child
 * process runs initdb instead. Either way the folder appears under its name only once complete (a rename), so a kill
 * mid-creation never leaves a half-made database that looks like one.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/**
 * PostgreSQL's default 128 MB of shared buffers is WebAssembly memory PGlite touches at start-up and never gives back.
 * 16 MB holds the embedded default's hot rows (other pages are read from the folder through the OS's cache) and takes
 * ≈110 MB off the process's resident memory.
 */
export const EMBEDDED_START_PARAMS: readonly string[] = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

export const PGLITE_TEMPLATE = path.resolve(__dirname, '..', 'dist', 'pglite-template');
/** The template is PGlite's data folder format: it is made again when PGlite's version changes. */
const stampOf = (template: string) => `${template}.version`;

function pgliteVersion(): string {
  const manifest = path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

const isDatabaseFolder = (folder: string) => fs.existsSync(path.join(folder, 'PG_VERSION'));

export function templateIsCurrent(template = PGLITE_TEMPLATE): boolean {
  try {
    return isDatabaseFolder(template) && fs.readFileSync(stampOf(template), 'utf8') === pgliteVersion();
  } catch {
    return false;
  }
}

/** initdb into `folder`, in a child process whose memory is returned when it exits. */
function initdbInChild(folder: string): void {
  const script = `const { PGlite } = require(${JSON.stringify(require.resolve('@electric-sql/pglite'))});
const db = new PGlite(process.argv[1], { startParams: JSON.parse(process.argv[2]) });
db.waitReady.then(() => db.close());`;
  execFileSync(process.execPath, ['-e', script, folder, JSON.stringify(EMBEDDED_START_PARAMS)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Builds `folder` under a temporary name with `make`, then renames it into place. */
function createAtomically(folder: string, make: (staging: string) => void): void {
  const staging = `${folder}.creating`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(folder), { recursive: true });
  make(staging);
  if (!isDatabaseFolder(staging)) throw new Error(`creating the embedded database in ${folder} failed`);
  fs.renameSync(staging, folder);
}

/** Makes the template when it is missing or from another PGlite version (`npm run setup`). */
export function ensurePgliteTemplate(template = PGLITE_TEMPLATE): boolean {
  if (templateIsCurrent(template)) return false;
  fs.rmSync(template, { recursive: true, force: true });
  createAtomically(template, initdbInChild);
  fs.writeFileSync(stampOf(template), pgliteVersion());
  return true;
}

/**
 * Creates an empty database folder at `folder` unless one is there. Synchronous: it runs once, at the first start,
 * before anything is served (a copy of a few MB, or ≈3 s of initdb without the template).
 */
export function createPgliteFolder(folder: string, template = PGLITE_TEMPLATE): void {
  if (isDatabaseFolder(folder)) return;
  if (fs.existsSync(folder) && fs.readdirSync(folder).length > 0) {
    throw new Error(`${folder} is not empty but holds no database (no PG_VERSION): move it away to start afresh`);
  }
  fs.rmSync(folder, { recursive: true, force: true });
  createAtomically(folder, (staging) => {
    if (templateIsCurrent(template)) fs.cpSync(template, staging, { recursive: true });
    else initdbInChild(staging);
  });
}
