import { createHash } from 'node:crypto';
import {
  MONTHS,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowNotFoundError,
  type Client,
  type ScheduleSpec,
} from '@temporalio/client';
import { decodeCursor, encodeCursor } from '../../domain/campaigns/audience';
import { runCounters, toRunView, type RunCounters } from '../../domain/campaigns/campaign-progress';
import type { Db, Prisma } from '../../platform/db';
import { newCampaignId } from '../../contract/ids';
import type {
  Audience,
  CampaignInput,
  CampaignPacing,
  CampaignPage,
  CampaignRunPage,
  CampaignSchedule,
  CampaignStatus,
  CampaignTriggered,
} from '../../contract/schemas';
import {
  CAMPAIGN_RUN_WORKFLOW,
  campaignScheduleId,
  type CampaignRunInput,
} from '../../contract/workflows/campaign.definitions';
import { decodeKeysetCursor, keysetPage, NEWEST_FIRST, olderThan } from '../cursor';
import { HttpError, notFound } from '../errors';
import type { Channel } from '../../contract/channels';

type CampaignRow = Prisma.CampaignGetPayload<object>;

export interface CampaignServiceDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
}

const temporalUnavailable = (what: string, error: unknown) =>
  new HttpError(503, 'temporal_unavailable', `could not ${what}: ${(error as Error).message}`);

function cursorOf(value: string | undefined): string | null {
  try {
    return decodeCursor(value);
  } catch {
    throw new HttpError(400, 'invalid_cursor', 'cursor is not one this API returned');
  }
}

/** A one-off time becomes a calendar entry for that UTC second (rounded up) that may fire once. */
function scheduleSpec(schedule: CampaignSchedule): ScheduleSpec {
  if ('cron' in schedule) return { cronExpressions: [schedule.cron], timezone: schedule.timezone };
  const at = new Date(Math.ceil(Date.parse(schedule.at) / 1000) * 1000);
  return {
    calendars: [
      {
        year: at.getUTCFullYear(),
        month: MONTHS[at.getUTCMonth()]!,
        dayOfMonth: at.getUTCDate(),
        hour: at.getUTCHours(),
        minute: at.getUTCMinutes(),
        second: at.getUTCSeconds(),
      },
    ],
    timezone: 'UTC',
  };
}

/** JSON with its object keys sorted, so that the same request always has the same text (and hash). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What a request for a campaign asks for, as a digest: of the validated input (defaults applied), so key order and
 * defaults spelled out make no difference, and any other change does.
 */
const requestHash = (input: CampaignInput) => createHash('sha256').update(canonicalJson(input)).digest('hex');

export interface CreatedCampaign {
  campaign: CampaignView;
  /** True when the Idempotency-Key had already created this campaign: this request changed nothing. */
  replayed: boolean;
}

type CampaignView = ReturnType<typeof toCampaignView>;

function toCampaignView(row: CampaignRow, nextRunAt?: string[]) {
  return {
    id: row.id,
    name: row.name,
    template: row.templateId,
    category: row.category,
    audience: row.audience as Audience,
    data: row.data as Record<string, unknown>,
    channels: row.channels as Channel[],
    schedule: row.schedule as CampaignSchedule,
    pacing: row.pacing as CampaignPacing,
    status: row.status as 'active' | 'paused' | 'deleted',
    scheduleId: campaignScheduleId(row.id),
    ...(nextRunAt ? { nextRunAt } : {}),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Campaigns: a row in the database for what to send, a Temporal Schedule for when, one workflow per run. */
export function createCampaignService({ db, temporal, taskQueue }: CampaignServiceDeps) {
  async function requireCampaign(id: string) {
    const row = await db.campaign.findUnique({ where: { id } });
    if (!row) throw notFound('campaign', id);
    return row;
  }
  async function requireLive(id: string) {
    const row = await requireCampaign(id);
    if (row.status === 'deleted')
      throw new HttpError(409, 'campaign_deleted', `campaign ${JSON.stringify(id)} was deleted`);
    return row;
  }
  async function requireRun(campaignId: string, runId: string) {
    const run = await db.campaignRun.findUnique({ where: { id: runId } });
    if (!run || run.campaignId !== campaignId) throw notFound('campaign_run', runId);
    return run;
  }
  const schedule = (id: string) => temporal.schedule.getHandle(campaignScheduleId(id));

  /** Runs schedule operations, answering 409 when the schedule is gone and 503 when Temporal is unreachable. */
  async function onSchedule<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError)
        throw new HttpError(409, 'schedule_not_found', `${what}: no schedule`);
      throw temporalUnavailable(what, error);
    }
  }

  /**
   * Inserts the campaign unless its idempotency key is taken (`skipDuplicates` is ON CONFLICT DO NOTHING: a concurrent
   * insert of the same key waits for the first to commit, then inserts nothing). Returns the new row, or undefined if
   * the key is taken.
   */
  async function insertCampaign(input: CampaignInput, key: string | undefined, hash: string) {
    const [row] = await db.campaign.createManyAndReturn({
      data: [
        {
          id: newCampaignId(),
          name: input.name,
          templateId: input.template,
          category: input.category ?? null,
          audience: input.audience as Prisma.InputJsonValue,
          data: (input.data ?? {}) as Prisma.InputJsonValue,
          channels: input.channels ?? [],
          schedule: input.schedule as Prisma.InputJsonValue,
          pacing: (input.pacing ?? {}) as Prisma.InputJsonValue,
          status: 'active',
          idempotencyKey: key ?? null,
          requestHash: key ? hash : null,
        },
      ],
      skipDuplicates: true,
    });
    return row;
  }

  /** The campaign an idempotency key created, if any; 422 when it was created by a different request. */
  async function replay(key: string, hash: string): Promise<CreatedCampaign | undefined> {
    const row = await db.campaign.findUnique({ where: { idempotencyKey: key } });
    if (!row) return undefined;
    if (row.requestHash !== hash) {
      throw new HttpError(
        422,
        'idempotency_key_reused',
        'this Idempotency-Key already created a different campaign; use a new key for a new campaign',
        { campaignId: row.id },
      );
    }
    // Only an active campaign can lack its schedule: its first request failed to reach Temporal and kept the row.
    if (row.status === 'active') await createSchedule(row, true);
    return { campaign: toCampaignView(row), replayed: true };
  }

  /**
   * Creates a campaign's schedule from its row. One that exists already (made by an earlier or concurrent request
   * with the same key) is the campaign's: the schedule id derives from the campaign id, so there is never a second.
   * An invalid spec deletes the row (nothing was created). Temporal unreachable: a campaign without a key is deleted
   * (nobody could finish it); one with a key is kept, and the same key again creates its schedule.
   */
  async function createSchedule(row: CampaignRow, keyed: boolean): Promise<void> {
    const campaign = toCampaignView(row);
    const pacing = campaign.pacing;
    const args: [CampaignRunInput] = [{ campaignId: row.id, ...(Object.keys(pacing).length > 0 ? { pacing } : {}) }];
    try {
      await temporal.schedule.create({
        scheduleId: campaignScheduleId(row.id),
        spec: scheduleSpec(campaign.schedule),
        action: {
          type: 'startWorkflow',
          workflowType: CAMPAIGN_RUN_WORKFLOW,
          workflowId: campaignScheduleId(row.id),
          taskQueue,
          args,
        },
        // A run still going when the next one is due: the next waits for it (two runs never compete).
        policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '1 day' },
        state: 'at' in campaign.schedule ? { remainingActions: 1, note: 'one-off campaign' } : {},
      });
    } catch (error) {
      if (error instanceof ScheduleAlreadyRunning) return;
      // The client turns the server's "Invalid schedule spec" (e.g. a minute of 99) into a TypeError.
      if (error instanceof TypeError) {
        await db.campaign.deleteMany({ where: { id: row.id } });
        throw new HttpError(400, 'invalid_schedule', `schedule: ${error.message}`);
      }
      if (!keyed) await db.campaign.deleteMany({ where: { id: row.id } });
      throw new HttpError(
        503,
        'temporal_unavailable',
        `could not create the schedule: ${(error as Error).message}${keyed ? ' (send the same Idempotency-Key again)' : ''}`,
      );
    }
  }

  return {
    /**
     * Creates the campaign's row, then its schedule. With an Idempotency-Key, the row is inserted only if no campaign
     * holds the key (the unique index decides between concurrent requests), so the key always names one campaign and
     * one schedule; the key again answers that campaign, creating its schedule if an earlier attempt could not.
     */
    async create(input: CampaignInput, idempotencyKey?: string): Promise<CreatedCampaign> {
      const hash = requestHash(input);
      if (idempotencyKey) {
        const existing = await replay(idempotencyKey, hash);
        if (existing) return existing;
      }
      const [template, topic] = await Promise.all([
        db.template.findUnique({ where: { id: input.template }, select: { id: true } }),
        'topic' in input.audience
          ? db.topic.findUnique({ where: { key: input.audience.topic }, select: { key: true } })
          : Promise.resolve(true),
      ]);
      if (!template) throw notFound('template', input.template);
      if (!topic && 'topic' in input.audience) throw notFound('topic', input.audience.topic);
      if ('at' in input.schedule && Date.parse(input.schedule.at) <= Date.now()) {
        throw new HttpError(400, 'schedule_in_past', 'schedule.at must be in the future (use trigger to send now)');
      }

      const row = await insertCampaign(input, idempotencyKey, hash);
      if (!row) {
        // A concurrent request with the same key won the insert: answer with its campaign.
        const existing = await replay(idempotencyKey!, hash);
        if (existing) return existing;
        // ...which it has deleted since, its schedule refused as invalid (as this request's would be).
        throw new HttpError(
          409,
          'idempotency_key_in_use',
          'a request with this Idempotency-Key failed meanwhile; retry',
        );
      }
      await createSchedule(row, idempotencyKey !== undefined);
      return { campaign: toCampaignView(row), replayed: false };
    },

    /** Newest first; deleted campaigns only when `status` asks for them. */
    async list(query: { status?: CampaignStatus[]; cursor?: string; limit: number }): Promise<CampaignPage> {
      const rows = await db.campaign.findMany({
        where: {
          status: query.status ? { in: query.status } : { not: 'deleted' },
          ...(query.cursor ? olderThan(decodeKeysetCursor(query.cursor)) : {}),
        },
        orderBy: NEWEST_FIRST,
        take: query.limit + 1,
      });
      const { page, nextCursor } = keysetPage(rows, query.limit);
      return { campaigns: page.map((row) => toCampaignView(row)), nextCursor };
    },

    async get(id: string) {
      const row = await requireCampaign(id);
      if (row.status === 'deleted') return toCampaignView(row);
      const next = await schedule(id)
        .describe()
        .then((d) => d.info.nextActionTimes.map((t) => t.toISOString()))
        .catch(() => undefined);
      return toCampaignView(row, next);
    },

    async pause(id: string) {
      await requireLive(id);
      await onSchedule('pause', () => schedule(id).pause('paused through the Herald API'));
      return toCampaignView(await db.campaign.update({ where: { id }, data: { status: 'paused' } }));
    },

    async resume(id: string) {
      await requireLive(id);
      await onSchedule('resume', () => schedule(id).unpause('resumed through the Herald API'));
      return toCampaignView(await db.campaign.update({ where: { id }, data: { status: 'active' } }));
    },

    /** Runs the campaign now, besides its schedule (and even while paused). */
    async trigger(id: string): Promise<CampaignTriggered> {
      await requireLive(id);
      await onSchedule('trigger', () => schedule(id).trigger(ScheduleOverlapPolicy.ALLOW_ALL));
      return { campaignId: id, triggered: true };
    },

    /** Deletes the schedule (no further runs); runs in progress go on (cancel them separately). Idempotent. */
    async remove(id: string) {
      const row = await requireCampaign(id);
      if (row.status === 'deleted') return;
      try {
        await schedule(id).delete();
      } catch (error) {
        if (!(error instanceof ScheduleNotFoundError)) throw temporalUnavailable('delete the schedule', error);
      }
      await db.campaign.update({ where: { id }, data: { status: 'deleted' } });
    },

    /** Newest first. */
    async listRuns(id: string, cursor: string | undefined, limit: number): Promise<CampaignRunPage> {
      await requireCampaign(id);
      const before = cursorOf(cursor);
      const runs = await db.campaignRun.findMany({
        where: { campaignId: id, ...(before !== null ? { id: { lt: before } } : {}) },
        orderBy: { id: 'desc' },
        take: limit,
      });
      const sums = await db.campaignRunCounter.groupBy({
        by: ['runId'],
        where: { runId: { in: runs.map((r) => r.id) } },
        _sum: { started: true, delivered: true, failed: true, suppressed: true, canceled: true },
      });
      const byRun = new Map(
        sums.map((s): [string, RunCounters] => [
          s.runId,
          {
            started: s._sum.started ?? 0,
            delivered: s._sum.delivered ?? 0,
            failed: s._sum.failed ?? 0,
            suppressed: s._sum.suppressed ?? 0,
            canceled: s._sum.canceled ?? 0,
          },
        ]),
      );
      const zero = { started: 0, delivered: 0, failed: 0, suppressed: 0, canceled: 0 };
      const last = runs.at(-1);
      return {
        runs: runs.map((run) => toRunView(run, byRun.get(run.id) ?? zero)),
        nextCursor: runs.length === limit && last ? encodeCursor(last.id) : null,
      };
    },

    async getRun(id: string, runId: string) {
      const run = await requireRun(id, runId);
      return toRunView(run, await runCounters(db, runId));
    },

    /**
     * Cancels a run: once this answers, no further recipient is started (the run's row is marked first, and each
     * recipient's insert checks it under a share lock); notifications already started finish.
     */
    async cancelRun(id: string, runId: string) {
      const run = await requireRun(id, runId);
      if (run.status === 'completed' || run.status === 'failed') {
        throw new HttpError(409, 'not_cancelable', `campaign run is already ${run.status}`);
      }
      await db.campaignRun.updateMany({ where: { id: runId, status: 'running' }, data: { status: 'canceling' } });
      try {
        await temporal.workflow.getHandle(runId).cancel();
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw temporalUnavailable('cancel the run', error);
      }
      return this.getRun(id, runId);
    },
  };
}
export type CampaignService = ReturnType<typeof createCampaignService>;
