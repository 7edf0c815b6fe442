import fs from 'node:fs';
import { RUN_DIR_VARIABLE } from './run-dir';

export default function globalTeardown(): void {
  const dir = process.env[RUN_DIR_VARIABLE];
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
