/**
 * Waits for something a test expects to happen eventually (a row, a log line, a process answering): polls `probe`
 * until it returns a value other than undefined, and fails with `what` (or what it returns then) once `timeoutMs` has passed. The bound is a
 * guard against a hang, never an assertion about speed.
 */
export interface UntilOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** A probe that throws fails the wait, unless this says the error is worth polling through (a process restarting). */
  retryOn?: (error: unknown) => boolean;
}

export async function until<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined>,
  { timeoutMs = 90_000, intervalMs = 250, retryOn = () => false }: UntilOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch((error: unknown) => {
      if (retryOn(error)) return undefined;
      throw error;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
