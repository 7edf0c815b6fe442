/**
 * One channel's provider calls, on the test database (PGlite, or PostgreSQL when DATABASE_URL is set) with a scripted
 * provider: the answers complete the activity whatever the database says, a retry never repeats an answered target,
 * and recording the answers later (the workflow's step) is idempotent and never calls a provider.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { loadDeliveryConfig } from '../../platform/config/delivery';
import type { Sql } from '../../platform/sql';
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { createProviderHealth } from '../provider-health';
import { ProviderError, type SmsRequest } from '../providers/provider.types';
import type { ProviderRegistry } from '../providers/registry';
import { recordOutcomes, type TargetOutcome } from './outcomes';
import { createChannelSender } from './send-channel';

let db: TestDatabase;
const calls: SmsRequest[] = [];
/** What the provider answers per phone number, by call: 'ok', 'down' (503) or 'dead' (invalid number). */
const script = new Map<string, ('ok' | 'down' | 'dead')[]>();

const providers = {
  get: () => ({
    send: async (request: SmsRequest) => {
      calls.push(request);
      const next = script.get(request.to)?.shift() ?? 'ok';
      if (next === 'down') throw new ProviderError('transient', '503', 'unavailable', { status: 503 });
      if (next === 'dead') throw new ProviderError('permanent_target', '21211', 'invalid number', { status: 400 });
      return { providerMessageId: `SM-${calls.length}` };
    },
  }),
  failoverFor: () => undefined,
  providerIdFor: () => 'twilio',
} as unknown as ProviderRegistry;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.user.create({ data: { id: 'u1', phone: '+14155550101' } });
  await db.prisma.template.create({ data: { id: 't', currentVersion: 1 } });
});
afterAll(async () => {
  await db.close();
});
beforeEach(() => {
  calls.length = 0;
  script.clear();
});

let n = 0;
async function notificationWith(phones: string[]): Promise<string[]> {
  const id = `ntf_${++n}`;
  await db.prisma.notification.create({
    data: {
      id,
      idempotencyKey: id,
      workflowId: id,
      userId: 'u1',
      templateId: 't',
      templateVersion: 1,
      status: 'sending',
    },
  });
  const ids = phones.map((_, i) => `dlv_${n}_${i}`);
  await db.prisma.delivery.createMany({
    data: phones.map((phone, i) => ({
      id: ids[i]!,
      notificationId: id,
      channel: 'sms',
      provider: 'twilio',
      target: phone,
      status: 'pending',
      content: { body: `hello ${i}` },
    })),
  });
  return ids;
}

function sender(sql: Sql = db.sql) {
  const delivery = loadDeliveryConfig({});
  const health = createProviderHealth({ db: db.prisma, alerts: delivery.alerts, clock: () => new Date() });
  return createChannelSender({ sql, providers, delivery, health, clock: () => new Date(), recordTimeoutMs: 1_000 });
}

/** The same database, but every write of answers fails (the database went away after the read). */
const failingWrites: () => Sql = () => ({
  query: async (text, params) => {
    if (/^\s*(WITH input|UPDATE deliveries d SET error)/.test(text)) throw new Error('Connection terminated');
    return db.sql.query(text, params);
  },
  transaction: (fn) => db.sql.transaction(fn),
});

const sms = (deliveryIds: string[]) => ({ channel: 'sms' as const, deliveryIds });
/** One attempt of the activity, as the worker would run it (the attempt number is what the engine passes). */
const attempt = (number: number) => ({
  run: (send: ReturnType<typeof sender>['sendChannel'], input: ReturnType<typeof sms>): Promise<TargetOutcome[]> =>
    new MockActivityEnvironment({ attempt: number }).run(send, input),
});

it('completes with the providers’ answers when the database cannot record them, and sends nothing twice', async () => {
  const ids = await notificationWith(['+14155550111', '+14155550112']);
  const answers = await attempt(1).run(sender(failingWrites()).sendChannel, sms(ids));
  expect(answers.map((a) => [a.outcome, 'recorded' in a && a.recorded])).toEqual([
    ['sent', false],
    ['sent', false],
  ]);
  expect(calls).toHaveLength(2);
  // Nothing written yet: the workflow records the answers it holds once the database is back.
  expect((await db.prisma.delivery.findMany({ where: { id: { in: ids } } })).map((d) => d.status)).toEqual([
    'pending',
    'pending',
  ]);
  await recordOutcomes(db.sql, answers);
  await recordOutcomes(db.sql, answers); // a retried record changes nothing
  const rows = await db.prisma.delivery.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  expect(rows.map((d) => [d.status, d.providerMessageId, d.content])).toEqual([
    ['sent', 'SM-1', null],
    ['sent', 'SM-2', null],
  ]);
  const events = await db.prisma.trackingEvent.findMany({ where: { deliveryId: { in: ids } } });
  expect(events.map((e) => e.type).sort()).toEqual(['sent', 'sent']);
  expect(calls).toHaveLength(2);
});

it('a retry after the answers were recorded (a worker that died before completing) does not send again', async () => {
  const ids = await notificationWith(['+14155550121']);
  const first = await attempt(1).run(sender().sendChannel, sms(ids));
  expect(first).toMatchObject([{ outcome: 'sent', recorded: true }]);
  const again = await attempt(2).run(sender().sendChannel, sms(ids));
  expect(again).toMatchObject([{ outcome: 'sent', providerMessageId: 'SM-1', recorded: true }]);
  expect(calls).toHaveLength(1);
});

it('answers a dead number beside a delivered one, and retries only the target that failed transiently', async () => {
  const ids = await notificationWith(['+14155550131', '+14155550132', '+14155550133']);
  script.set('+14155550132', ['dead']);
  script.set('+14155550133', ['down', 'down', 'ok']);
  const answers = await attempt(1).run(sender().sendChannel, sms(ids));
  expect(answers.map((a) => a.outcome)).toEqual(['sent', 'failed', 'retry']);
  expect(answers[1]).toMatchObject({ errorType: 'InvalidRecipient', recorded: true });
  // The workflow sends the third again, alone: an attempt in which nothing was answered throws for the engine to retry.
  const retrying = ids.slice(2);
  await expect(attempt(1).run(sender().sendChannel, sms(retrying))).rejects.toThrow(ApplicationFailure);
  const last = await attempt(2).run(sender().sendChannel, sms(retrying));
  expect(last).toMatchObject([{ outcome: 'sent' }]);
  expect(calls.map((c) => c.to)).toEqual([
    '+14155550131',
    '+14155550132',
    '+14155550133',
    '+14155550133',
    '+14155550133',
  ]);
  const rows = await db.prisma.delivery.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  expect(rows.map((d) => d.status)).toEqual(['sent', 'failed', 'sent']);
});

it('a canceled delivery is skipped, and a delivery that no longer exists is answered as not found', async () => {
  const [canceled] = await notificationWith(['+14155550141']);
  await db.prisma.delivery.update({ where: { id: canceled! }, data: { status: 'skipped', error: 'canceled' } });
  const answers: TargetOutcome[] = await attempt(1).run(sender().sendChannel, sms([canceled!, 'dlv_gone']));
  expect(answers).toMatchObject([{ outcome: 'skipped' }, { outcome: 'failed', errorType: 'NotFound', recorded: true }]);
  expect(calls).toHaveLength(0);
});

describe('finishing the notification', () => {
  const status = async (id: string) =>
    (await db.prisma.notification.findUniqueOrThrow({ where: { id } })).status as string;

  it('the channel that records the last pending target writes the final status and says so in its answers', async () => {
    const ids = await notificationWith(['+14155550151', '+14155550152']);
    const notificationId = `ntf_${n}`;
    // Two channels of one notification, in effect: the first half leaves a target pending, so nothing is final yet.
    const first = await attempt(1).run(sender().sendChannel, sms(ids.slice(0, 1)));
    expect(first).toMatchObject([{ outcome: 'sent', recorded: true }]);
    expect(first[0]).not.toHaveProperty('final');
    expect(await status(notificationId)).toBe('sending');
    script.set('+14155550152', ['dead']);
    const last = await attempt(1).run(sender().sendChannel, sms(ids.slice(1)));
    expect(last).toMatchObject([{ outcome: 'failed', recorded: true, final: 'partially_delivered' }]);
    expect(await status(notificationId)).toBe('partially_delivered');
  });

  it('leaves the final status to the workflow when its answers could not be recorded', async () => {
    const ids = await notificationWith(['+14155550161']);
    const answers = await attempt(1).run(sender(failingWrites()).sendChannel, sms(ids));
    expect(answers).toMatchObject([{ outcome: 'sent', recorded: false }]);
    expect(answers[0]).not.toHaveProperty('final');
    expect(await status(`ntf_${n}`)).toBe('sending');
  });

  it('two channels recording at once: exactly one of them finishes the notification', async () => {
    const ids = await notificationWith(['+14155550171', '+14155550172']);
    const [a, b] = await Promise.all(ids.map((id) => attempt(1).run(sender().sendChannel, sms([id]))));
    const finals = [...a!, ...b!].map((o) => ('final' in o ? o.final : undefined)).filter(Boolean);
    expect(finals).toEqual(['delivered']);
    expect(await status(`ntf_${n}`)).toBe('delivered');
  });
});
