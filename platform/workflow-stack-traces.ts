/**
 * Workflow stack traces — the Temporal Web UI's "Stack Trace" tab and the `__stack_trace` query of a running
 * workflow — are off unless HERALD_WORKFLOW_STACK_TRACES=true.
 *
 * To answer that query the SDK records, for every promise a workflow creates, the stack that created it: a V8 promise
 * hook in its workflow thread that captures and formats a stack trace per promise, whether or not anyone ever asks.
 * That was ≈2 ms of CPU per notification (docs/performance.md). The SDK has a mode without it (for runtimes without
 * promise hooks), in which the query answers "Workflow stack traces are not enabled on this worker" (a message the
 * failure converter leaves readable, contract/failure-converter.ts); `preload` puts the workflow thread in that
 * mode. Everything else the Web UI shows (history, inputs, results, pending activities and their last failures) does
 * not depend on it.
 *
 * `preload` must run at the start of the workflow thread, before the SDK installs its hook: `npm start`, `npm run api`
 * and `npm run worker` load scripts/preload.ts with `--require` (package.json), and node runs `--require` modules at
 * the start of every worker thread too. The variable is validated with the rest of the configuration (platform/config),
 * before any workflow thread exists.
 */
import { isMainThread } from 'node:worker_threads';
import { WORKFLOW_STACK_TRACES_VARIABLE } from '../contract/failure-converter';

export { WORKFLOW_STACK_TRACES_VARIABLE };

let preloaded = false;

/** True when the variable asks for stack traces (the values platform/config's `flag` reads as true). */
export function workflowStackTracesOn(env: NodeJS.ProcessEnv): boolean {
  return /^(true|1)$/i.test(env[WORKFLOW_STACK_TRACES_VARIABLE] ?? '');
}

/**
 * Whether this process's workflow threads keep stack traces: when the configuration asks for them, or when `preload`
 * did not run (Herald started some other way than its npm scripts: a test's in-process worker, say).
 */
export function workflowStackTracesKept(requested: boolean): boolean {
  return requested || !preloaded;
}

/** Run by every thread of Herald's processes as it starts (scripts/preload.ts). */
export function preload(): void {
  preloaded = true;
  if (isMainThread || workflowStackTracesOn(process.env)) return;
  // The SDK installs its promise hook once per thread, from `globalHandlers.install()`, and tells workflows whether it
  // did (`promiseHookInstalled`). Skipping that one step is the SDK's own mode without stack traces. Not
  // `v8.promiseHooks.createHook` itself: node's AsyncLocalStorage, which the SDK's cancellation scopes use, needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { globalHandlers } = require('@temporalio/worker/lib/workflow/vm-shared') as {
    globalHandlers?: { setPromiseHook?: () => void };
  };
  if (typeof globalHandlers?.setPromiseHook !== 'function') {
    throw new Error(
      `${WORKFLOW_STACK_TRACES_VARIABLE}: this version of @temporalio/worker has no globalHandlers.setPromiseHook; ` +
        'platform/workflow-stack-traces.ts must follow the SDK',
    );
  }
  globalHandlers.setPromiseHook = () => undefined;
}
