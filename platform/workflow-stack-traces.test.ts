import { ConfigError, loadPlatformConfig } from './config';
import {
  WORKFLOW_STACK_TRACES_VARIABLE,
  workflowStackTracesKept,
  workflowStackTracesOn,
} from './workflow-stack-traces';

// The preload reads the variable in the workflow thread without the configuration's parser (zod would cost that thread
// memory); both must read every value the configuration accepts the same way. test/e2e/workflow-stack-traces.e2e.test.ts
// checks the effect on a running `npm start`.
describe('HERALD_WORKFLOW_STACK_TRACES', () => {
  it.each(['true', 'TRUE', '1', 'false', 'False', '0', ''])(
    '%p reads the same in the configuration and the preload',
    (value) => {
      const env = { [WORKFLOW_STACK_TRACES_VARIABLE]: value };
      expect(loadPlatformConfig(env).temporal.workflowStackTraces).toBe(workflowStackTracesOn(env));
    },
  );

  it('is off when unset, and a value that is not a boolean stops start-up naming the variable', () => {
    expect(loadPlatformConfig({}).temporal.workflowStackTraces).toBe(false);
    expect(() => loadPlatformConfig({ [WORKFLOW_STACK_TRACES_VARIABLE]: 'yes' })).toThrow(ConfigError);
    expect(() => loadPlatformConfig({ [WORKFLOW_STACK_TRACES_VARIABLE]: 'yes' })).toThrow(
      WORKFLOW_STACK_TRACES_VARIABLE,
    );
  });

  it('a process that did not run the preload (an in-process worker) keeps the SDK default: stack traces on', () => {
    expect(workflowStackTracesKept(false)).toBe(true);
    expect(workflowStackTracesKept(true)).toBe(true);
  });
});
