/**
 * The Temporal server's own count of its database work, from its Prometheus endpoint: `persistence_requests` (the
 * execution store: workflow state, history, task queues, timers) and `visibility_persistence_requests` (the rows the
 * Web UI lists), per operation. Counts move with what a phase asks of the server, not with how busy the machine is,
 * so they compare two runs better than CPU does on a shared machine.
 */

export type PersistenceCounts = Record<string, number>;

const LINE = /^(persistence_requests|visibility_persistence_requests)\{([^}]*)\}\s+([0-9.eE+-]+)/;
const OPERATION = /(?:^|,)operation="([^"]+)"/;

/** Sums the counters per operation (visibility operations prefixed `visibility:`), over every namespace and shard. */
export function parsePersistenceCounts(text: string): PersistenceCounts {
  const counts: PersistenceCounts = {};
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const operation = OPERATION.exec(match[2]!)?.[1];
    const value = Number(match[3]);
    if (!operation || !Number.isFinite(value)) continue;
    const key = match[1] === 'visibility_persistence_requests' ? `visibility:${operation}` : operation;
    counts[key] = (counts[key] ?? 0) + value;
  }
  return counts;
}

export async function readPersistenceCounts(metricsUrl: string): Promise<PersistenceCounts> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${metricsUrl}: ${response.status}`);
  return parsePersistenceCounts(await response.text());
}

/**
 * What happened between two readings, per unit (notification or recipient): the total and every operation, largest
 * first, rounded to 0.01.
 */
export function persistencePerUnit(before: PersistenceCounts, after: PersistenceCounts, units: number) {
  if (units <= 0) return null;
  const byOperation: Record<string, number> = {};
  let total = 0;
  for (const [operation, value] of Object.entries(after)) {
    const delta = value - (before[operation] ?? 0);
    if (delta <= 0) continue;
    total += delta;
    byOperation[operation] = delta;
  }
  const round = (n: number) => Math.round((n / units) * 100) / 100;
  return {
    total: round(total),
    byOperation: Object.fromEntries(
      Object.entries(byOperation)
        .sort((a, b) => b[1] - a[1])
        .map(([operation, delta]) => [operation, round(delta)]),
    ),
  };
}
