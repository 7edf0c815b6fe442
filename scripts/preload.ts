/**
 * Loaded with `--require` by `npm start`, `npm run api` and `npm run worker` (package.json), so it runs first in the
 * main thread and at the start of every worker thread, the Temporal SDK's workflow thread included.
 */
import { preload } from '../platform/workflow-stack-traces';

preload();
