/**
 * A campaign recipient's accept, on the test database (PGlite, or PostgreSQL with DATABASE_URL): the row, the check
 * that its run is still running and the run's `started` count are one statement.
 */
import type { Client } from '@temporalio/client';
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { COUNTER_SHARDS } from './notification-outcome';
import { acceptNotification, CampaignRunClosedError } from './accept-notification';

jest.setTimeout(120_000);

let db: TestDatabase;
const started: string[] = [];
// Only what acceptNotification uses of the Temporal client: the workflow ids it starts are what a user would see.
const temporal = {
  workflow: {
    start: async (_type: string, options: { workflowId: string }) => {
      started.push(options.workflowId);
      return {};
    },
  },
} as unknown as Client;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.user.create({ data: { id: 'u1' } });
  await db.prisma.template.create({ data: { id: 'news', currentVersion: 1 } });
  await db.prisma.campaign.create({
    data: { id: 'cmp1', name: 'News', templateId: 'news', audience: {}, schedule: {}, status: 'active' },
  });
  for (const [id, status] of [
    ['run-open', 'running'],
    ['run-closed', 'canceling'],
  ] as const) {
    await db.prisma.campaignRun.create({
      data: { id, campaignId: 'cmp1', status, templateVersion: 1, audienceSize: 10 },
    });
    await db.prisma.campaignRunCounter.createMany({
      data: Array.from({ length: COUNTER_SHARDS }, (_, shard) => ({ runId: id, shard })),
    });
  }
});

afterAll(async () => {
  await db?.close();
});

async function startedCount(runId: string): Promise<number> {
  const rows = await db.prisma.campaignRunCounter.findMany({ where: { runId } });
  return rows.reduce((sum, row) => sum + row.started, 0);
}

const accept = (key: string, runId: string) =>
  acceptNotification(
    { sql: db.sql, temporal, taskQueue: 'q' },
    key,
    { userId: 'u1', template: 'news' },
    {
      campaignRunId: runId,
      templateVersion: 1,
    },
  );

describe('accepting a campaign recipient', () => {
  it('records the row in its run, counts it started once, and starts its workflow; the same key again changes nothing', async () => {
    const first = await accept('cmp1:run-open:u1', 'run-open');
    expect(first).toMatchObject({ status: 'accepted', replayed: false });
    const row = await db.prisma.notification.findUnique({ where: { id: first.id } });
    expect(row).toMatchObject({ campaignRunId: 'run-open', userId: 'u1', templateVersion: 1, status: 'accepted' });
    expect(await startedCount('run-open')).toBe(1);
    expect(started).toHaveLength(1);

    const again = await accept('cmp1:run-open:u1', 'run-open');
    expect(again).toMatchObject({ id: first.id, replayed: true });
    expect(await startedCount('run-open')).toBe(1);
  });

  it('refuses a recipient once its run is no longer running: no row, no count, no workflow', async () => {
    const before = started.length;
    await expect(accept('cmp1:run-closed:u1', 'run-closed')).rejects.toThrow(CampaignRunClosedError);
    await expect(accept('cmp1:run-closed:u1', 'run-closed')).rejects.toThrow(/campaign run is canceling/);
    await expect(accept('cmp1:no-such-run:u1', 'no-such-run')).rejects.toThrow(/campaign run is gone/);
    expect(await db.prisma.notification.count({ where: { idempotencyKey: 'cmp1:run-closed:u1' } })).toBe(0);
    expect(await startedCount('run-closed')).toBe(0);
    expect(started).toHaveLength(before);
  });
});
