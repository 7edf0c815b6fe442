import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalBinary } from '../../lib/temporal-binaries';
import { installTemporalRuntime } from '../../lib/temporal-runtime';

/** A real dev server (`temporal server start-dev`, in memory) from the project's .venv — never a download. */
export function createLocalTemporal(): Promise<TestWorkflowEnvironment> {
  // Herald's Runtime (SDK logs through pino, SDK metrics on /metrics) must exist before the SDK makes its default one.
  installTemporalRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary('temporal') },
      extraArgs: ['--log-level', 'error'],
    },
  });
}

/** The time-skipping test server from the project's .venv. */
export function createTimeSkippingTemporal(): Promise<TestWorkflowEnvironment> {
  installTemporalRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalBinary('temporal-test-server') } },
  });
}
