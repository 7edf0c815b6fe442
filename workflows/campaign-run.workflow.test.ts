/**
 * The campaign-run workflow on the time-skipping server with typed fake activities: it hands out the audience page by
 * page with a keyset cursor, continuing as new after each page with its counters; it never lets more than the window
 * of notifications be in flight; it waits for them to finish; and a canceled run starts no further page.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { CampaignActivities, CampaignPageResult } from '../activities/campaigns/campaign.activities';
import { createTimeSkippingTemporal } from '../test/support/temporal';
import {
  CAMPAIGN_RUN_WORKFLOW,
  campaignRunStateQuery,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_PAGE_SIZE,
  LEGACY_DEFAULT_MAX_IN_FLIGHT,
  type CampaignRunInput,
  type CampaignRunResult,
} from '../contract/workflows/campaign.definitions';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await createTimeSkippingTemporal();
  const noop = () => undefined;
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./index'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
  });
});
afterAll(async () => {
  await env?.teardown();
});

/**
 * A fake run over `audience` users. Every started notification finishes after `finishAfterPolls` progress polls, so
 * the workflow has to wait for its window; `log` records what the workflow asked for, in order.
 */
function fakeRun(audience: string[], options: { finishPerPoll?: number } = {}) {
  const log: string[] = [];
  let started = 0;
  let finished = 0;
  let status: 'running' | 'canceling' | 'canceled' | 'completed' = 'running';
  const windows: number[] = [];
  // Resolved when the run asks for progress with notifications already started: it is past a page and waiting.
  let waiting!: () => void;
  const waitingAfterPage = new Promise<void>((resolve) => (waiting = resolve));
  const activities: CampaignActivities = {
    async beginCampaignRun() {
      log.push('begin');
      return { ok: true, audienceSize: audience.length, templateVersion: 3 };
    },
    async startCampaignPage(input): Promise<CampaignPageResult> {
      log.push(`page:${input.cursor ?? 'start'}:v${input.templateVersion}`);
      windows.push(started - finished + input.pageSize);
      const from = input.cursor === null ? 0 : audience.indexOf(input.cursor) + 1;
      const page = audience.slice(from, from + input.pageSize);
      if (status !== 'running') return { accepted: 0, skipped: 0, lastUserId: null, exhausted: false, stopped: true };
      started += page.length;
      return {
        accepted: page.length,
        skipped: 0,
        lastUserId: page.at(-1) ?? null,
        exhausted: page.length < input.pageSize,
        stopped: false,
      };
    },
    async campaignRunProgress() {
      if (started > 0) waiting();
      finished = Math.min(started, finished + (options.finishPerPoll ?? Number.MAX_SAFE_INTEGER));
      return { status, started, finished, inFlight: started - finished };
    },
    async markCampaignRunDispatched(input) {
      log.push(`dispatched:${input.skipped}`);
    },
    async finishCampaignRun(input) {
      log.push(`finish:${input.outcome}`);
      status = input.outcome;
    },
  };
  return { activities, log, windows, waitingAfterPage, counts: () => ({ started, finished }) };
}

async function withWorker<T>(activities: CampaignActivities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `campaign-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities,
  });
  return worker.runUntil(fn(taskQueue));
}

const users = (n: number) => Array.from({ length: n }, (_, i) => `user-${String(i).padStart(4, '0')}`);

function start(taskQueue: string, input: Omit<CampaignRunInput, 'campaignId'>) {
  return env.client.workflow.start(CAMPAIGN_RUN_WORKFLOW, {
    taskQueue,
    workflowId: `campaign-cmp_test-${randomUUID()}`,
    args: [{ campaignId: 'cmp_test', ...input }],
  });
}

describe('campaignRun workflow', () => {
  it('hands out the audience page by page with a keyset cursor, one page per execution, and completes once all finished', async () => {
    const audience = users(25);
    const fake = fakeRun(audience);
    const { result, runs } = await withWorker(fake.activities, async (taskQueue) => {
      const handle = await start(taskQueue, { pacing: { pageSize: 10, maxInFlight: 20 } });
      const result = (await handle.result()) as CampaignRunResult;
      const description = await handle.describe();
      return { result, runs: description.runId === handle.firstExecutionRunId ? 1 : 'continued' };
    });
    expect(fake.log).toEqual([
      'begin',
      'page:start:v3',
      'page:user-0009:v3',
      'page:user-0019:v3',
      'dispatched:0',
      'finish:completed',
    ]);
    expect(result).toMatchObject({
      outcome: 'completed',
      state: { phase: 'draining', pages: 3, accepted: 25, skipped: 0, cursor: 'user-0024', audienceSize: 25 },
    });
    expect(runs).toBe('continued');
    expect(fake.counts()).toEqual({ started: 25, finished: 25 });
  });

  it('never lets more notifications be in flight than the window, waiting for earlier ones to finish', async () => {
    const fake = fakeRun(users(95), { finishPerPoll: 3 });
    const result = await withWorker(fake.activities, async (taskQueue) => {
      const handle = await start(taskQueue, { pacing: { pageSize: 10, maxInFlight: 25 } });
      return (await handle.result()) as CampaignRunResult;
    });
    expect(result.outcome).toBe('completed');
    expect(result.state?.accepted).toBe(95);
    expect(fake.windows).toHaveLength(10);
    // In flight at the start of each page, plus the page itself, stays within maxInFlight.
    expect(Math.max(...fake.windows)).toBeLessThanOrEqual(25);
    expect(fake.counts()).toEqual({ started: 95, finished: 95 });
  });

  it('without pacing, keeps at most the default window of 300 in flight', async () => {
    expect(DEFAULT_MAX_IN_FLIGHT).toBe(300);
    const fake = fakeRun(users(1_000), { finishPerPoll: 40 });
    const result = await withWorker(fake.activities, async (taskQueue) => {
      const handle = await start(taskQueue, {});
      return (await handle.result()) as CampaignRunResult;
    });
    expect(result.outcome).toBe('completed');
    expect(result.state?.accepted).toBe(1_000);
    expect(fake.windows).toHaveLength(Math.ceil(1_000 / DEFAULT_PAGE_SIZE) + 1);
    // The old default (500) would have handed out the second page with up to 250 still in flight.
    expect(Math.max(...fake.windows)).toBeLessThanOrEqual(DEFAULT_MAX_IN_FLIGHT);
    expect(Math.max(...fake.windows)).toBeGreaterThan(DEFAULT_PAGE_SIZE);
  });

  it('an execution begun under the old default window (500) replays with it', async () => {
    // Recorded by scripts/record-replay-fixture.ts before the default became 300: continued with no pacing, the run
    // found 200 in flight and handed out a page at once (200 + 250 ≤ 500). With 300 it would wait (a timer), which
    // is a different command: without patched() this replay fails.
    const json = JSON.parse(
      fs.readFileSync(path.join(__dirname, 'fixtures', 'campaign-run-continued.history.json'), 'utf8'),
    );
    const history = temporal.api.history.v1.History.fromObject(json);
    const scheduled = (history.events ?? [])
      .map(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? (e.timerStartedEventAttributes && 'timer'),
      )
      .filter(Boolean);
    expect(scheduled.slice(0, 2)).toEqual(['campaignRunProgress', 'startCampaignPage']);
    expect(LEGACY_DEFAULT_MAX_IN_FLIGHT).toBeGreaterThanOrEqual(200 + DEFAULT_PAGE_SIZE);
    expect(DEFAULT_MAX_IN_FLIGHT).toBeLessThan(200 + DEFAULT_PAGE_SIZE);
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundle, replayName: 'campaign-run-continued' }, history),
    ).resolves.toBeUndefined();
  });

  it('an audience that is a multiple of the page ends on an empty page; an empty audience completes at once', async () => {
    const even = fakeRun(users(20));
    const empty = fakeRun([]);
    await withWorker(even.activities, async (taskQueue) => {
      await (await start(taskQueue, { pacing: { pageSize: 10, maxInFlight: 10 } })).result();
    });
    await withWorker(empty.activities, async (taskQueue) => {
      expect(await (await start(taskQueue, {})).result()).toMatchObject({
        outcome: 'completed',
        state: { accepted: 0 },
      });
    });
    expect(even.log.filter((l) => l.startsWith('page:'))).toHaveLength(3);
    expect(empty.log).toEqual(['begin', 'page:start:v3', 'dispatched:0', 'finish:completed']);
  });

  it('a canceled run starts no further page, records itself as canceled and ends canceled', async () => {
    // Nothing ever finishes, so after the first page the run waits for room in its window until it is canceled.
    const fake = fakeRun(users(50), { finishPerPoll: 0 });
    const error = await withWorker(fake.activities, async (taskQueue) => {
      const handle = await start(taskQueue, { pacing: { pageSize: 10, maxInFlight: 10 } });
      // Cancel once the first page is out and the run, continued as new, is polling for room: a state, not a timer.
      // (Polling the query for 5 s failed on a busy machine: the page could come later, or the query report it while
      // the run was still continuing as new, and the cancel then raced the continue-as-new.)
      await fake.waitingAfterPage;
      expect((await handle.query(campaignRunStateQuery))?.pages).toBe(1);
      await handle.cancel();
      return handle.result().catch((e: unknown) => e);
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(fake.log.filter((l) => l.startsWith('page:'))).toEqual(['page:start:v3']);
    expect(fake.log.at(-1)).toBe('finish:canceled');
    expect(fake.counts().started).toBe(10);
  });

  it('a run whose campaign was deleted, or whose template is gone, does not start', async () => {
    const fake = fakeRun(users(5));
    fake.activities.beginCampaignRun = async () => ({ ok: false, reason: 'campaign_deleted' });
    const result = await withWorker(fake.activities, async (taskQueue) => (await start(taskQueue, {})).result());
    expect(result).toEqual({ outcome: 'not_started', reason: 'campaign_deleted' });
    expect(fake.counts().started).toBe(0);
  });
});
