import {
  CancellationScope,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { CampaignActivities, CampaignRunProgress } from '../activities/campaigns/campaign.activities';
import {
  campaignRunStateQuery,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_PAGE_SIZE,
  DEFAULT_WINDOW_PATCH,
  LEGACY_DEFAULT_MAX_IN_FLIGHT,
  type CampaignRunInput,
  type CampaignRunResult,
  type CampaignRunState,
} from '../contract/workflows/campaign.definitions';
import { NON_RETRYABLE } from '../contract/failures';

const retry: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };

/** Database reads and writes of the run: short, retried until the database is back. */
const store = proxyActivities<CampaignActivities>({ startToCloseTimeout: '1 minute', retry });

/**
 * One page handed out: it heartbeats, so a worker that dies mid-page is noticed within the heartbeat timeout and the
 * page is repeated elsewhere (starting nobody twice: every recipient has its own idempotency key).
 */
const pages = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { ...retry, nonRetryableErrorTypes: [NON_RETRYABLE.NotFound] },
});

const POLL_MIN_MS = 500;
const POLL_MAX_MS = 10_000;

type Waited = { progress: CampaignRunProgress; continueAsNew: boolean };

/**
 * Polls the run's counters until `ready` holds or the run is closed. Backs off while nothing moves; hands back early
 * when the history is long enough for continue-as-new (a provider outage can make the wait last hours).
 */
async function waitUntil(runId: string, ready: (p: CampaignRunProgress) => boolean): Promise<Waited> {
  let delay = POLL_MIN_MS;
  let lastFinished = -1;
  for (;;) {
    const progress = await store.campaignRunProgress(runId);
    if (progress.status !== 'running' || ready(progress)) return { progress, continueAsNew: false };
    if (workflowInfo().continueAsNewSuggested) return { progress, continueAsNew: true };
    delay = progress.finished !== lastFinished ? POLL_MIN_MS : Math.min(delay * 2, POLL_MAX_MS);
    lastFinished = progress.finished;
    await sleep(delay);
  }
}

/**
 * One run of a campaign, started by the campaign's Temporal Schedule (or "trigger now"). Each execution hands out
 * one page of the audience (keyset cursor) once the run's in-flight notifications leave room for a whole page, then
 * continues as new with the cursor and counters; after the last page it waits until every notification has finished.
 *
 * Recipients are not child workflows: an activity accepts them through the API's own use case (row + workflow
 * start with the key (run, user)). So each notification is the same top-level workflow as any other, is never
 * terminated by this run continuing as new, and costs this history nothing: a page is a handful of events, whether it
 * holds 10 recipients or 1,000.
 */
export async function campaignRun(input: CampaignRunInput): Promise<CampaignRunResult> {
  const runId = workflowInfo().workflowId;
  const pageSize = input.pacing?.pageSize ?? DEFAULT_PAGE_SIZE;
  // An execution that began under the old default keeps it when replayed (workflows/fixtures/campaign-run-continued).
  const maxInFlight = Math.max(
    input.pacing?.maxInFlight ?? (patched(DEFAULT_WINDOW_PATCH) ? DEFAULT_MAX_IN_FLIGHT : LEGACY_DEFAULT_MAX_IN_FLIGHT),
    pageSize,
  );
  let state: CampaignRunState | null = input.state ?? null;
  setHandler(campaignRunStateQuery, () => state);

  const canceled = async (): Promise<CampaignRunResult> => {
    await CancellationScope.nonCancellable(() =>
      store.finishCampaignRun({ runId, outcome: 'canceled', skipped: state?.skipped ?? 0 }),
    );
    return { outcome: 'canceled', ...(state ? { state } : {}) };
  };

  try {
    if (!state) {
      const begun = await store.beginCampaignRun({ runId, campaignId: input.campaignId });
      if (!begun.ok) return { outcome: 'not_started', reason: begun.reason };
      state = {
        phase: 'starting',
        cursor: null,
        pages: 0,
        accepted: 0,
        skipped: 0,
        audienceSize: begun.audienceSize,
        templateVersion: begun.templateVersion,
      };
    }

    if (state.phase === 'starting') {
      // The window: no more than maxInFlight of this run's notifications open at once.
      const room = await waitUntil(runId, (p) => p.inFlight + pageSize <= maxInFlight);
      if (room.progress.status !== 'running') return await canceled();
      if (room.continueAsNew) return await continueAsNew<typeof campaignRun>({ ...input, state });

      const page = await pages.startCampaignPage({
        runId,
        campaignId: input.campaignId,
        cursor: state.cursor,
        pageSize,
        templateVersion: state.templateVersion,
      });
      state = {
        ...state,
        pages: state.pages + 1,
        accepted: state.accepted + page.accepted,
        skipped: state.skipped + page.skipped,
        cursor: page.lastUserId ?? state.cursor,
      };
      if (page.stopped) return await canceled();
      if (!page.exhausted) return await continueAsNew<typeof campaignRun>({ ...input, state });
      await store.markCampaignRunDispatched({ runId, skipped: state.skipped });
      state = { ...state, phase: 'draining' };
    }

    const drained = await waitUntil(runId, (p) => p.inFlight === 0);
    if (drained.continueAsNew) return await continueAsNew<typeof campaignRun>({ ...input, state });
    if (drained.progress.status !== 'running') return await canceled();
    await store.finishCampaignRun({ runId, outcome: 'completed', skipped: state.skipped });
    return { outcome: 'completed', state };
  } catch (error) {
    // Canceled (API, Web UI or CLI): nothing that has not started will start; what has started finishes.
    if (isCancellation(error)) {
      await canceled();
    }
    throw error;
  }
}
