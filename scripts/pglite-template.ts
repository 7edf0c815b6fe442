/**
 * Creates the embedded database's template folder (platform/pglite-folder.ts) when it is missing or stale, so the first
 * `npm start` copies it instead of running PGlite's initdb inside Herald's process.
 */
import { ensurePgliteTemplate, PGLITE_TEMPLATE } from '../platform/pglite-folder';

if (ensurePgliteTemplate()) console.log(`herald setup: embedded database template ${PGLITE_TEMPLATE}`);
