/**
 * The embedded default supervises the Temporal dev server it starts: killed with `kill -9` under a running
 * `npm start` (as the OOM killer would), it is started again on the same data, /readyz says what is happening
 * meanwhile, and notifications accepted before, scheduled across and sent during the outage are all delivered,
 * exactly once, with no restart by hand. Runs the real start script as a child process, as an operator would.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setUpNpmStart, type NpmStartSetup } from '../support/npm-start';
import { until } from '../support/until';

jest.setTimeout(240_000);

let setup: NpmStartSetup;
let herald: ChildProcess | undefined;
let baseUrl: string;
let dataDir: string;
const api: NpmStartSetup['api'] = (...args) => setup.api(...args);
const heraldLog = () => setup.log();
const logLines = () =>
  heraldLog()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string });
const temporalPid = () => Number(fs.readFileSync(path.join(dataDir, 'temporal.pid'), 'utf8'));

beforeAll(async () => {
  setup = await setUpNpmStart('supervision', 'supervision-test-api-key-0123456789', 'info');
  ({ baseUrl, dataDir } = setup);
  herald = setup.start();
});

afterAll(async () => {
  await setup?.cleanup(herald);
});

it('after kill -9 of the embedded Temporal dev server, Herald restarts it and delivers accepted, scheduled and new notifications once', async () => {
  await setup.waitReady(120_000);
  expect((await api('PUT', '/v1/users/sup-user', { phone: '+14155550123' })).status).toBe(201);
  expect((await api('PUT', '/v1/templates/ping', { channels: { sms: { body: 'ping {{ n }}' } } })).status).toBe(201);

  const accepted = await api('POST', '/v1/notifications', { userId: 'sup-user', template: 'ping', data: { n: 1 } });
  expect(accepted.status).toBe(202);
  const sendAt = new Date(Date.now() + 6_000).toISOString();
  const scheduled = await api('POST', '/v1/notifications', {
    userId: 'sup-user',
    template: 'ping',
    data: { n: 2 },
    sendAt,
  });
  expect(scheduled.status).toBe(202);

  // The OOM killer's way: no warning, no clean-up.
  const killed = temporalPid();
  process.kill(killed, 'SIGKILL');

  // Herald notices at once and logs it; until the server is back (a backoff of 1 s, then a start of a few), /readyz
  // says what is happening.
  await until(
    'the supervisor to log the exit',
    async () => (logLines().some((l) => /dev server stopped/.test(l.msg)) ? true : undefined),
    { timeoutMs: 30_000, intervalMs: 20 },
  );
  const restarting = await until(
    () => `readyz to report the restart (log: ${heraldLog().slice(-3000)})`,
    async () => {
      const response = await fetch(`${baseUrl}/readyz`);
      const body = (await response.json()) as { embeddedTemporal?: { state: string } };
      return body.embeddedTemporal?.state === 'restarting' ? { status: response.status, body } : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50, retryOn: () => true },
  );
  expect(restarting.status).toBe(503);
  expect(restarting.body).toMatchObject({
    status: 'not_ready',
    checks: { temporal: false },
    embeddedTemporal: { state: 'restarting', detail: expect.stringMatching(/restart/) },
  });

  // A new notification, sent as a client would: retried with the same Idempotency-Key until it is accepted.
  const retries: number[] = [];
  const fresh = await until(
    'the new notification to be accepted',
    async () => {
      const response = await api(
        'POST',
        '/v1/notifications',
        { userId: 'sup-user', template: 'ping', data: { n: 3 } },
        { 'Idempotency-Key': 'supervision-new-1' },
      );
      if (response.status === 202) return response;
      retries.push(response.status);
      expect(response.status).toBe(503);
      return undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );

  const ids = [accepted.body.id, scheduled.body.id, fresh.body.id] as string[];
  const done = await until(
    'every notification to be delivered',
    async () => {
      const all = await Promise.all(ids.map(async (id) => (await api('GET', `/v1/notifications/${id}`)).body));
      return all.every((n) => n.status === 'delivered') ? all : undefined;
    },
    { timeoutMs: 120_000, retryOn: () => true },
  );
  expect(done.map((n) => n.status)).toEqual(['delivered', 'delivered', 'delivered']);
  expect(Date.parse(done[1].deliveries[0].at)).toBeGreaterThanOrEqual(Date.parse(sendAt));
  // Each reached the provider exactly once.
  expect(setup.twilio.sent.map((m) => m.body).sort()).toEqual(['ping 1', 'ping 2', 'ping 3']);

  // No restart by hand: the same Herald process, now with a new dev server, and ready.
  expect(herald!.exitCode).toBeNull();
  expect(temporalPid()).not.toBe(killed);
  const ready = await fetch(`${baseUrl}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ status: 'ready', embeddedTemporal: { state: 'running', restarts: 1 } });

  // The log says it once per event, not once per retried gRPC call.
  const lines = logLines();
  expect(lines.filter((l) => /dev server stopped \(killed by SIGKILL\); restarting/.test(l.msg))).toHaveLength(1);
  expect(lines.filter((l) => /dev server is back \(restart 1/.test(l.msg))).toHaveLength(1);
  const retryWarnings = lines.filter((l) => l.level >= 40 && /^gRPC call \w+ retried/.test(l.msg));
  expect(retryWarnings.length).toBeLessThanOrEqual(2);
  const back = lines.find((l) => /is back/.test(l.msg)) as { downMs?: number } | undefined;
  console.log(
    `supervision: the dev server was down ${back?.downMs} ms; the new notification met ${retries.length} × 503 ` +
      `before its 202; ${retryWarnings.length} gRPC retry warnings logged`,
  );
}, 240_000);
