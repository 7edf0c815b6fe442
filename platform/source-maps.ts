/**
 * Source maps off in Herald's processes, unless asked for with `--enable-source-maps`.
 *
 * tsx turns node's source-map support on for the whole process (`process.setSourceMapsEnabled(true)`), so that a
 * stack trace through a transpiled file points at its TypeScript line. On node 20 that also makes node read, parse and
 * keep, as each module is compiled, the source map of every module that names one — each of Herald's files (tsx
 * inlines one) and every dependency that ships a `.map` — for the life of the thread: 11.5 of the main thread's 53 MB
 * of heap after start-up, and ≈24 MB of peak RSS under load (docs/performance.md, seventh round). Without them a stack
 * frame still names the function and the file; only the line and column are those of the transpiled code.
 *
 * Run first in every thread (scripts/preload.ts), before the modules it should cover are loaded. To read stack traces
 * with their TypeScript lines, start the process with `NODE_OPTIONS=--enable-source-maps` (or the flag on the command
 * line): it is then left as it is.
 */

/** Whether the process asked node for source maps itself. */
export function sourceMapsRequested(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].includes('--enable-source-maps');
}

export function sourceMapsOffUnlessRequested(): void {
  if (sourceMapsRequested(process.execArgv, process.env.NODE_OPTIONS)) return;
  process.setSourceMapsEnabled(false);
}
