import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

import { ApnsFake, apnsError, generateApnsKey } from '../../../../test/fakes/apns.fake';
import { createTestCa } from '../../../../test/fakes/tls';
import type { TestCa } from '../../../../test/fakes/tls';
import type { PushRequest } from '../../provider.types';
import { ApnsPushProvider } from './apns.provider';
import { providerFailure } from '../../../../test/support/provider-failure';

const KEY_ID = 'ABC123DEFG';
const TEAM_ID = 'TEAM123456';
const TOPIC = 'com.example.herald';
const DEVICE_TOKEN = 'a1b2c3d4'.repeat(8);

const key = generateApnsKey();
let ca: TestCa;
let fake: ApnsFake;
let provider: ApnsPushProvider;

function request(overrides: Partial<PushRequest> = {}): PushRequest {
  return {
    token: DEVICE_TOKEN,
    platform: 'ios',
    idempotencyKey: 'delivery-42',
    message: {
      title: 'Order shipped',
      body: 'Your order is on its way',
      data: { orderId: '42' },
      badge: 3,
      sound: 'ping',
    },
    ...overrides,
  };
}

beforeAll(async () => {
  ca = await createTestCa();
});

beforeEach(async () => {
  fake = new ApnsFake({ keyId: KEY_ID, teamId: TEAM_ID, publicKeyPem: key.publicKeyPem, ca });
  const endpoint = await fake.start();
  provider = new ApnsPushProvider({
    keyPem: key.keyPem,
    keyId: KEY_ID,
    teamId: TEAM_ID,
    topic: TOPIC,
    endpoint,
    caPem: fake.caPem,
  });
});

afterEach(async () => {
  await provider.close();
  await fake.stop();
});

describe('ApnsPushProvider', () => {
  test('sends an alert to /3/device/{token} with the headers and payload APNs expects', async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await provider.send(request());

    expect(fake.requests).toHaveLength(1);
    const [sent] = fake.requests;
    expect(sent).toMatchObject({
      method: 'POST',
      path: `/3/device/${DEVICE_TOKEN}`,
      headers: {
        'apns-topic': TOPIC,
        'apns-push-type': 'alert',
        'apns-priority': '10',
        'apns-collapse-id': 'delivery-42',
      },
      body: {
        aps: { alert: { title: 'Order shipped', body: 'Your order is on its way' }, badge: 3, sound: 'ping' },
        orderId: '42',
      },
    });
    const expiration = Number(sent?.headers['apns-expiration']);
    expect(expiration).toBeGreaterThanOrEqual(before + 24 * 60 * 60);
    expect(expiration).toBeLessThanOrEqual(before + 24 * 60 * 60 + 5);
    expect(sent?.headers.authorization).toMatch(/^bearer /);
    expect(sent?.jwt?.header).toMatchObject({ alg: 'ES256', kid: KEY_ID });
    expect(sent?.jwt?.payload).toMatchObject({ iss: TEAM_ID });
    // The apns-id is derived from the idempotency key, so every attempt of a delivery carries the same one.
    expect(sent?.headers['apns-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(result).toEqual({ providerMessageId: sent?.headers['apns-id'] });
  });

  test('returns the apns-id APNs answered with', async () => {
    fake.enqueue({ status: 200, headers: { 'apns-id': '6E0F1A4B-0000-4000-8000-000000000001' } });
    await expect(provider.send(request())).resolves.toEqual({
      providerMessageId: '6E0F1A4B-0000-4000-8000-000000000001',
    });
  });

  test('omits badge and sound when the message has none, and reuses one HTTP/2 session', async () => {
    await provider.send(request({ message: { title: 'T', body: 'B' } }));
    await provider.send(request({ idempotencyKey: 'delivery-43', message: { title: 'T', body: 'B' } }));
    expect(fake.requests.map((r) => r.body)).toEqual([
      { aps: { alert: { title: 'T', body: 'B' } } },
      { aps: { alert: { title: 'T', body: 'B' } } },
    ]);
    expect(fake.sessionCount).toBe(1);
  });

  test('410 Unregistered is permanent for the target', async () => {
    fake.enqueue(apnsError('Unregistered'));
    const error = await providerFailure(provider.send(request()));
    expect(error).toMatchObject({ kind: 'permanent_target', code: 'Unregistered', details: { status: 410 } });
    expect(error.message).not.toContain(DEVICE_TOKEN);
  });

  test.each(['BadDeviceToken', 'DeviceTokenNotForTopic'])('400 %s is permanent for the target', async (reason) => {
    fake.enqueue(apnsError(reason));
    const error = await providerFailure(provider.send(request()));
    expect(error).toMatchObject({ kind: 'permanent_target', code: reason, details: { status: 400 } });
  });

  test.each([
    ['PayloadTooLarge', 413],
    ['BadTopic', 400],
    ['InvalidProviderToken', 403],
  ])('%s is a permanent problem with the request', async (reason, status) => {
    fake.enqueue(apnsError(reason));
    const error = await providerFailure(provider.send(request()));
    expect(error).toMatchObject({ kind: 'permanent_request', code: reason, details: { status } });
  });

  test('a payload over 4 KB is refused by APNs as a permanent problem with the request', async () => {
    const error = await providerFailure(provider.send(request({ message: { title: 'T', body: 'x'.repeat(5000) } })));
    expect(error).toMatchObject({ kind: 'permanent_request', code: 'PayloadTooLarge', details: { status: 413 } });
  });

  test('a token signed with a key APNs does not know is rejected as a permanent request problem', async () => {
    await provider.close();
    provider = new ApnsPushProvider({
      keyPem: generateApnsKey().keyPem,
      keyId: KEY_ID,
      teamId: TEAM_ID,
      topic: TOPIC,
      endpoint: fake.url,
      caPem: fake.caPem,
    });
    const error = await providerFailure(provider.send(request()));
    expect(error).toMatchObject({ kind: 'permanent_request', code: 'InvalidProviderToken', details: { status: 403 } });
  });

  test.each([
    ['TooManyRequests', 429],
    ['InternalServerError', 500],
    ['ServiceUnavailable', 503],
  ])('%s is transient and left to the retry policy (the SDK does not retry)', async (reason, status) => {
    fake.enqueue(apnsError(reason));
    const error = await providerFailure(provider.send(request()));
    expect(error).toMatchObject({ kind: 'transient', details: { status } });
    expect(fake.requests).toHaveLength(1);
  });

  test('403 ExpiredProviderToken is transient: the SDK has already made a fresh token for the next attempt', async () => {
    fake.enqueue(apnsError('ExpiredProviderToken'));
    const error = await providerFailure(provider.send(request()));
    expect(error).toMatchObject({ kind: 'transient', code: 'ExpiredProviderToken', details: { status: 403 } });
    await provider.send(request());
    const [first, second] = fake.requests;
    expect(second?.headers.authorization).not.toEqual(first?.headers.authorization);
  });

  test('with connectionRetryLimit the SDK re-sends a 503 itself', async () => {
    await provider.close();
    provider = new ApnsPushProvider({
      keyPem: key.keyPem,
      keyId: KEY_ID,
      teamId: TEAM_ID,
      topic: TOPIC,
      endpoint: fake.url,
      caPem: fake.caPem,
      connectionRetryLimit: 1,
    });
    fake.enqueue(apnsError('ServiceUnavailable'));
    await expect(provider.send(request())).resolves.toHaveProperty('providerMessageId');
    expect(fake.requests.map((r) => r.response)).toEqual([expect.objectContaining({ status: 503 }), { status: 200 }]);
  });

  test('a stream reset without an answer is transient', async () => {
    fake.enqueue({ drop: true });
    const error = await providerFailure(provider.send(request()));
    expect(error.kind).toBe('transient');
    expect(error.details.status).toBeUndefined();
    expect(error.message).not.toContain(DEVICE_TOKEN);
  });

  test('a refused connection is transient', async () => {
    await provider.close();
    provider = new ApnsPushProvider({
      keyPem: key.keyPem,
      keyId: KEY_ID,
      teamId: TEAM_ID,
      topic: TOPIC,
      endpoint: `https://127.0.0.1:${await closedPort()}`,
      caPem: fake.caPem,
    });
    const error = await providerFailure(provider.send(request()));
    expect(error).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
  });

  test('a server certificate from an untrusted CA is refused (transient: the retry policy surfaces it)', async () => {
    await provider.close();
    provider = new ApnsPushProvider({
      keyPem: key.keyPem,
      keyId: KEY_ID,
      teamId: TEAM_ID,
      topic: TOPIC,
      endpoint: fake.url,
    });
    const error = await providerFailure(provider.send(request()));
    expect(error.kind).toBe('transient');
    expect(fake.requests).toHaveLength(0);
  });

  test('refuses a key that is not a P-256 private key without echoing it', () => {
    expect(
      () => new ApnsPushProvider({ keyPem: 'not-a-key-secret', keyId: KEY_ID, teamId: TEAM_ID, topic: TOPIC }),
    ).toThrow(/^APNs key is not a P-256 private key/);
    expect(
      () => new ApnsPushProvider({ keyPem: 'not-a-key-secret', keyId: KEY_ID, teamId: TEAM_ID, topic: TOPIC }),
    ).not.toThrow(/secret/);
  });
});

/** A port nothing listens on: bind one, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
