/**
 * A campaign run's progress from its counter rows (a handful per run, summed), never from a count of notifications.
 * Shared by the API (GET .../runs/{runId}) and the run workflow's activities (the in-flight window).
 */
import type { Db } from '../../platform/db';
import type { CampaignRunStatus, CampaignRunView } from '../../contract/schemas';

export interface RunCounters {
  started: number;
  delivered: number;
  failed: number;
  suppressed: number;
  canceled: number;
}

export async function runCounters(db: Db, runId: string): Promise<RunCounters> {
  const { _sum: sum } = await db.campaignRunCounter.aggregate({
    where: { runId },
    _sum: { started: true, delivered: true, failed: true, suppressed: true, canceled: true },
  });
  return {
    started: sum.started ?? 0,
    delivered: sum.delivered ?? 0,
    failed: sum.failed ?? 0,
    suppressed: sum.suppressed ?? 0,
    canceled: sum.canceled ?? 0,
  };
}

export const finishedOf = (c: RunCounters) => c.delivered + c.failed + c.suppressed + c.canceled;

interface RunRow {
  id: string;
  campaignId: string;
  status: string;
  audienceSize: number;
  skipped: number;
  error: string | null;
  startedAt: Date;
  dispatchedAt: Date | null;
  completedAt: Date | null;
}

/**
 * The run as the API shows it. `audienceSize` is the audience's COUNT when the run began, replaced by the exact
 * number (recipients started + skipped) once every page has been handed out. The rate is recipients finished per
 * second since the run began; the estimate divides what is left by it.
 */
export function toRunView(run: RunRow, counters: RunCounters, now: Date = new Date()): CampaignRunView {
  const finished = finishedOf(counters);
  const done = finished + run.skipped;
  const total = Math.max(run.audienceSize, counters.started + run.skipped);
  const end = run.completedAt ?? now;
  const seconds = Math.max((end.getTime() - run.startedAt.getTime()) / 1000, 0.001);
  const rate = finished > 0 ? finished / seconds : null;
  const open = run.status === 'running' || run.status === 'canceling';
  const remaining = Math.max(total - done, 0);
  return {
    id: run.id,
    campaignId: run.campaignId,
    status: run.status as CampaignRunStatus,
    audienceSize: total,
    ...counters,
    skipped: run.skipped,
    inFlight: Math.max(counters.started - finished, 0),
    percentComplete: total === 0 ? (open ? 0 : 100) : Math.round((done / total) * 10_000) / 100,
    recipientsPerSecond: rate === null ? null : Math.round(rate * 100) / 100,
    estimatedSecondsRemaining: !open ? 0 : rate === null ? null : Math.ceil(remaining / rate),
    error: run.error,
    startedAt: run.startedAt.toISOString(),
    dispatchedAt: run.dispatchedAt?.toISOString() ?? null,
    completedAt: run.completedAt?.toISOString() ?? null,
  };
}
