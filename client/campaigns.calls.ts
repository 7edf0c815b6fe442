/** Campaigns (a template to an audience, on a Temporal Schedule) and their runs: /v1/campaigns. */
import { newIdempotencyKey } from '../contract/ids';
import {
  campaignInputSchema,
  campaignRunsQuerySchema,
  idempotencyKeySchema,
  listCampaignsQuerySchema,
} from '../contract/schemas';
import { HeraldError } from './errors';
import { enc, type NeedHttp } from './http.transport';
import type {
  Campaign,
  CampaignFilter,
  CampaignInput,
  CampaignPage,
  CampaignRun,
  CampaignRunPage,
  CampaignTriggered,
  CreateCampaignOptions,
  PageOptions,
} from './types';
import { pageQuery, parse, parseId } from './validate';

export interface CampaignCalls {
  /**
   * Creates a campaign and its schedule: once (`{ at }`, in the future) or on a cron in a time zone. Idempotent by
   * `idempotencyKey` (generated when you give none), so it is retried like every other call: one key, one campaign.
   * InvalidInputError `idempotency_key_reused` when the key already created a different campaign.
   */
  createCampaign(input: CampaignInput, options?: CreateCampaignOptions): Promise<Campaign>;
  /**
   * Campaigns newest first, a page at a time: pass `nextCursor` as `cursor` for the next page (null on the last).
   * Deleted campaigns only when `status` names `deleted`. Items have no `nextRunAt` (`getCampaign` has it).
   */
  listCampaigns(filter?: CampaignFilter): Promise<CampaignPage>;
  /** The campaign, with its next run times while it is scheduled (`status` `deleted` once deleted). */
  getCampaign(campaignId: string): Promise<Campaign>;
  /** Deletes its schedule: no further runs; runs in progress go on (cancel them with `cancelCampaignRun`). */
  deleteCampaign(campaignId: string): Promise<void>;
  /** Pauses the schedule (ConflictError `campaign_deleted` for a deleted campaign). */
  pauseCampaign(campaignId: string): Promise<Campaign>;
  resumeCampaign(campaignId: string): Promise<Campaign>;
  /**
   * Starts a run now, besides the schedule (even while paused); `listCampaignRuns` shows it once it has begun. Each
   * call is one more run, so an ambiguous failure is not retried.
   */
  triggerCampaign(campaignId: string): Promise<CampaignTriggered>;
  /** Runs, newest first, a page at a time (`limit` up to 100, default 100). */
  listCampaignRuns(campaignId: string, page?: PageOptions): Promise<CampaignRunPage>;
  /** A run's progress: audience size, started, delivered, failed, suppressed, estimated time to finish. */
  getCampaignRun(campaignId: string, runId: string): Promise<CampaignRun>;
  /**
   * Cancels a run: once this answers no further recipient is started; notifications already started finish.
   * ConflictError `not_cancelable` once the run has completed.
   */
  cancelCampaignRun(campaignId: string, runId: string): Promise<CampaignRun>;
}

export function campaignCalls(http: NeedHttp): CampaignCalls {
  const path = (id: string) => `/v1/campaigns/${enc(id)}`;
  const runPath = (id: string, runId: string) => `${path(id)}/runs/${enc(runId)}`;
  const action = async <T>(call: string, campaignId: string, verb: string, repeatable = true) => {
    const id = parseId(campaignId, 'campaignId');
    return (await http(call).request<T>('POST', `${path(id)}/${verb}`, { id, repeatable })).body;
  };
  return {
    async createCampaign(input, options = {}) {
      const body = parse(campaignInputSchema, input);
      const key = options.idempotencyKey ?? newIdempotencyKey();
      parse(idempotencyKeySchema, key, ['idempotencyKey']);
      try {
        const headers = { 'idempotency-key': key };
        return (await http('createCampaign').request<Campaign>('POST', '/v1/campaigns', { body, headers })).body;
      } catch (error) {
        if (error instanceof HeraldError) error.idempotencyKey = key;
        throw error;
      }
    },
    async listCampaigns(filter = {}) {
      const { status, limit, ...rest } = filter;
      const query = {
        ...rest,
        status: status === undefined ? undefined : [status].flat().join(','),
        limit: limit === undefined ? undefined : String(limit),
      };
      parse(listCampaignsQuerySchema, query);
      return (await http('listCampaigns').request<CampaignPage>('GET', '/v1/campaigns', { query })).body;
    },
    async getCampaign(campaignId) {
      const id = parseId(campaignId, 'campaignId');
      return (await http('getCampaign').request<Campaign>('GET', path(id), { id })).body;
    },
    async deleteCampaign(campaignId) {
      const id = parseId(campaignId, 'campaignId');
      await http('deleteCampaign').request('DELETE', path(id), { id });
    },
    pauseCampaign: (campaignId) => action<Campaign>('pauseCampaign', campaignId, 'pause'),
    resumeCampaign: (campaignId) => action<Campaign>('resumeCampaign', campaignId, 'resume'),
    triggerCampaign: (campaignId) => action<CampaignTriggered>('triggerCampaign', campaignId, 'trigger', false),
    async listCampaignRuns(campaignId, page) {
      const id = parseId(campaignId, 'campaignId');
      const query = pageQuery(page, campaignRunsQuerySchema);
      return (await http('listCampaignRuns').request<CampaignRunPage>('GET', `${path(id)}/runs`, { query, id })).body;
    },
    async getCampaignRun(campaignId, runId) {
      const id = parseId(campaignId, 'campaignId');
      const run = parseId(runId, 'runId');
      return (await http('getCampaignRun').request<CampaignRun>('GET', runPath(id, run), { id: run })).body;
    },
    async cancelCampaignRun(campaignId, runId) {
      const id = parseId(campaignId, 'campaignId');
      const run = parseId(runId, 'runId');
      const url = `${runPath(id, run)}/cancel`;
      return (await http('cancelCampaignRun').request<CampaignRun>('POST', url, { id: run })).body;
    },
  };
}
