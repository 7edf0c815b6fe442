import { bundleWorkflowCode } from '@temporalio/worker';
import { buildOnce } from './run-dir';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * Herald's workflows bundled as scripts/bundle-workflows.ts does for production (same failure converter), once per
 * test run instead of by webpack in every test file that starts a worker.
 */
export async function heraldWorkflowBundle(): Promise<{ codePath: string }> {
  const codePath = await buildOnce('herald-workflows.js', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      failureConverterPath: require.resolve('../../contract/failure-converter'),
      logger: quiet,
    });
    return code;
  });
  return { codePath };
}
