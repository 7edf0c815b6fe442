import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities, DeliveryPolicy, PlannedDelivery, TargetOutcome } from '../activities';
import { loadDeliveryConfig } from '../platform/config/delivery';
import { startNotificationWorkflow } from '../domain/notifications/start-notification';
import { createTimeSkippingTemporal } from '../test/support/temporal';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import {
  cancelUpdate,
  channelTaskQueue,
  notificationOpenedSignal,
  phaseQuery,
  rescheduleUpdate,
} from '../contract/workflows/notification.definitions';
import type { Channel } from '../contract/channels';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await createTimeSkippingTemporal();
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./index'), logger: quietLogger() });
});
afterAll(async () => {
  await env?.teardown();
});

function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
}

/** Typed fake activities that record what the workflow asked for. */
function fakeActivities(
  deliveries: PlannedDelivery[],
  behaviour: Partial<Record<Channel, (attempt: number, deliveryId: string) => void>> = {},
  policy: DeliveryPolicy = { channels: loadDeliveryConfig({}).channels },
) {
  const calls: string[] = [];
  const attempts: Record<string, number> = {};
  const outcomes: Record<string, 'sent' | 'failed'> = {};
  const unused = async (): Promise<never> => {
    throw new Error('not part of sendNotification');
  };
  const activities: Activities = {
    acceptNotification: unused,
    async setNotificationStatus(_id, status) {
      calls.push(`status:${status}`);
    },
    async planNotification() {
      calls.push('prepare');
      return { kind: 'planned', status: 'sending', deliveries, throttle: false, policy };
    },
    /** As the real activity answers: per target; an attempt in which nothing was answered throws (and is retried). */
    async sendChannel({ channel, deliveryIds }) {
      const attempt = Context.current().info.attempt;
      let transient: unknown;
      const answers: TargetOutcome[] = deliveryIds.map((deliveryId) => {
        attempts[deliveryId] = attempt;
        calls.push(`deliver:${channel}:${attempt}`);
        try {
          behaviour[channel]?.(attempt, deliveryId);
          outcomes[deliveryId] = 'sent';
          return { deliveryId, outcome: 'sent', providerMessageId: `${channel}-msg`, at: Date.now(), recorded: true };
        } catch (error) {
          const failure = error as ApplicationFailure;
          if (failure.nonRetryable) {
            return {
              deliveryId,
              outcome: 'failed',
              errorType: failure.type ?? 'Error',
              message: failure.message,
              at: Date.now(),
              recorded: false,
            };
          }
          transient = error;
          return { deliveryId, outcome: 'retry', message: failure.message, errorType: failure.type ?? 'Error' };
        }
      });
      if (answers.every((a) => a.outcome === 'retry')) throw transient;
      return answers;
    },
    async recordDeliveries(_id, answers) {
      for (const a of answers) {
        if (a.outcome === 'failed' && !a.recorded) {
          outcomes[a.deliveryId] = 'failed';
          calls.push(`failed:${a.errorType}`);
        }
      }
      const values = Object.values(outcomes);
      const sent = values.filter((v) => v === 'sent').length;
      return sent === values.length ? 'delivered' : sent === 0 ? 'failed' : 'partially_delivered';
    },
    async requestThrottle(_id, channels) {
      return {
        grants: channels.map((channel) => ({ channel, decision: 'send' as const, at: new Date().toISOString() })),
      };
    },
    async dropDeliveries(_id, channel, reason) {
      calls.push(`drop:${channel}:${reason}`);
    },
    async failoverDelivery(deliveryId, from) {
      calls.push(`failover:${deliveryId}:${from}`);
      return null;
    },
    async isOpened() {
      return false;
    },
    async planEscalation(_id, channel) {
      calls.push(`escalate:${channel}`);
      return [{ deliveryId: `escalation-${channel}`, channel, provider: 'twilio' }];
    },
    async beginRedrive() {
      return { started: false, deliveries: [], policy };
    },
  };
  return { activities, calls, attempts };
}

async function withWorker<T>(activities: Activities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities,
  });
  // Provider calls run on their channel's queue.
  const channelWorkers = await Promise.all(
    (['push', 'sms', 'email'] as const).map((channel) =>
      Worker.create({ connection: env.nativeConnection, taskQueue: channelTaskQueue(taskQueue, channel), activities }),
    ),
  );
  const inner = fn(taskQueue);
  return worker.runUntil(channelWorkers.reduce<Promise<T>>((p, w) => w.runUntil(p), inner));
}

const run = (taskQueue: string, key: string, sendAt?: string) =>
  startNotificationWorkflow(env.client, taskQueue, key, {
    notificationId: `ntf_${key}`,
    ...(sendAt ? { sendAt } : {}),
  });

describe('sendNotification workflow', () => {
  it('retries a transient provider failure and delivers', async () => {
    const fake = fakeActivities([{ deliveryId: 'd1', channel: 'sms' }], {
      sms: (attempt) => {
        if (attempt < 3) throw ApplicationFailure.retryable('503 from provider', 'ProviderUnavailable');
      },
    });
    const result = await withWorker(fake.activities, async (taskQueue) =>
      env.client.workflow.getHandle(await run(taskQueue, randomUUID())).result(),
    );
    expect(result).toBe('delivered');
    expect(fake.attempts.d1).toBe(3);
    expect(fake.calls.filter((c) => c.startsWith('deliver:sms'))).toEqual([
      'deliver:sms:1',
      'deliver:sms:2',
      'deliver:sms:3',
    ]);
  });

  it('does not retry a permanent failure, and the other targets still get theirs', async () => {
    const fake = fakeActivities(
      [
        { deliveryId: 'dead-device', channel: 'push' },
        { deliveryId: 'mail', channel: 'email' },
      ],
      {
        push: () => {
          throw ApplicationFailure.nonRetryable('Unregistered', 'InvalidRecipient');
        },
      },
    );
    const result = await withWorker(fake.activities, async (taskQueue) =>
      env.client.workflow.getHandle(await run(taskQueue, randomUUID())).result(),
    );
    expect(result).toBe('partially_delivered');
    expect(fake.calls.filter((c) => c.startsWith('deliver:push'))).toEqual(['deliver:push:1']);
    expect(fake.calls).toContain('failed:InvalidRecipient');
    expect(fake.calls).toContain('deliver:email:1');
  });

  it('gives up when the retry policy is exhausted and records the delivery as failed', async () => {
    const fake = fakeActivities([{ deliveryId: 'p', channel: 'push' }], {
      push: () => {
        throw ApplicationFailure.retryable('provider down', 'ProviderUnavailable');
      },
    });
    const result = await withWorker(fake.activities, async (taskQueue) =>
      env.client.workflow.getHandle(await run(taskQueue, randomUUID())).result(),
    );
    // The push channel's schedule-to-close (1 hour) ends the retries; time-skipping makes that instant.
    expect(result).toBe('failed');
    expect(fake.attempts.p).toBeGreaterThan(3);
    expect(fake.calls).toContain('failed:ProviderUnavailable');
  });

  it('the same idempotency key started three times (twice at once, once after completion) runs once', async () => {
    const fake = fakeActivities([{ deliveryId: 'x', channel: 'email' }]);
    const key = randomUUID();
    await withWorker(fake.activities, async (taskQueue) => {
      const [a, b] = await Promise.all([run(taskQueue, key), run(taskQueue, key)]);
      expect(a).toBe(b);
      await env.client.workflow.getHandle(a).result();
      expect(await run(taskQueue, key)).toBe(a);
    });
    expect(fake.calls.filter((c) => c === 'prepare')).toHaveLength(1);
    expect(fake.calls.filter((c) => c.startsWith('deliver:'))).toHaveLength(1);
  });

  it('holds a send-at notification on a durable timer, then sends it', async () => {
    const fake = fakeActivities([{ deliveryId: 'later', channel: 'sms' }]);
    // The test server's clock, which earlier tests have already skipped forward.
    const sendAt = new Date((await env.currentTimeMs()) + 3 * 24 * 3600 * 1000).toISOString();
    const result = await withWorker(fake.activities, async (taskQueue) => {
      const handle = env.client.workflow.getHandle(await run(taskQueue, randomUUID(), sendAt));
      return handle.result();
    });
    expect(result).toBe('delivered');
    expect(fake.calls.slice(0, 2)).toEqual(['status:scheduled', 'prepare']);
    expect(await env.currentTimeMs()).toBeGreaterThanOrEqual(Date.parse(sendAt));
  });

  it('cancels a scheduled notification before it is sent', async () => {
    const fake = fakeActivities([{ deliveryId: 'never', channel: 'sms' }]);
    const sendAt = new Date((await env.currentTimeMs()) + 24 * 3600 * 1000).toISOString();
    const { update, result } = await withWorker(fake.activities, async (taskQueue) => {
      const handle = env.client.workflow.getHandle(await run(taskQueue, randomUUID(), sendAt));
      const update = await handle.executeUpdate(cancelUpdate);
      return { update, result: await handle.result() };
    });
    expect(update).toEqual({ canceled: true, phase: 'done' });
    expect(result).toBe('canceled');
    expect(fake.calls).toEqual(['status:scheduled', 'status:canceled']);
  });

  it('ends as failed without retrying when preparation fails permanently (e.g. a missing template variable)', async () => {
    const fake = fakeActivities([]);
    let prepares = 0;
    fake.activities.planNotification = async () => {
      prepares++;
      throw ApplicationFailure.nonRetryable('push.title: undefined variable: name', 'TemplateError');
    };
    const result = await withWorker(fake.activities, async (taskQueue) =>
      env.client.workflow.getHandle(await run(taskQueue, randomUUID())).result(),
    );
    expect(result).toBe('failed');
    expect(prepares).toBe(1);
  });

  describe('delivery control', () => {
    const twoAttempts = (): DeliveryPolicy => {
      const channels = loadDeliveryConfig({}).channels;
      return {
        channels: {
          ...channels,
          sms: { ...channels.sms, retry: { ...channels.sms.retry, initialInterval: 1000, maximumAttempts: 2 } },
        },
      };
    };

    it('takes the retry policy from configuration: exactly maximumAttempts tries, then failover is asked', async () => {
      const fake = fakeActivities(
        [{ deliveryId: 's', channel: 'sms', provider: 'twilio' }],
        {
          sms: () => {
            throw ApplicationFailure.retryable('500 from provider', 'ProviderUnavailable');
          },
        },
        twoAttempts(),
      );
      const result = await withWorker(fake.activities, async (taskQueue) =>
        env.client.workflow.getHandle(await run(taskQueue, randomUUID())).result(),
      );
      expect(result).toBe('failed');
      expect(fake.calls.filter((c) => c.startsWith('deliver:sms'))).toEqual(['deliver:sms:1', 'deliver:sms:2']);
      expect(fake.calls).toContain('failover:s:twilio');
    });

    it('fails over to the secondary provider once the primary is exhausted, and delivers', async () => {
      let provider = 'twilio';
      const fake = fakeActivities(
        [{ deliveryId: 's', channel: 'sms', provider: 'twilio' }],
        {
          sms: () => {
            if (provider === 'twilio') throw ApplicationFailure.retryable('503', 'ProviderUnavailable');
          },
        },
        twoAttempts(),
      );
      fake.activities.failoverDelivery = async () => {
        provider = 'vonage';
        return 'vonage';
      };
      const result = await withWorker(fake.activities, async (taskQueue) =>
        env.client.workflow.getHandle(await run(taskQueue, randomUUID())).result(),
      );
      expect(result).toBe('delivered');
      expect(fake.calls.filter((c) => c.startsWith('deliver:sms'))).toEqual([
        'deliver:sms:1',
        'deliver:sms:2',
        'deliver:sms:1',
      ]);
    });

    it('never fails over (nor retries) a dead target', async () => {
      const fake = fakeActivities([{ deliveryId: 's', channel: 'sms', provider: 'twilio' }], {
        sms: () => {
          throw ApplicationFailure.nonRetryable('21211: invalid number', 'InvalidRecipient');
        },
      });
      const result = await withWorker(fake.activities, async (taskQueue) =>
        env.client.workflow.getHandle(await run(taskQueue, randomUUID())).result(),
      );
      expect(result).toBe('failed');
      expect(fake.calls.filter((c) => c.startsWith('deliver:sms'))).toEqual(['deliver:sms:1']);
      expect(fake.calls.some((c) => c.startsWith('failover'))).toBe(false);
    });

    const escalating = (taskQueue: string, key: string) =>
      startNotificationWorkflow(env.client, taskQueue, key, {
        notificationId: `ntf_${key}`,
        escalation: { afterMinutes: 30, channel: 'sms' },
      });

    it('escalates to SMS when the push is not opened in time', async () => {
      const fake = fakeActivities([{ deliveryId: 'p', channel: 'push', provider: 'fcm' }]);
      const result = await withWorker(fake.activities, async (taskQueue) =>
        env.client.workflow.getHandle(await escalating(taskQueue, randomUUID())).result(),
      );
      expect(result).toBe('delivered');
      expect(fake.calls).toContain('escalate:sms');
      expect(fake.calls.filter((c) => c.startsWith('deliver:'))).toEqual(['deliver:push:1', 'deliver:sms:1']);
    });

    it('does not escalate when the push is opened', async () => {
      const fake = fakeActivities([{ deliveryId: 'p', channel: 'push', provider: 'fcm' }]);
      await withWorker(fake.activities, async (taskQueue) => {
        const handle = env.client.workflow.getHandle(await escalating(taskQueue, randomUUID()));
        // Wait until the push went out (the workflow is then waiting for the open), then open it.
        while (!fake.calls.includes('deliver:push:1')) await new Promise((r) => setTimeout(r, 20));
        await handle.signal(notificationOpenedSignal);
        return handle.result();
      });
      expect(fake.calls).not.toContain('escalate:sms');
      expect(fake.calls.filter((c) => c.startsWith('deliver:'))).toEqual(['deliver:push:1']);
    });
  });
});

describe('sendNotification workflow: moving a send-at notification', () => {
  const HOUR = 3600 * 1000;
  const at = async (offsetMs: number) => new Date((await env.currentTimeMs()) + offsetMs).toISOString();

  /** Records the (skipped) server time at which the workflow asked to prepare the notification: its send time. */
  function recordPreparedAt(activities: Activities): { at?: number } {
    const prepared: { at?: number } = {};
    const prepare = activities.planNotification;
    activities.planNotification = async (id, now) => {
      prepared.at = Date.parse(now);
      return prepare(id, now);
    };
    return prepared;
  }

  it('moved later, it waits for the new time and is delivered once, then', async () => {
    const fake = fakeActivities([{ deliveryId: 'moved-later', channel: 'email' }]);
    const prepared = recordPreparedAt(fake.activities);
    const original = await at(24 * HOUR);
    const moved = await at(72 * HOUR);
    const { result, update } = await withWorker(fake.activities, async (taskQueue) => {
      const handle = env.client.workflow.getHandle(await run(taskQueue, randomUUID(), original));
      const update = await handle.executeUpdate(rescheduleUpdate, { args: [moved] });
      return { update, result: await handle.result() };
    });
    expect(update).toEqual({ sendAt: moved });
    expect(result).toBe('delivered');
    // Had the original timer fired, the notification would have been sent two days before the new time.
    expect(prepared.at).toBeGreaterThanOrEqual(Date.parse(moved));
    expect(fake.calls.filter((c) => c === 'prepare')).toHaveLength(1);
    expect(fake.calls.filter((c) => c.startsWith('deliver:'))).toHaveLength(1);
  });

  it('moved earlier, it is delivered at the earlier time instead of waiting for the original one', async () => {
    const fake = fakeActivities([{ deliveryId: 'moved-earlier', channel: 'sms' }]);
    const prepared = recordPreparedAt(fake.activities);
    const original = await at(30 * 24 * HOUR);
    const moved = await at(2 * HOUR);
    await withWorker(fake.activities, async (taskQueue) => {
      const handle = env.client.workflow.getHandle(await run(taskQueue, randomUUID(), original));
      await handle.executeUpdate(rescheduleUpdate, { args: [moved] });
      expect(await handle.result()).toBe('delivered');
    });
    expect(prepared.at).toBeGreaterThanOrEqual(Date.parse(moved));
    expect(prepared.at).toBeLessThan(Date.parse(original));
    expect(fake.calls.slice(0, 2)).toEqual(['status:scheduled', 'prepare']);
  });

  it('moved into the past, it is sent now', async () => {
    const fake = fakeActivities([{ deliveryId: 'now', channel: 'push' }]);
    const prepared = recordPreparedAt(fake.activities);
    const original = await at(10 * 24 * HOUR);
    await withWorker(fake.activities, async (taskQueue) => {
      const handle = env.client.workflow.getHandle(await run(taskQueue, randomUUID(), original));
      await handle.executeUpdate(rescheduleUpdate, { args: [await at(-HOUR)] });
      expect(await handle.result()).toBe('delivered');
    });
    expect(prepared.at).toBeLessThan(Date.parse(original));
  });

  it('moved and then canceled, it is never sent', async () => {
    const fake = fakeActivities([{ deliveryId: 'never-moved', channel: 'sms' }]);
    const result = await withWorker(fake.activities, async (taskQueue) => {
      const handle = env.client.workflow.getHandle(await run(taskQueue, randomUUID(), await at(24 * HOUR)));
      await handle.executeUpdate(rescheduleUpdate, { args: [await at(48 * HOUR)] });
      expect(await handle.executeUpdate(cancelUpdate)).toEqual({ canceled: true, phase: 'done' });
      // A canceled notification cannot be moved again (refused by the validator, or the workflow has already ended).
      await expect(handle.executeUpdate(rescheduleUpdate, { args: [await at(HOUR)] })).rejects.toThrow(
        /not found|notification is done/,
      );
      return handle.result();
    });
    expect(result).toBe('canceled');
    expect(fake.calls).toEqual(['status:scheduled', 'status:canceled']);
  });

  it('a cancel that arrives with the start still records scheduled, then canceled (the order before reschedule)', async () => {
    const fake = fakeActivities([{ deliveryId: 'raced', channel: 'sms' }]);
    const taskQueue = `test-${randomUUID()}`;
    // No worker yet: the update waits on the server and reaches the workflow in its very first task.
    const handle = env.client.workflow.getHandle(await run(taskQueue, randomUUID(), await at(24 * HOUR)));
    const canceling = handle.executeUpdate(cancelUpdate);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: fake.activities,
    });
    const result = await worker.runUntil(async () => {
      expect(await canceling).toEqual({ canceled: true, phase: 'done' });
      return handle.result();
    });
    expect(result).toBe('canceled');
    expect(fake.calls).toEqual(['status:scheduled', 'status:canceled']);
  });

  it('once it is sending, a move is refused and leaves nothing in the history', async () => {
    const fake = fakeActivities([{ deliveryId: 'busy', channel: 'email' }]);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let preparing!: () => void;
    const inPrepare = new Promise<void>((resolve) => (preparing = resolve));
    const prepare = fake.activities.planNotification;
    fake.activities.planNotification = async (id, now) => {
      preparing();
      await released;
      return prepare(id, now);
    };
    await withWorker(fake.activities, async (taskQueue) => {
      const handle = env.client.workflow.getHandle(await run(taskQueue, randomUUID()));
      await inPrepare;
      expect(await handle.query(phaseQuery)).toBe('preparing');
      await expect(handle.executeUpdate(rescheduleUpdate, { args: [await at(HOUR)] })).rejects.toThrow(
        WorkflowUpdateFailedError,
      );
      release();
      expect(await handle.result()).toBe('delivered');
      const history = await handle.fetchHistory();
      expect(history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toBe(false);
    });
    expect(fake.calls.filter((c) => c.startsWith('deliver:'))).toHaveLength(1);
  });
});

describe('sendNotification workflow: deploying a new version', () => {
  it('replays a waiting notification recorded with this version: moved (timer restarted), held by quiet hours, sent', async () => {
    // Notifications wait for months, so every deploy replays histories recorded by the previous version. This one was
    // recorded (scripts/record-replay-fixture.ts) with the workflow as of the hot-path rebuild (plan as a local
    // activity, one provider activity per channel, answers recorded by the workflow): a send-at a day away, moved to
    // two days while its timer ran, eight hours of quiet hours, then two channels, one push device failing beside an
    // answer and then alone. A change that breaks it needs a patched() marker, or a documented drain (as
    // docs/performance.md chose for histories from before the rebuild).
    const json = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'send-at-moved.history.json'), 'utf8'));
    const history = temporal.api.history.v1.History.fromObject(json);
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundle, replayName: 'send-at-moved' }, history),
    ).resolves.toBeUndefined();
  });
});
