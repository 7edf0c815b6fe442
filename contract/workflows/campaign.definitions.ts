/**
 * The campaign-run workflow's public surface: its input (what a campaign's Temporal Schedule starts it with), the
 * state it carries across continue-as-new, and its progress query. Dependency-free, for the API, tests and the UI.
 */
import { defineQuery } from '@temporalio/workflow';

export const CAMPAIGN_RUN_WORKFLOW = 'campaignRun';

/**
 * Defaults: 250 recipients per page and at most 300 of a run's notifications in flight, well under the ~1,000 open
 * workflows where a dev server (and a small worker) starts timing out tasks (TEMPORAL.md). A campaign's `pacing`
 * raises them, up to 1,000 in flight, on a real cluster. 300 sends as fast as 500 did on the 2-core reference machine
 * and keeps ≈12 MB less in the worker (docs/performance.md, seventh round).
 */
export const DEFAULT_PAGE_SIZE = 250;
export const DEFAULT_MAX_IN_FLIGHT = 300;
/** The default window of runs started before it became DEFAULT_MAX_IN_FLIGHT: they keep it when replayed. */
export const LEGACY_DEFAULT_MAX_IN_FLIGHT = 500;
/** The `patched()` id that tells the two apart. */
export const DEFAULT_WINDOW_PATCH = 'campaign-default-window-300';

/** The schedule id and the workflow id prefix of a campaign (Temporal appends the scheduled time to each run). */
export const campaignScheduleId = (campaignId: string) => `campaign-${campaignId}`;

export interface CampaignRunInput {
  campaignId: string;
  pacing?: { pageSize?: number; maxInFlight?: number };
  /** Carried across continue-as-new; absent on a run's first execution. */
  state?: CampaignRunState;
}

export interface CampaignRunState {
  phase: 'starting' | 'draining';
  /** The last user id handed out (keyset cursor); null before the first page. */
  cursor: string | null;
  pages: number;
  /** Recipients accepted (notification recorded and its workflow started) and skipped (user gone meanwhile). */
  accepted: number;
  skipped: number;
  audienceSize: number;
  templateVersion: number;
}

export type CampaignRunOutcome = 'completed' | 'canceled' | 'not_started';

export interface CampaignRunResult {
  outcome: CampaignRunOutcome;
  reason?: string;
  state?: CampaignRunState;
}

export const campaignRunStateQuery = defineQuery<CampaignRunState | null>('state');
