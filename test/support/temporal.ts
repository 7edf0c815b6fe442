import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalBinary } from '../../lib/temporal-binaries';

/** A real dev server (`temporal server start-dev`, in memory) from the project's .venv — never a download. */
export function createLocalTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary('temporal') },
      extraArgs: ['--log-level', 'error'],
    },
  });
}

/** The time-skipping test server from the project's .venv. */
export function createTimeSkippingTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalBinary('temporal-test-server') } },
  });
}
