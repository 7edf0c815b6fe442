/**
 * The per-user throttle workflow on a real dev server: update-with-start from many callers at once, continue-as-new
 * under a long burst, and no request lost or counted twice across runs.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { userThrottleWorkflowId } from '../contract/ids';
import { requestThrottleGrant } from '../activities/user-throttle';
import { createLocalTemporal } from '../test/support/temporal';
import { until } from '../test/support/until';
import { decide, nextSlot } from './throttle-decision';
import {
  throttleStateQuery,
  type ThrottleEntry,
  type ThrottleRequest,
} from '../contract/workflows/user-throttle.definitions';

jest.setTimeout(180_000);

const HOUR = 3_600_000;
const rule = { channel: 'push' as const, category: 'marketing', limit: 3, perMs: HOUR };

const request = (requestId: string, maxRequestsPerRun = 500): ThrottleRequest => ({
  requestId,
  category: 'marketing',
  channels: [{ channel: 'push', rules: [rule], policy: 'defer' }],
  quietPeriodMs: HOUR,
  maxRequestsPerRun,
});

describe('throttle arithmetic', () => {
  it('grants the first three now and the fourth when the first leaves the window', () => {
    const entries: ThrottleEntry[] = [];
    const now = 1_000_000;
    const at = [0, 10, 20, 30].map((offset, i) => decide(entries, request(`r${i}`), now + offset)[0]);
    expect(at.slice(0, 3)).toEqual([
      { channel: 'push', decision: 'send', at: new Date(now).toISOString() },
      { channel: 'push', decision: 'send', at: new Date(now + 10).toISOString() },
      { channel: 'push', decision: 'send', at: new Date(now + 20).toISOString() },
    ]);
    expect(at[3]).toEqual({ channel: 'push', decision: 'send', at: new Date(now + HOUR).toISOString() });
  });

  it('keeps every rule at once (3 an hour and 4 a day)', () => {
    const day = { channel: 'push' as const, limit: 4, perMs: 24 * HOUR };
    const entries: ThrottleEntry[] = [0, 1, 2, 3].map((i) => ({
      id: `e${i}`,
      channel: 'push',
      category: 'marketing',
      at: i,
    }));
    expect(nextSlot(entries, [rule, day], 10)).toBe(24 * HOUR);
    expect(nextSlot(entries.slice(0, 3), [rule, day], 10)).toBe(HOUR);
  });

  it('does not count other categories or channels against a rule', () => {
    const entries: ThrottleEntry[] = [0, 1, 2].map((i) => ({
      id: `e${i}`,
      channel: 'sms',
      category: 'marketing',
      at: i,
    }));
    entries.push(...[0, 1, 2].map((i) => ({ id: `f${i}`, channel: 'push' as const, category: 'news', at: i })));
    expect(nextSlot(entries, [rule], 10)).toBe(10);
  });

  it('answers a repeated request with its recorded grant, taking no second slot', () => {
    const entries: ThrottleEntry[] = [];
    const first = decide(entries, request('same'), 5);
    expect(decide(entries, request('same'), 6)).toEqual(first);
    expect(entries).toHaveLength(1);
  });

  it('under the drop policy, drops with the rule that was broken', () => {
    const entries: ThrottleEntry[] = [];
    const drop: ThrottleRequest = { ...request('x'), channels: [{ channel: 'push', rules: [rule], policy: 'drop' }] };
    for (let i = 0; i < 3; i++) decide(entries, { ...drop, requestId: `d${i}` }, i);
    expect(decide(entries, { ...drop, requestId: 'd3' }, 3)).toEqual([
      { channel: 'push', decision: 'drop', reason: 'throttled: marketing push limit 3 per 1h' },
    ]);
  });
});

describe('userThrottle workflow', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `throttle-${randomUUID()}`;

  beforeAll(async () => {
    env = await createLocalTemporal();
    const noop = () => undefined;
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./index'),
        logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
      }),
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  /**
   * As the activity does (Temporal retries it until it answers): a run that is ending or continuing as new refuses
   * the update for a moment (ResourceExhausted, "workflow is closing"), and the call is retried until the next run
   * answers. How long that moment lasts depends on how busy the machine is, so the retries are bounded by a deadline
   * against a hang, not by a count; an update the workflow rejects is a real failure and is not retried.
   */
  async function ask(userId: string, req: ThrottleRequest) {
    let last: unknown;
    return until(
      () => `the throttle's answer to ${req.requestId} (last error: ${String(last)})`,
      () => requestThrottleGrant(env.client, taskQueue, userId, req),
      {
        timeoutMs: 150_000,
        intervalMs: 100,
        retryOn: (error) => {
          last = error;
          return !(error instanceof WorkflowUpdateFailedError);
        },
      },
    );
  }

  /** Several callers at once; returns once every call has ended, so none is left running when a test fails. */
  async function askAll(userId: string, requests: ThrottleRequest[]) {
    const settled = await Promise.allSettled(requests.map((req) => ask(userId, req)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof ask>>>).value);
  }

  it('continues-as-new under a long burst without losing or double-counting a request', async () => {
    const userId = `burst-${randomUUID()}`;
    const total = 40;
    const answers = new Map<string, string>();
    // Several callers at once, as many notification workflows would; each run takes at most 7 requests.
    for (let i = 0; i < total; i += 4) {
      const batch = Array.from({ length: Math.min(4, total - i) }, (_, j) => `req-${i + j}`);
      const results = await askAll(
        userId,
        batch.map((id) => request(id, 7)),
      );
      results.forEach((r, j) => {
        const grant = r.grants[0]!;
        expect(grant.decision).toBe('send');
        answers.set(batch[j]!, grant.decision === 'send' ? grant.at : '');
      });
    }
    expect(answers.size).toBe(total);

    // Sorted, the grants keep the rule exactly: any 4 consecutive span at least an hour (none lost, so the limit
    // holds across runs) and barely more (none counted twice, which would leave a slot unused).
    const grants = [...answers.values()].map((at) => Date.parse(at)).sort((a, b) => a - b);
    for (let k = 3; k < grants.length; k++) {
      expect(grants[k]! - grants[k - 3]!).toBeGreaterThanOrEqual(HOUR);
      expect(grants[k]! - grants[k - 3]!).toBeLessThan(HOUR + 30_000);
    }
    expect(grants.filter((g) => g < grants[0]! + HOUR)).toHaveLength(3);

    const handle = env.client.workflow.getHandle(userThrottleWorkflowId(userId));
    const state = await handle.query(throttleStateQuery);
    expect(state.run).toBeGreaterThanOrEqual(Math.floor(total / 7));
    expect(state.entries).toHaveLength(total); // the whole list crossed every continue-as-new

    // A request asked again after several runs gets its original answer.
    expect((await ask(userId, request('req-0', 7))).grants[0]).toEqual({
      channel: 'push',
      decision: 'send',
      at: answers.get('req-0'),
    });
  });

  it('is one workflow per user: another user is granted at once during a burst', async () => {
    const busy = `busy-${randomUUID()}`;
    for (let i = 0; i < 6; i++) await ask(busy, request(`b${i}`));
    const other = await ask(`other-${randomUUID()}`, request('o1'));
    const grant = other.grants[0]!;
    expect(grant.decision).toBe('send');
    expect(Date.parse((grant as { at: string }).at)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(userThrottleWorkflowId(busy)).toMatch(/^throttle-[0-9a-f]{40}$/);
    expect(userThrottleWorkflowId(busy)).not.toContain(busy);
  });

  it('finishes after its quiet period once its windows are empty', async () => {
    const userId = `quiet-${randomUUID()}`;
    const short = {
      ...request('q1'),
      quietPeriodMs: 500,
      channels: [{ channel: 'push' as const, rules: [{ ...rule, perMs: 500 }], policy: 'defer' as const }],
    };
    await ask(userId, short);
    const handle = env.client.workflow.getHandle(userThrottleWorkflowId(userId));
    await handle.result();
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    // The next request starts a fresh run.
    expect((await ask(userId, { ...short, requestId: 'q2' })).grants[0]!.decision).toBe('send');
  });
});
