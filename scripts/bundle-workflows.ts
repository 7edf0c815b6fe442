/**
 * Builds the workflow bundle once, at image build time (see Dockerfile), so a production worker starts without
 * running webpack. Workers load it when NODE_ENV=production (lib/worker.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main() {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    // The same failure converter as lib/worker.ts gives the worker (lib/codec.ts): failure messages are encrypted.
    failureConverterPath: require.resolve('../lib/failure-converter'),
  });
  const out = path.resolve(__dirname, '..', 'dist', 'workflow-bundle.js');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
  console.log(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
