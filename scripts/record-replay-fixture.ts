/**
 * Records workflows/fixtures/send-at-moved.history.json, the replay guard of the notification workflow: on the
 * time-skipping server, with fake activities, a send-at a day away is moved to two days while its timer runs, is then
 * held eight hours by quiet hours, and is delivered (two channels, one with a transient failure beside an answer).
 * Re-record it only when a change deliberately drops compatibility with running notifications (and document the
 * drain); otherwise a failing replay test means the change needs `patched()`.
 *
 *   npx tsx scripts/record-replay-fixture.ts && npx prettier --write workflows/fixtures
 */
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { Activities, TargetOutcome } from '../activities';
import { loadDeliveryConfig } from '../platform/config/delivery';
import { startNotificationWorkflow } from '../domain/notifications/start-notification';
import { createTimeSkippingTemporal } from '../test/support/temporal';
import { channelTaskQueue, rescheduleUpdate } from '../contract/workflows/notification.definitions';
import { CHANNELS } from '../contract/channels';

async function main() {
  const env = await createTimeSkippingTemporal();
  try {
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
    const history = await handle.fetchHistory();
    const file = path.join(__dirname, '..', 'workflows', 'fixtures', 'send-at-moved.history.json');
    fs.writeFileSync(file, JSON.stringify(history, null, 2) + '\n');
    console.log(`wrote ${file} (${history.events?.length ?? 0} events)`);
  } finally {
    await env.teardown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
