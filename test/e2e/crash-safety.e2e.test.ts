/**
 * The embedded default keeps its promises: `kill -9` of everything `npm start` started (API, worker, Temporal dev
 * server, embedded database) while notifications are in flight, then a restart on the same data folder, loses
 * nothing and sends nothing twice. Runs the real start script as a child process, as an operator would.
 */
import type { ChildProcess } from 'node:child_process';
import { setUpNpmStart, type NpmStartSetup } from '../support/npm-start';
import { until } from '../support/until';

jest.setTimeout(240_000);

const NOTIFICATIONS = 8;
const HELD = 3;

let setup: NpmStartSetup;
let child: ChildProcess | undefined;
const api: NpmStartSetup['api'] = (...args) => setup.api(...args);
const startHerald = () => setup.start();
const twilio = () => setup.twilio;

function killEverything(proc: ChildProcess): void {
  process.kill(-proc.pid!, 'SIGKILL');
}

const waitReady = () => setup.waitReady();

beforeAll(async () => {
  setup = await setUpNpmStart('crash', 'crash-test-api-key-0123456789');
});

afterAll(async () => {
  await setup?.cleanup(child);
});

it('after kill -9 of everything npm start started, a restart on the same .data delivers every accepted notification exactly once', async () => {
  child = startHerald();
  await waitReady();
  expect((await api('PUT', '/v1/users/crash-user', { phone: '+14155550123' })).status).toBe(201);
  expect((await api('PUT', '/v1/templates/ping', { channels: { sms: { body: 'ping {{ n }}' } } })).status).toBe(201);

  // The first SMS requests get no answer: they are in flight at the provider when everything dies.
  for (let i = 0; i < HELD; i++) twilio().enqueue({ fault: 'no-response' });
  const accepted: string[] = [];
  for (let n = 0; n < NOTIFICATIONS; n++) {
    const response = await api('POST', '/v1/notifications', { userId: 'crash-user', template: 'ping', data: { n } });
    expect(response.status).toBe(202);
    accepted.push(response.body.id);
  }
  // Kill once the provider has accepted and Herald has recorded the others, so the only work in flight is the held
  // requests. (A worker that dies between a provider's acceptance and the record is the at-least-once window the
  // README describes; it is not what this test is about.)
  await until(
    'the other notifications to be recorded',
    async () => {
      if (twilio().requests.length < NOTIFICATIONS) return undefined;
      const all = await Promise.all(accepted.map(async (id) => (await api('GET', `/v1/notifications/${id}`)).body));
      return all.filter((n) => n.status === 'delivered').length === NOTIFICATIONS - HELD ? true : undefined;
    },
    { timeoutMs: 90_000, retryOn: () => true },
  );
  expect(twilio().sent).toHaveLength(NOTIFICATIONS - HELD);

  killEverything(child);
  await new Promise((resolve) => child!.once('exit', resolve));

  child = startHerald();
  await waitReady();
  const statuses = await until(
    'every notification to finish',
    async () => {
      const all = await Promise.all(accepted.map(async (id) => (await api('GET', `/v1/notifications/${id}`)).body));
      return all.every((n) => n.status === 'delivered') ? all : undefined;
    },
    { timeoutMs: 150_000, retryOn: () => true },
  );

  expect(statuses.map((n) => n.status)).toEqual(Array(NOTIFICATIONS).fill('delivered'));
  // Every accepted notification reached the provider, and the provider accepted each exactly once.
  const bodies = twilio()
    .sent.map((m) => m.body)
    .sort();
  expect(bodies).toEqual(Array.from({ length: NOTIFICATIONS }, (_, n) => `ping ${n}`).sort());
}, 240_000);
