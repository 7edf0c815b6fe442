/**
 * Topics and campaigns end to end: the real API, a real Temporal dev server (Schedules included), the test database
 * and the worker. Channels without credentials deliver to the outbox, which keeps one row per delivery, so "delivered
 * once" is checked on what the outbox received, per user.
 *
 * The time-skipping test server does not implement Schedules ("Failed to create schedule"), so the cron test runs on
 * the dev server and fires the schedule over two skipped days with a backfill (the same spec, timezone included).
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import { startTestHerald, type ApiResponse, type TestHerald } from '../support/herald';
import { until as poll } from '../support/until';

jest.setTimeout(1_800_000);

const AUDIENCE = 2000;
const CRASH_AUDIENCE = 600;
let herald: TestHerald;

/** Polls through "fetch failed": a busy process can drop a kept-alive connection as a request goes out. */
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> =>
  poll(what, probe, { timeoutMs, retryOn: (error) => (error as Error).message === 'fetch failed' });

const ok = (response: ApiResponse, status = 200) => {
  if (response.status !== status)
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
};

beforeAll(async () => {
  herald = await startTestHerald();
  ok(
    await herald.api('PUT', '/v1/templates/digest', {
      channels: { email: { subject: 'News for {{ user.id }}', text: 'Your plan: {{ plan }}' } },
    }),
    201,
  );
  await herald.db.prisma.user.createMany({
    data: Array.from({ length: AUDIENCE }, (_, i) => {
      const id = `member-${String(i).padStart(5, '0')}`;
      return { id, email: `${id}@example.com`, locale: i % 2 ? 'ko-KR' : 'en' };
    }),
  });
  ok(await herald.api('PUT', '/v1/topics/members', { name: 'Everyone in the test' }), 201);
  for (let i = 0; i < AUDIENCE; i += 1000) {
    const userIds = Array.from({ length: 1000 }, (_, j) => `member-${String(i + j).padStart(5, '0')}`);
    const added = ok(await herald.api('PUT', '/v1/topics/members/subscribers', { userIds }));
    expect(added.subscribed).toBe(1000);
  }
  // A smaller topic for the crash test: six pages of 100.
  ok(await herald.api('PUT', '/v1/topics/crash'), 201);
  const crashIds = Array.from({ length: CRASH_AUDIENCE }, (_, i) => `member-${String(i * 3).padStart(5, '0')}`);
  ok(await herald.api('PUT', '/v1/topics/crash/subscribers', { userIds: crashIds }));
});
afterAll(async () => {
  await herald?.stop();
});

async function createCampaign(body: Record<string, unknown>) {
  return ok(
    await herald.api('POST', '/v1/campaigns', { name: 'Test', template: 'digest', data: { plan: 'pro' }, ...body }),
    201,
  ) as { id: string; scheduleId: string };
}

const far = { cron: '0 0 1 1 *', timezone: 'UTC' }; // once a year: runs come from trigger in these tests

async function triggeredRun(campaignId: string, known: string[] = []): Promise<string> {
  return until('a run to begin', async () => {
    const { runs } = ok(await herald.api('GET', `/v1/campaigns/${campaignId}/runs`));
    return (runs as { id: string }[]).map((r) => r.id).find((id) => !known.includes(id));
  });
}

const getRun = async (campaignId: string, runId: string) =>
  ok(await herald.api('GET', `/v1/campaigns/${campaignId}/runs/${runId}`));

/** Generous: on a busy two-core machine a 2,000-recipient run has taken five minutes. Only a hang should fail. */
async function finishedRun(campaignId: string, runId: string, seen: unknown[] = []) {
  return until(
    'the run to complete',
    async () => {
      const run = await getRun(campaignId, runId);
      seen.push(run);
      if (process.env.CAMPAIGN_TRACE) console.log(new Date().toISOString(), JSON.stringify(run));
      return run.status === 'completed' || run.status === 'canceled' ? run : undefined;
    },
    1_200_000,
  );
}

/** What the outbox received for a run's notifications, per user. */
async function outboxPerUser(runId: string): Promise<Map<string, number>> {
  const rows = await herald.db.prisma.$queryRaw<{ user_id: string; n: number }[]>`
    SELECT n.user_id, count(o.id)::int AS n FROM notifications n
    JOIN deliveries d ON d.notification_id = n.id JOIN outbox_messages o ON o.delivery_id = d.id
    WHERE n.campaign_run_id = ${runId} GROUP BY n.user_id`;
  return new Map(rows.map((r) => [r.user_id, Number(r.n)]));
}

async function expectDeliveredOnceToEveryone(runId: string, audience: number) {
  const perUser = await outboxPerUser(runId);
  expect(perUser.size).toBe(audience);
  expect([...perUser.values()].every((n) => n === 1)).toBe(true);
  expect(await herald.db.prisma.notification.count({ where: { campaignRunId: runId } })).toBe(audience);
}

describe('topics', () => {
  it('subscribers are added in batches with a result per user, listed with a cursor, and removed', async () => {
    ok(await herald.api('PUT', '/v1/topics/small'), 201);
    expect(ok(await herald.api('PUT', '/v1/topics/small', { name: 'Small' }))).toMatchObject({
      key: 'small',
      name: 'Small',
      subscriberCount: 0,
    });
    const added = ok(
      await herald.api('PUT', '/v1/topics/small/subscribers', { userIds: ['member-00001', 'ghost', 'member-00002'] }),
    );
    expect(added.results).toEqual([
      { userId: 'member-00001', status: 'subscribed' },
      { userId: 'ghost', status: 'user_not_found' },
      { userId: 'member-00002', status: 'subscribed' },
    ]);
    const again = ok(await herald.api('PUT', '/v1/topics/small/subscribers', { userIds: ['member-00002'] }));
    expect(again.results).toEqual([{ userId: 'member-00002', status: 'already_subscribed' }]);
    const removed = ok(
      await herald.api('DELETE', '/v1/topics/small/subscribers', { userIds: ['member-00001', 'member-00003'] }),
    );
    expect(removed.results).toEqual([
      { userId: 'member-00001', status: 'unsubscribed' },
      { userId: 'member-00003', status: 'not_subscribed' },
    ]);
    expect(ok(await herald.api('GET', '/v1/topics/small')).subscriberCount).toBe(1);
    expect((await herald.api('DELETE', '/v1/topics/small')).status).toBe(204);
    expect((await herald.api('GET', '/v1/topics/small')).status).toBe(404);
  });

  it('a topic of 2,000 pages through its subscribers with a cursor, each once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = ok(
        await herald.api('GET', `/v1/topics/members/subscribers?limit=700${cursor ? `&cursor=${cursor}` : ''}`),
      );
      seen.push(...page.subscribers.map((s: { userId: string }) => s.userId));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(AUDIENCE);
    expect(ok(await herald.api('GET', '/v1/topics/members')).subscriberCount).toBe(AUDIENCE);
  });

  it('refuses more than 1,000 users at once, unknown topics and bad cursors with clear 4xx errors', async () => {
    const tooMany = await herald.api('PUT', '/v1/topics/members/subscribers', {
      userIds: Array.from({ length: 1001 }, (_, i) => `u${i}`),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('validation_error');
    expect((await herald.api('PUT', '/v1/topics/nope/subscribers', { userIds: ['member-00001'] })).status).toBe(404);
    const cursor = await herald.api('GET', '/v1/topics/members/subscribers?cursor=%25%25');
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.code).toBe('invalid_cursor');
    expect((await herald.api('GET', '/v1/topics/members/subscribers?limit=0')).status).toBe(400);
  });

  it('an audience preview shows the size and members of a filter, paged with the same keyset', async () => {
    const first = ok(
      await herald.api('POST', '/v1/audiences/preview', { audience: { filter: { locale: 'ko' } }, limit: 3 }),
    );
    expect(first).toMatchObject({ size: AUDIENCE / 2, userIds: ['member-00001', 'member-00003', 'member-00005'] });
    const next = ok(
      await herald.api('POST', '/v1/audiences/preview', {
        audience: { filter: { locale: 'ko' } },
        limit: 3,
        cursor: first.nextCursor,
      }),
    );
    expect(next.userIds).toEqual(['member-00007', 'member-00009', 'member-00011']);
    const bad = await herald.api('POST', '/v1/audiences/preview', { audience: { filter: { plan: 'pro' } } });
    expect(bad.status).toBe(400);
  });
});

describe('campaigns', () => {
  it('a one-off campaign to a topic of 2,000 users delivers once to each, with progress updated to 100%', async () => {
    const campaign = await createCampaign({
      name: 'Launch',
      audience: { topic: 'members' },
      schedule: { at: new Date(Date.now() + 2000).toISOString() },
    });
    const runId = await triggeredRun(campaign.id);
    expect(runId.startsWith(`campaign-${campaign.id}-`)).toBe(true);
    const seen: { status: string; percentComplete: number; inFlight: number }[] = [];
    const run = await finishedRun(campaign.id, runId, seen);

    expect(run).toMatchObject({
      status: 'completed',
      audienceSize: AUDIENCE,
      started: AUDIENCE,
      delivered: AUDIENCE,
      failed: 0,
      suppressed: 0,
      inFlight: 0,
      percentComplete: 100,
      estimatedSecondsRemaining: 0,
    });
    // Progress was visible while the run went on, and the window held.
    const during = seen.filter((s) => s.status === 'running');
    expect(during.some((s) => s.percentComplete > 0 && s.percentComplete < 100)).toBe(true);
    expect(Math.max(...seen.map((s) => s.inFlight))).toBeLessThanOrEqual(500); // the default window
    await expectDeliveredOnceToEveryone(runId, AUDIENCE);

    const seconds = (Date.parse(run.completedAt) - Date.parse(run.startedAt)) / 1000;
    console.log(
      `campaign run: ${AUDIENCE} recipients in ${seconds.toFixed(1)} s = ${(AUDIENCE / seconds).toFixed(1)} recipients/s ` +
        `(${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, dev server, outbox)`,
    );
    const message = await herald.db.prisma.outboxMessage.findFirst({
      where: { recipient: 'member-00042@example.com' },
    });
    expect(message?.content).toMatchObject({ subject: 'News for member-00042', text: 'Your plan: pro' });
    // A one-off schedule has nothing more to run.
    expect(ok(await herald.api('GET', `/v1/campaigns/${campaign.id}`)).nextRunAt).toEqual([]);
  });

  it('stopping the worker in the middle of a run and starting it again sends nothing twice and loses no one', async () => {
    const campaign = await createCampaign({
      name: 'Crash',
      audience: { topic: 'crash' },
      schedule: far,
      pacing: { pageSize: 100, maxInFlight: 200 },
    });
    ok(await herald.api('POST', `/v1/campaigns/${campaign.id}/trigger`), 202);
    const runId = await triggeredRun(campaign.id);
    await until('the run to be under way', async () => {
      const run = await getRun(campaign.id, runId);
      return run.started >= 150 ? run : undefined;
    });
    await herald.stopWorker();
    const stopped = await getRun(campaign.id, runId);
    expect(stopped.status).toBe('running');
    expect(stopped.started).toBeLessThan(CRASH_AUDIENCE);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await herald.startWorker();

    const run = await finishedRun(campaign.id, runId);
    expect(run).toMatchObject({
      status: 'completed',
      audienceSize: CRASH_AUDIENCE,
      started: CRASH_AUDIENCE,
      delivered: CRASH_AUDIENCE,
      percentComplete: 100,
    });
    await expectDeliveredOnceToEveryone(runId, CRASH_AUDIENCE);
  });

  it('canceling a running run: what has not started does not start, and what started finishes', async () => {
    const campaign = await createCampaign({
      name: 'Cancel me',
      audience: { topic: 'members' },
      schedule: far,
      pacing: { pageSize: 50, maxInFlight: 100 },
    });
    ok(await herald.api('POST', `/v1/campaigns/${campaign.id}/trigger`), 202);
    const runId = await triggeredRun(campaign.id);
    await until('the run to be under way', async () => {
      const run = await getRun(campaign.id, runId);
      return run.started >= 100 ? run : undefined;
    });
    const canceled = ok(await herald.api('POST', `/v1/campaigns/${campaign.id}/runs/${runId}/cancel`));
    expect(['canceling', 'canceled']).toContain(canceled.status);
    const atCancel = await herald.db.prisma.notification.count({ where: { campaignRunId: runId } });
    expect(atCancel).toBeLessThan(AUDIENCE);

    const run = await until('the started notifications to finish', async () => {
      const run = await getRun(campaign.id, runId);
      return run.status === 'canceled' && run.inFlight === 0 ? run : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await herald.db.prisma.notification.count({ where: { campaignRunId: runId } })).toBe(atCancel);
    expect(run.started).toBe(atCancel);
    expect(run.delivered).toBe(atCancel);
    expect((await outboxPerUser(runId)).size).toBe(atCancel);
    const again = await herald.api('POST', `/v1/campaigns/${campaign.id}/runs/${runId}/cancel`);
    expect(again.status).toBe(200);
  });

  it('a daily cron in Asia/Seoul fires twice over two skipped days (backfill), each run delivering to its audience', async () => {
    const userIds = ['member-00010', 'member-00011', 'member-00012'];
    const campaign = await createCampaign({
      name: 'Morning digest',
      audience: { userIds },
      schedule: { cron: '0 9 * * *', timezone: 'Asia/Seoul' },
    });
    const next = ok(await herald.api('GET', `/v1/campaigns/${campaign.id}`)).nextRunAt as string[];
    expect(next.length).toBeGreaterThan(0);
    expect(next.every((t) => t.endsWith('T00:00:00.000Z'))).toBe(true); // 09:00 in Seoul

    await herald.client.schedule.getHandle(campaign.scheduleId).backfill({
      start: new Date('2026-01-01T12:00:00Z'),
      end: new Date('2026-01-03T12:00:00Z'),
    });
    const expected = [`campaign-${campaign.id}-2026-01-03T00:00:00Z`, `campaign-${campaign.id}-2026-01-02T00:00:00Z`];
    const runs = await until('both runs', async () => {
      const { runs } = ok(await herald.api('GET', `/v1/campaigns/${campaign.id}/runs`));
      return runs.length === 2 && runs.every((r: { status: string }) => r.status === 'completed') ? runs : undefined;
    });
    expect(runs.map((r: { id: string }) => r.id)).toEqual(expected);
    for (const run of runs) expect(run).toMatchObject({ audienceSize: 3, delivered: 3, percentComplete: 100 });
    for (const userId of userIds) {
      expect(await herald.db.prisma.notification.count({ where: { userId, campaignRunId: { in: expected } } })).toBe(2);
    }
  });

  it('pause stops a schedule from firing and resume starts it again; delete removes the schedule', async () => {
    const campaign = await createCampaign({
      name: 'Every two seconds',
      audience: { userIds: ['member-00020'] },
      schedule: { cron: '*/2 * * * * * *', timezone: 'UTC' }, // seven fields: seconds first, year last
    });
    const schedule = herald.client.schedule.getHandle(campaign.scheduleId);
    // Runs the schedule has started, as Temporal counts them.
    const taken = async () => (await schedule.describe()).info.numActionsTaken;
    await until('a scheduled run', async () => ((await taken()) >= 1 ? true : undefined), 30_000);
    await triggeredRun(campaign.id);

    expect(ok(await herald.api('POST', `/v1/campaigns/${campaign.id}/pause`)).status).toBe('paused');
    expect((await schedule.describe()).state.paused).toBe(true);
    const paused = await taken();
    await new Promise((resolve) => setTimeout(resolve, 5000)); // two and a half periods
    expect(await taken()).toBe(paused);

    expect(ok(await herald.api('POST', `/v1/campaigns/${campaign.id}/resume`)).status).toBe('active');
    expect((await schedule.describe()).state.paused).toBe(false);
    await until('a run after resuming', async () => ((await taken()) > paused ? true : undefined), 30_000);

    expect((await herald.api('DELETE', `/v1/campaigns/${campaign.id}`)).status).toBe(204);
    await expect(herald.client.schedule.getHandle(campaign.scheduleId).describe()).rejects.toThrow(
      ScheduleNotFoundError,
    );
    expect(ok(await herald.api('GET', `/v1/campaigns/${campaign.id}`)).status).toBe('deleted');
    expect((await herald.api('POST', `/v1/campaigns/${campaign.id}/trigger`)).status).toBe(409);
    expect((await herald.api('DELETE', `/v1/campaigns/${campaign.id}`)).status).toBe(204);
  });

  it('bad campaigns are refused with clear 4xx errors', async () => {
    const base = { name: 'Bad', template: 'digest', audience: { topic: 'members' }, schedule: far };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ schedule: { cron: 'every day' } }, 400, 'validation_error'],
      [{ schedule: { cron: '99 * * * *' } }, 400, 'invalid_schedule'],
      [{ schedule: { cron: '0 9 * * *', timezone: 'Mars/Olympus' } }, 400, 'validation_error'],
      [{ schedule: { at: '2020-01-01T00:00:00Z' } }, 400, 'schedule_in_past'],
      [{ template: 'no-such-template' }, 404, 'template_not_found'],
      [{ audience: { topic: 'no-such-topic' } }, 404, 'topic_not_found'],
      [{ audience: { filter: { plan: 'pro' } } }, 400, 'validation_error'],
      [{ audience: { userIds: [] } }, 400, 'validation_error'],
      [{ pacing: { pageSize: 500, maxInFlight: 100 } }, 400, 'validation_error'],
    ];
    for (const [override, status, code] of cases) {
      const response = await herald.api('POST', '/v1/campaigns', { ...base, ...override });
      expect({ override, status: response.status, code: response.body?.error?.code }).toEqual({
        override,
        status,
        code,
      });
    }
    expect((await herald.api('GET', '/v1/campaigns/cmp_nope')).status).toBe(404);
    const openapi = (await fetch(`${herald.url}/openapi.json`).then((r) => r.json())) as { paths: object };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/campaigns', '/v1/campaigns/{id}/runs/{runId}', '/v1/topics/{key}/subscribers']),
    );
    expect((await herald.api('POST', '/v1/campaigns/cmp_nope/pause')).status).toBe(404);
    const { id } = await createCampaign({ audience: { topic: 'members' }, schedule: far });
    expect((await herald.api('GET', `/v1/campaigns/${id}/runs/run-nope`)).body.error.code).toBe(
      'campaign_run_not_found',
    );
    await herald.api('DELETE', `/v1/campaigns/${id}`);
  });
});
