/**
 * Source maps for Herald's own TypeScript only.
 *
 * tsx turns node's source-map support on for the whole process (`process.setSourceMapsEnabled(true)`), so that a
 * stack trace through a transpiled file points at its TypeScript line. On node 20 that also makes node read and
 * parse, as each module is compiled, the `.map` file of every dependency that names one (`//# sourceMappingURL=`),
 * and keep it for the life of the thread: ≈11 MB of heap in the main thread after start-up, and ≈24 MB of peak RSS
 * under load (docs/performance.md, seventh round), for stack frames inside dependencies that nobody reads in their
 * original sources. `ownSourceMapsOnly` compiles dependencies (anything under `node_modules`) with source maps off
 * and everything else as before, so Herald's own frames keep their TypeScript lines.
 *
 * Run first in every thread (scripts/preload.ts), before the modules it should cover are loaded. A process started
 * with `--enable-source-maps` (on the command line or in NODE_OPTIONS) asked for every map: it is left as it is.
 */
import Module from 'node:module';
import path from 'node:path';

const DEPENDENCY = `${path.sep}node_modules${path.sep}`;

type Compile = (this: Module, content: string, filename: string, ...rest: unknown[]) => unknown;

let installed = false;

/** Whether the process asked node for every source map itself. */
export function allSourceMapsRequested(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].includes('--enable-source-maps');
}

export function ownSourceMapsOnly(): void {
  if (installed || allSourceMapsRequested(process.execArgv, process.env.NODE_OPTIONS)) return;
  installed = true;
  const prototype = Module.prototype as unknown as { _compile: Compile };
  const compile = prototype._compile;
  prototype._compile = function (this: Module, content: string, filename: string, ...rest: unknown[]) {
    if (!process.sourceMapsEnabled || !filename.includes(DEPENDENCY))
      return compile.call(this, content, filename, ...rest);
    process.setSourceMapsEnabled(false);
    try {
      return compile.call(this, content, filename, ...rest);
    } finally {
      process.setSourceMapsEnabled(true);
    }
  };
}
