import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

/** The binaries installed by scripts/setup.js (npm's pre-scripts run it); never downloaded at run time. */
export function temporalBinary(name: 'temporal' | 'temporal-test-server'): string {
  const file = path.join(root, '.venv', 'bin', name);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run setup\` first`);
  return file;
}
