/**
 * The campaign run's I/O: open the run (pin the template version, count the audience), hand out one page of the
 * audience at a time through the same use case as POST /v1/notifications, read the run's counters, close the run.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  acceptNotification,
  CampaignRunClosedError,
  NotificationRejectedError,
} from '../../domain/notifications/accept-notification';
import { fetchAudiencePage, countAudience } from '../../domain/campaigns/audience';
import { finishedOf, runCounters } from '../../domain/campaigns/campaign-progress';
import type { Db } from '../../platform/db';
import type { Sql } from '../../platform/sql';
import { COUNTER_SHARDS } from '../../domain/notifications/notification-outcome';
import { audienceSchema, type CampaignRunStatus } from '../../contract/schemas';
import type { Channel } from '../../contract/channels';
import { NON_RETRYABLE } from '../../contract/failures';

export interface CampaignActivityDeps {
  db: Db;
  /** Plain SQL on the same database (accepting each recipient). */
  sql: Sql;
  /** Recipients accepted at once within a page. */
  concurrency?: number;
  clock?: () => Date;
}

export type BeginCampaignRunResult =
  { ok: true; audienceSize: number; templateVersion: number } | { ok: false; reason: string };

export interface CampaignPageResult {
  accepted: number;
  skipped: number;
  /** The last user id of the page (the next cursor); null when the page was empty. */
  lastUserId: string | null;
  /** Fewer users than asked for: the audience has been handed out. */
  exhausted: boolean;
  /** The run was closed (canceled) while the page was handed out; the rest was not started. */
  stopped: boolean;
}

export interface CampaignRunProgress {
  status: CampaignRunStatus;
  started: number;
  finished: number;
  inFlight: number;
}

/** The idempotency key of a recipient in a run: a restarted run, or a retried page, never sends twice. */
export const campaignRecipientKey = (runId: string, userId: string) => `campaign:${runId}:${userId}`;

export function createCampaignActivities({
  db,
  sql,
  concurrency = 20,
  clock = () => new Date(),
}: CampaignActivityDeps) {
  return {
    /** Opens the run: pins the template version and counts the audience. Idempotent (a retry finds the run). */
    async beginCampaignRun(input: { runId: string; campaignId: string }): Promise<BeginCampaignRunResult> {
      const existing = await db.campaignRun.findUnique({ where: { id: input.runId } });
      if (existing) {
        return existing.status === 'failed'
          ? { ok: false, reason: existing.error ?? 'failed' }
          : { ok: true, audienceSize: existing.audienceSize, templateVersion: existing.templateVersion };
      }
      const campaign = await db.campaign.findUnique({ where: { id: input.campaignId } });
      if (!campaign || campaign.status === 'deleted') return { ok: false, reason: 'campaign_deleted' };
      const template = await db.template.findUnique({ where: { id: campaign.templateId } });
      const audienceSize = template ? await countAudience(db, audienceSchema.parse(campaign.audience)) : 0;
      await db.$transaction(async (tx) => {
        await tx.campaignRun.create({
          data: {
            id: input.runId,
            campaignId: campaign.id,
            status: template ? 'running' : 'failed',
            templateVersion: template?.currentVersion ?? 0,
            audienceSize,
            startedAt: clock(),
            ...(template ? {} : { error: `template ${campaign.templateId} not found`, completedAt: clock() }),
          },
        });
        await tx.campaignRunCounter.createMany({
          data: Array.from({ length: COUNTER_SHARDS }, (_, shard) => ({ runId: input.runId, shard })),
        });
      });
      if (!template) return { ok: false, reason: 'template_not_found' };
      return { ok: true, audienceSize, templateVersion: template.currentVersion };
    },

    /**
     * Reads the page of the audience after `cursor` (keyset) and accepts a notification for each user, `concurrency`
     * at a time, with the key (run, user). A retry after a crash repeats the page and starts nothing twice.
     */
    async startCampaignPage(input: {
      runId: string;
      campaignId: string;
      cursor: string | null;
      pageSize: number;
      templateVersion: number;
    }): Promise<CampaignPageResult> {
      const context = Context.current();
      const campaign = await db.campaign.findUnique({ where: { id: input.campaignId } });
      if (!campaign)
        throw ApplicationFailure.nonRetryable(`campaign ${input.campaignId} not found`, NON_RETRYABLE.NotFound);
      const userIds = await fetchAudiencePage(
        db,
        audienceSchema.parse(campaign.audience),
        input.cursor,
        input.pageSize,
      );
      // Notifications start on the worker's own client and task queue, like the intake workflow's (eagerly).
      const deps = { sql, temporal: context.client, taskQueue: context.info.taskQueue, now: clock };
      const result: CampaignPageResult = {
        accepted: 0,
        skipped: 0,
        lastUserId: userIds.at(-1) ?? null,
        exhausted: userIds.length < input.pageSize,
        stopped: false,
      };
      for (let i = 0; i < userIds.length && !result.stopped; i += concurrency) {
        if (context.cancellationSignal.aborted) {
          throw context.cancellationSignal.reason ?? new CancelledFailure('page canceled');
        }
        const outcomes = await Promise.all(
          userIds.slice(i, i + concurrency).map((userId) =>
            acceptNotification(
              deps,
              campaignRecipientKey(input.runId, userId),
              {
                userId,
                template: campaign.templateId,
                data: campaign.data as Record<string, unknown>,
                ...(campaign.channels.length > 0 ? { channels: campaign.channels as Channel[] } : {}),
                ...(campaign.category ? { category: campaign.category } : {}),
              },
              { campaignRunId: input.runId, templateVersion: input.templateVersion },
            ).then(
              () => 'accepted' as const,
              (error: unknown) => {
                // The user was erased since the page was read: nobody to send to.
                if (error instanceof NotificationRejectedError && error.resource === 'user') return 'skipped' as const;
                if (error instanceof CampaignRunClosedError) return 'stopped' as const;
                throw error;
              },
            ),
          ),
        );
        for (const outcome of outcomes) {
          if (outcome === 'accepted') result.accepted++;
          else if (outcome === 'skipped') result.skipped++;
          else result.stopped = true;
        }
        context.heartbeat({ done: i + outcomes.length });
      }
      return result;
    },

    async campaignRunProgress(runId: string): Promise<CampaignRunProgress> {
      const [run, counters] = await Promise.all([
        db.campaignRun.findUniqueOrThrow({ where: { id: runId }, select: { status: true } }),
        runCounters(db, runId),
      ]);
      const finished = finishedOf(counters);
      return {
        status: run.status as CampaignRunStatus,
        started: counters.started,
        finished,
        inFlight: Math.max(counters.started - finished, 0),
      };
    },

    /** Every page has been handed out: the audience size becomes exact (started + skipped). */
    async markCampaignRunDispatched(input: { runId: string; skipped: number }): Promise<void> {
      const { started } = await runCounters(db, input.runId);
      await db.campaignRun.updateMany({
        where: { id: input.runId, dispatchedAt: null },
        data: { dispatchedAt: clock(), skipped: input.skipped, audienceSize: started + input.skipped },
      });
    },

    async finishCampaignRun(input: {
      runId: string;
      outcome: 'completed' | 'canceled';
      skipped: number;
    }): Promise<void> {
      await db.campaignRun.updateMany({
        where: { id: input.runId, status: { in: ['running', 'canceling'] } },
        data: { status: input.outcome, completedAt: clock(), skipped: input.skipped },
      });
    },
  };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
