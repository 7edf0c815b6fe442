/**
 * The prebuilt workflow bundle (dist/workflow-bundle.js) and the fingerprint of what it was built from. `npm run
 * setup` builds it when the workflows change (scripts/bundle-workflows.ts); a worker loads it only when its
 * fingerprint matches the sources on disk, so `npm start` skips webpack (seconds of CPU and a few hundred MB of peak
 * memory) and a stale bundle is never run.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
export const PREBUILT_BUNDLE = path.join(ROOT, 'dist', 'workflow-bundle.js');
const FINGERPRINT = path.join(ROOT, 'dist', 'workflow-bundle.sha256');

/**
 * Everything the bundle is made of: the workflows' sources, the wire contract they import (definitions, channels,
 * failure types, the failure converter) and the SDK's version.
 */
export function workflowSourcesFingerprint(): string {
  const hash = createHash('sha256');
  const files = ['workflows', 'contract'].flatMap((dir) => sourcesUnder(path.join(ROOT, dir)));
  for (const file of files) hash.update(file.slice(ROOT.length)).update(fs.readFileSync(file));
  const sdk = JSON.parse(fs.readFileSync(require.resolve('@temporalio/workflow/package.json'), 'utf8')) as {
    version: string;
  };
  return hash.update(sdk.version).digest('hex');
}

function sourcesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The prebuilt bundle when it was built from the sources on disk, else undefined. */
export function freshPrebuiltBundle(): string | undefined {
  try {
    if (!fs.existsSync(PREBUILT_BUNDLE)) return undefined;
    return fs.readFileSync(FINGERPRINT, 'utf8').trim() === workflowSourcesFingerprint() ? PREBUILT_BUNDLE : undefined;
  } catch {
    return undefined;
  }
}

export function writeFingerprint(): void {
  fs.writeFileSync(FINGERPRINT, `${workflowSourcesFingerprint()}\n`);
}
