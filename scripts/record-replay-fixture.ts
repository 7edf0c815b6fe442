/**
 * Records the replay guards in workflows/fixtures/, on the time-skipping server with fake activities:
 *
 * - `send-at-moved.history.json`, the notification workflow: a send-at a day away is moved to two days while its
 *   timer runs, is then held eight hours by quiet hours, and is delivered (two channels, one with a transient failure
 *   beside an answer).
 * - `campaign-run-continued.history.json`, the campaign-run workflow: an execution continued from an earlier page,
 *   with no pacing given, finds 200 notifications in flight, hands out the last page and finishes. It was recorded
 *   when the default window was 500 in flight (200 + a page of 250 fit, so the page was handed out at once).
 *
 * Re-record one only when a change deliberately drops compatibility with running workflows (and document the drain);
 * otherwise a failing replay test means the change needs `patched()`.
 *
 *   npx tsx scripts/record-replay-fixture.ts [send-at-moved] [campaign-run-continued] && npx prettier --write workflows/fixtures
 */
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { Activities, TargetOutcome } from '../activities';
import type { CampaignActivities } from '../activities/campaigns/campaign.activities';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CAMPAIGN_RUN_WORKFLOW, type CampaignRunResult } from '../contract/workflows/campaign.definitions';
import { loadDeliveryConfig } from '../platform/config/delivery';
import { startNotificationWorkflow } from '../domain/notifications/start-notification';
import { createTimeSkippingTemporal } from '../test/support/temporal';
import { channelTaskQueue, rescheduleUpdate } from '../contract/workflows/notification.definitions';
import { CHANNELS } from '../contract/channels';

const FIXTURES = path.join(__dirname, '..', 'workflows', 'fixtures');

function save(name: string, history: { events?: unknown[] | null }) {
  const file = path.join(FIXTURES, `${name}.history.json`);
  fs.writeFileSync(file, JSON.stringify(history, null, 2) + '\n');
  console.log(`wrote ${file} (${history.events?.length ?? 0} events)`);
}

async function recordSendAtMoved(env: TestWorkflowEnvironment) {
  const taskQueue = 'record-replay-fixture';
  const policy = { channels: loadDeliveryConfig({}).channels };
  let plans = 0;
  const unused = async (): Promise<never> => {
    throw new Error('not used');
  };
  const activities: Activities = {
    acceptNotification: unused,
    requestThrottle: unused,
    dropDeliveries: unused,
    failoverDelivery: unused,
    beginRedrive: unused,
    planEscalation: unused,
    async isOpened() {
      return false;
    },
    async setNotificationStatus() {},
    async planNotification(_id, now) {
      if (plans++ === 0) return { kind: 'held', releaseAt: new Date(Date.parse(now) + 8 * 3600_000).toISOString() };
      return {
        kind: 'planned',
        status: 'sending',
        throttle: false,
        policy,
        deliveries: [
          { deliveryId: 'dlv_push_a', channel: 'push', provider: 'apns' },
          { deliveryId: 'dlv_push_b', channel: 'push', provider: 'fcm' },
          { deliveryId: 'dlv_email', channel: 'email', provider: 'sendgrid' },
        ],
      };
    },
    // As the real activity answers: the second push device fails once beside an answer (so it is sent again by a
    // second activity), then fails once alone (so the engine retries that activity), then is sent.
    async sendChannel({ deliveryIds }): Promise<TargetOutcome[]> {
      const attempt = Context.current().info.attempt;
      if (deliveryIds.length === 1 && deliveryIds[0] === 'dlv_push_b' && attempt === 1) {
        throw ApplicationFailure.retryable('503', 'ProviderUnavailable');
      }
      return deliveryIds.map((deliveryId) =>
        deliveryId === 'dlv_push_b' && deliveryIds.length > 1
          ? { deliveryId, outcome: 'retry', message: 'ProviderUnavailable: 503', errorType: 'ProviderUnavailable' }
          : { deliveryId, outcome: 'sent', providerMessageId: `msg-${deliveryId}`, at: Date.now(), recorded: true },
      );
    },
    async recordDeliveries() {
      return 'delivered';
    },
  };
  const workers = await Promise.all([
    Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../workflows'),
      activities,
    }),
    ...CHANNELS.map((channel) =>
      Worker.create({
        connection: env.nativeConnection,
        taskQueue: channelTaskQueue(taskQueue, channel),
        activities,
      }),
    ),
  ]);
  const now = await env.currentTimeMs();
  const workflowId = await startNotificationWorkflow(env.client, taskQueue, 'replay-fixture', {
    notificationId: 'ntf_replay_fixture',
    sendAt: new Date(now + 24 * 3600_000).toISOString(),
  });
  const handle = env.client.workflow.getHandle(workflowId);
  const run = async () => {
    await handle.executeUpdate(rescheduleUpdate, { args: [new Date(now + 48 * 3600_000).toISOString()] });
    return handle.result();
  };
  const result = await workers.reduce<Promise<unknown>>((inner, w) => w.runUntil(inner), run());
  if (result !== 'delivered') throw new Error(`unexpected result ${String(result)}`);
  save('send-at-moved', await handle.fetchHistory());
}

async function recordCampaignRunContinued(env: TestWorkflowEnvironment) {
  const taskQueue = 'record-replay-fixture-campaign';
  let polls = 0;
  let started = 200;
  const activities: CampaignActivities = {
    async beginCampaignRun() {
      throw new Error('not used: the execution continues an earlier one');
    },
    async startCampaignPage() {
      started += 10;
      return { accepted: 10, skipped: 0, lastUserId: 'usr_0210', exhausted: true, stopped: false };
    },
    // The first poll finds 200 in flight; after that, everything has finished.
    async campaignRunProgress() {
      const finished = polls++ === 0 ? 0 : started;
      return { status: 'running', started, finished, inFlight: started - finished };
    },
    async markCampaignRunDispatched() {},
    async finishCampaignRun() {},
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities,
  });
  const handle = await env.client.workflow.start(CAMPAIGN_RUN_WORKFLOW, {
    taskQueue,
    workflowId: 'campaign-cmp_replay_fixture-run',
    args: [
      {
        campaignId: 'cmp_replay_fixture',
        state: {
          phase: 'starting',
          cursor: 'usr_0200',
          pages: 1,
          accepted: 200,
          skipped: 0,
          audienceSize: 210,
          templateVersion: 1,
        },
      },
    ],
  });
  const result: CampaignRunResult = await worker.runUntil(handle.result());
  if (result.outcome !== 'completed') throw new Error(`unexpected outcome ${result.outcome}`);
  save('campaign-run-continued', await handle.fetchHistory());
}

const RECORDERS: Record<string, (env: TestWorkflowEnvironment) => Promise<void>> = {
  'send-at-moved': recordSendAtMoved,
  'campaign-run-continued': recordCampaignRunContinued,
};

async function main() {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !(name in RECORDERS));
  if (unknown.length > 0)
    throw new Error(`unknown fixture ${unknown.join(', ')}: ${Object.keys(RECORDERS).join(', ')}`);
  const env = await createTimeSkippingTemporal();
  try {
    for (const name of names.length > 0 ? names : Object.keys(RECORDERS)) await RECORDERS[name]!(env);
  } finally {
    await env.teardown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
