import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RUN_DIR_VARIABLE } from './run-dir';

/** The run's scratch folder (test/support/run-dir.ts); jest starts its workers after this, so they inherit it. */
export default function globalSetup(): void {
  process.env[RUN_DIR_VARIABLE] = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-test-run-'));
}
