/**
 * Load shapes. Closed loop: `concurrency` clients, each starting the next operation when its previous one is done —
 * it finds the saturation rate. Open loop: operations started on a fixed schedule whatever the system does — it
 * shows latency at a given rate (a closed loop would hide a slow server by sending less).
 */
import { performance } from 'node:perf_hooks';

export interface OperationResult {
  ok: boolean;
  /** Time to the first answer (POST → 202), when the operation has one. */
  acceptMs?: number;
  /** Time until done (end to end). */
  totalMs: number;
  error?: string;
}

export type Operation = (seq: number) => Promise<OperationResult>;

export interface Completed extends OperationResult {
  startedAt: number;
  doneAt: number;
}

export interface WindowHooks {
  /** Called when the measured window opens (after the warm-up) and when it closes. */
  onWindowStart?: () => void;
  onWindowEnd?: () => void;
}

export interface LoadResult {
  completed: Completed[];
  windowStart: number;
  windowEnd: number;
  /** Operations started, warm-up and drain included. */
  started: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function guarded(operation: Operation, seq: number): Promise<Completed> {
  const startedAt = performance.now();
  try {
    const result = await operation(seq);
    return { ...result, startedAt, doneAt: performance.now() };
  } catch (error) {
    const doneAt = performance.now();
    return { ok: false, totalMs: doneAt - startedAt, error: (error as Error).message, startedAt, doneAt };
  }
}

export async function closedLoop(
  operation: Operation,
  options: { concurrency: number; warmupMs: number; durationMs: number } & WindowHooks,
): Promise<LoadResult> {
  const begin = performance.now();
  const windowStart = begin + options.warmupMs;
  const windowEnd = windowStart + options.durationMs;
  const completed: Completed[] = [];
  let seq = 0;
  const at = (ms: number, hook?: () => void) =>
    new Promise<void>((resolve) =>
      setTimeout(() => {
        hook?.();
        resolve();
      }, ms),
    );
  // Both edges are read on time, whether or not operations are still running then.
  const edges = Promise.all([
    at(options.warmupMs, options.onWindowStart),
    at(options.warmupMs + options.durationMs, options.onWindowEnd),
  ]);
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < windowEnd) completed.push(await guarded(operation, seq++));
    }),
  );
  await edges;
  return { completed, windowStart, windowEnd, started: seq };
}

export async function openLoop(
  operation: Operation,
  options: { ratePerSecond: number; durationMs: number } & WindowHooks,
): Promise<LoadResult> {
  const windowStart = performance.now();
  const windowEnd = windowStart + options.durationMs;
  const interval = 1000 / options.ratePerSecond;
  const pending: Promise<void>[] = [];
  const completed: Completed[] = [];
  options.onWindowStart?.();
  let seq = 0;
  for (;;) {
    const due = windowStart + seq * interval;
    if (due >= windowEnd) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(guarded(operation, seq++).then((c) => void completed.push(c)));
  }
  options.onWindowEnd?.();
  await Promise.all(pending);
  return { completed, windowStart, windowEnd, started: seq };
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function median(values: number[]): number | null {
  const present = values.filter((v) => Number.isFinite(v));
  if (present.length === 0) return null;
  const sorted = [...present].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Completions inside the measured window, their rate, and latency percentiles. */
export function summarise(result: LoadResult) {
  const inWindow = result.completed.filter((c) => c.doneAt >= result.windowStart && c.doneAt <= result.windowEnd);
  const ok = inWindow.filter((c) => c.ok);
  const seconds = (result.windowEnd - result.windowStart) / 1000;
  const accepts = ok.map((c) => c.acceptMs).filter((v): v is number => v !== undefined);
  const totals = ok.map((c) => c.totalMs);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    completedInWindow: ok.length,
    ratePerSecond: round(ok.length / seconds),
    acceptP50Ms: round(percentile(accepts, 50)),
    acceptP99Ms: round(percentile(accepts, 99)),
    endToEndP50Ms: round(percentile(totals, 50)),
    endToEndP99Ms: round(percentile(totals, 99)),
    /** Every failed operation of the phase, warm-up and drain included. */
    errors: result.completed.filter((c) => !c.ok).length,
    firstErrors: [...new Set(result.completed.filter((c) => !c.ok).map((c) => c.error ?? 'failed'))].slice(0, 3),
  };
}
