/**
 * Builds the workflow bundle (dist/workflow-bundle.js) with the fingerprint of its sources, so workers start without
 * running webpack: at image build time (Dockerfile) and by `npm run setup` when the workflows changed (`--if-stale`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { freshPrebuiltBundle, PREBUILT_BUNDLE, writeFingerprint } from '../server/workflow-bundle';

async function main() {
  if (process.argv.includes('--if-stale') && freshPrebuiltBundle()) return;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    // The same failure converter as server/worker.ts gives the worker (contract/codec.ts): failure messages are encrypted.
    failureConverterPath: require.resolve('../contract/failure-converter'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
  });
  fs.mkdirSync(path.dirname(PREBUILT_BUNDLE), { recursive: true });
  fs.writeFileSync(PREBUILT_BUNDLE, code);
  writeFingerprint();
  console.log(`herald setup: workflow bundle ${PREBUILT_BUNDLE} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
