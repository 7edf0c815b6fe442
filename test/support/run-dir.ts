/**
 * A scratch folder for the whole test run (made by test/support/global-setup.ts, removed by global-teardown.ts), so
 * that what every test file would otherwise build for itself is built once and shared by all jest workers: the
 * migrated embedded database, the workflow bundle. Outside jest (bench/), a folder for this process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RUN_DIR_VARIABLE = 'HERALD_TEST_RUN_DIR';

let own: string | undefined;

export function runDir(): string {
  const shared = process.env[RUN_DIR_VARIABLE];
  if (shared && fs.existsSync(shared)) return shared;
  if (!own) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-test-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    own = dir;
  }
  return own;
}

/**
 * The run's copy of `name`, built by the first caller. Written under a temporary name and renamed, so a concurrent
 * reader in another jest worker sees the whole file or none (two workers may both build it, which is only slower).
 */
export async function buildOnce(name: string, build: () => Promise<string | Uint8Array>): Promise<string> {
  const file = path.join(runDir(), name);
  if (fs.existsSync(file)) return file;
  const content = await build();
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, content);
  fs.renameSync(partial, file);
  return file;
}
