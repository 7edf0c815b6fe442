/**
 * Loaded with `--require` by `npm start`, `npm run api` and `npm run worker` (package.json), so it runs first in the
 * main thread and at the start of every worker thread, the Temporal SDK's workflow thread included.
 */
import { sourceMapsOffUnlessRequested } from '../platform/source-maps';
import type * as StackTraces from '../platform/workflow-stack-traces';

// First, so that every module loaded after it (the SDK's included) is covered.
sourceMapsOffUnlessRequested();

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { preload } = require('../platform/workflow-stack-traces') as typeof StackTraces;
preload();
