/**
 * A digest survives `kill -9`: events accepted into an open batch, then everything `npm start` started killed, then a
 * restart on the same data folder → one message carrying every event, sent once. Runs the real start script.
 */
import type { ChildProcess } from 'node:child_process';
import { setUpNpmStart, type NpmStartSetup } from '../support/npm-start';
import { until } from '../support/until';

jest.setTimeout(240_000);

const EVENTS = 12;

let setup: NpmStartSetup;
let child: ChildProcess | undefined;

beforeAll(async () => {
  setup = await setUpNpmStart('digest-crash', 'digest-crash-api-key-0123456789');
});

afterAll(async () => {
  await setup?.cleanup(child);
});

it('after kill -9 while a batch is open, a restart sends one digest with every event', async () => {
  child = setup.start();
  await setup.waitReady();
  expect((await setup.api('PUT', '/v1/users/batch-user', { phone: '+14155550123' })).status).toBe(201);
  expect(
    (
      await setup.api('PUT', '/v1/templates/digest', {
        channels: { sms: { body: '{{ count }} events:{% for e in events %} {{ e.data.n }}{% endfor %}' } },
      })
    ).status,
  ).toBe(201);

  const accepted = await Promise.all(
    Array.from({ length: EVENTS }, (_, n) =>
      setup.api('POST', '/v1/notifications', {
        userId: 'batch-user',
        template: 'digest',
        data: { n },
        digest: { window: '20s' },
      }),
    ),
  );
  expect(accepted.map((a) => a.status)).toEqual(Array(EVENTS).fill(202));
  // Killed at once: the batch is open (its window has 20 s to go) and nothing has been sent.
  process.kill(-child.pid!, 'SIGKILL');
  await new Promise((resolve) => child!.once('exit', resolve));
  expect(setup.twilio.sent).toHaveLength(0);

  child = setup.start();
  await setup.waitReady();
  const events = await until(
    'every event to be digested',
    async () => {
      const all = await Promise.all(
        accepted.map(async (a) => (await setup.api('GET', `/v1/notifications/${a.body.id}`)).body),
      );
      return all.every((n) => n.status === 'digested') && setup.twilio.sent.length > 0 ? all : undefined;
    },
    { timeoutMs: 150_000, retryOn: () => true },
  );
  const digestIds = new Set(events.map((e) => e.digestId));
  expect(digestIds.size).toBe(1);
  const [digestId] = [...digestIds];
  await until(
    'the digest to be delivered',
    async () =>
      (await setup.api('GET', `/v1/notifications/${digestId}`)).body.status === 'delivered' ? true : undefined,
    { timeoutMs: 60_000, retryOn: () => true },
  );
  expect(setup.twilio.sent).toHaveLength(1);
  const numbers = setup.twilio.sent[0]!.body.replace(/^\d+ events: /, '')
    .split(' ')
    .map(Number);
  expect(setup.twilio.sent[0]!.body.startsWith(`${EVENTS} events:`)).toBe(true);
  expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: EVENTS }, (_, n) => n));
});
