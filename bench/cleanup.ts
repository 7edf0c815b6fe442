/**
 * Whatever the benchmark started is stopped when it ends — normally, on an error, on Ctrl-C or on its own deadline:
 * cleanups run last-in first-out, and processes still registered at exit are killed (as process groups where they
 * lead one) so that nothing outlives the benchmark.
 */
const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
const processes = new Map<number, { group: boolean }>();

export function onCleanup(name: string, run: () => Promise<unknown>): void {
  cleanups.push({ name, run });
}

/** Killed with SIGKILL when the benchmark exits, if still there; `group` for a detached child leading its group. */
export function killAtExit(pid: number, group = false): void {
  processes.set(pid, { group });
}

export function forget(pid: number): void {
  processes.delete(pid);
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const { name, run } = cleanups.pop()!;
    try {
      await Promise.race([
        run(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 30 s')), 30_000).unref()),
      ]);
    } catch (error) {
      console.error(`bench: cleanup "${name}" failed: ${(error as Error).message}`);
    }
  }
}

process.on('exit', () => {
  for (const [pid, { group }] of processes) {
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: leave now (the exit hook still kills the children)
    interrupted = true;
    console.error(`bench: ${signal}, stopping everything it started…`);
    void runCleanups().finally(() => process.exit(130));
  });
}
