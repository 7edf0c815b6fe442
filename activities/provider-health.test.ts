/**
 * Provider failure-rate bookkeeping on the test database (PGlite, or PostgreSQL when DATABASE_URL is set): calls are
 * counted in memory and written as one row per provider per minute, and the alert webhook fires once per cooldown.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadDeliveryConfig } from '../platform/config/delivery';
import { createTestDatabase, type TestDatabase } from '../test/support/database';
import { createProviderHealth, type ProviderAlertPayload } from './provider-health';
import { until } from '../test/support/until';

let db: TestDatabase;
let receiver: http.Server;
let webhookUrl: string;
const received: ProviderAlertPayload[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as ProviderAlertPayload);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
});
afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await db.close();
});
beforeEach(async () => {
  received.length = 0;
  await db.prisma.providerCallStat.deleteMany();
  await db.prisma.providerAlert.deleteMany();
});

type Alerts = ReturnType<typeof loadDeliveryConfig>['alerts'];
const alertsConfig = (overrides: Partial<Alerts> = {}): Alerts => ({
  ...loadDeliveryConfig({ HERALD_ALERT_WEBHOOK_URL: webhookUrl }).alerts,
  ...overrides,
});

function clockAt(iso: string) {
  let now = new Date(iso).getTime();
  return {
    clock: () => new Date(now),
    advance: (ms: number) => (now += ms),
  };
}

const rows = () =>
  db.prisma.providerCallStat
    .findMany({ orderBy: [{ provider: 'asc' }, { bucket: 'asc' }] })
    .then((all) =>
      all.map(({ provider, bucket, calls, failures }) => ({ provider, bucket: bucket.toISOString(), calls, failures })),
    );

describe('provider health', () => {
  it('adds a batch of calls as one row per provider and minute, and nothing before the flush', async () => {
    const time = clockAt('2026-11-26T10:00:30Z');
    const health = createProviderHealth({ db: db.prisma, alerts: alertsConfig(), clock: time.clock });
    for (let i = 0; i < 40; i++) health.record('apns', i % 10 === 0);
    for (let i = 0; i < 5; i++) health.record('twilio', false);
    health.record('outbox', true); // the local outbox is not a provider that can be down
    time.advance(60_000);
    health.record('apns', false);
    expect(await rows()).toEqual([]);

    await health.flush();
    expect(await rows()).toEqual([
      { provider: 'apns', bucket: '2026-11-26T10:00:00.000Z', calls: 40, failures: 4 },
      { provider: 'apns', bucket: '2026-11-26T10:01:00.000Z', calls: 1, failures: 0 },
      { provider: 'twilio', bucket: '2026-11-26T10:00:00.000Z', calls: 5, failures: 0 },
    ]);

    // Another worker's counts for the same minute add to the same row.
    const other = createProviderHealth({ db: db.prisma, alerts: alertsConfig(), clock: time.clock });
    other.record('apns', true);
    other.record('apns', false);
    await other.close();
    expect((await rows()).find((r) => r.bucket === '2026-11-26T10:01:00.000Z')).toMatchObject({
      calls: 3,
      failures: 1,
    });
    await health.close();
    expect(received).toEqual([]); // 4 of 40 failed: under the threshold
  });

  it('alerts once when the shared failure rate crosses the threshold, then holds the cooldown', async () => {
    const time = clockAt('2026-11-26T11:00:00Z');
    const alerts = alertsConfig({ minCalls: 10, threshold: 0.5, cooldownMs: 15 * 60_000 });
    const worker1 = createProviderHealth({ db: db.prisma, alerts, clock: time.clock });
    const worker2 = createProviderHealth({ db: db.prisma, alerts, clock: time.clock });
    for (let i = 0; i < 6; i++) worker1.record('sendgrid', true);
    await worker1.flush();
    expect(received).toEqual([]); // 6 calls: under minCalls

    for (let i = 0; i < 4; i++) worker2.record('sendgrid', i < 2);
    await worker2.flush();
    expect(received).toEqual([
      expect.objectContaining({ type: 'provider_failure_rate', provider: 'sendgrid', calls: 10, failures: 8 }),
    ]);

    time.advance(60_000);
    for (let i = 0; i < 5; i++) worker1.record('sendgrid', true);
    await worker1.close();
    expect(received).toHaveLength(1); // within the cooldown

    time.advance(15 * 60_000);
    for (let i = 0; i < 10; i++) worker2.record('sendgrid', true);
    await worker2.close();
    expect(received).toHaveLength(2);
    expect(received[1]).toMatchObject({ provider: 'sendgrid', failureRate: 1 });
  });

  it('flushes by itself shortly after a call, and reports a database failure instead of throwing', async () => {
    const errors: unknown[] = [];
    const health = createProviderHealth({
      db: db.prisma,
      alerts: alertsConfig(),
      clock: () => new Date(),
      onError: (error) => errors.push(error),
    });
    health.record('fcm', false);
    await until('the automatic flush', async () => ((await rows()).length > 0 ? true : undefined), { intervalMs: 50 });
    expect(await rows()).toEqual([expect.objectContaining({ provider: 'fcm', calls: 1, failures: 0 })]);

    const broken = createProviderHealth({
      db: {
        providerCallStat: {
          upsert: () => Promise.reject(new Error('database down')),
          update: () => Promise.reject(new Error('database down')),
        },
      } as unknown as typeof db.prisma,
      alerts: alertsConfig(),
      clock: () => new Date(),
      onError: (error) => errors.push(error),
    });
    broken.record('fcm', true);
    await expect(broken.close()).resolves.toBeUndefined();
    expect(errors).toEqual([expect.objectContaining({ message: 'database down' })]);
    await health.close();
  });
});
