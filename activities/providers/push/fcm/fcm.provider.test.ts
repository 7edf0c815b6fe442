import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

import { FcmFake, fcmError, fcmInvalidTokenError, generateServiceAccount } from '../../../../test/fakes/fcm.fake';
import { createTestCa } from '../../../../test/fakes/tls';
import type { PushRequest } from '../../provider.types';
import { FcmPushProvider } from './fcm.provider';
import type { FcmPushProviderOptions } from './fcm.provider';
import { providerFailure } from '../../../../test/support/provider-failure';

const PROJECT = 'herald-test';
const DEVICE_TOKEN = 'dGVzdC1kZXZpY2U:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx';
const account = generateServiceAccount(PROJECT);

let fake: FcmFake;
let provider: FcmPushProvider | undefined;

function request(overrides: Partial<PushRequest> = {}): PushRequest {
  return {
    token: DEVICE_TOKEN,
    platform: 'android',
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

function makeProvider(options: Partial<FcmPushProviderOptions> = {}): FcmPushProvider {
  provider = new FcmPushProvider({
    projectId: PROJECT,
    credentials: account.credentials,
    endpoint: fake.url,
    ...options,
  });
  return provider;
}

beforeEach(async () => {
  fake = new FcmFake({
    projectId: PROJECT,
    clientEmail: account.credentials.client_email,
    publicKeyPem: account.publicKeyPem,
  });
  await fake.start();
});

afterEach(async () => {
  await provider?.close();
  provider = undefined;
  await fake.stop();
});

describe('FcmPushProvider', () => {
  test('exchanges the service-account key for a token, then posts the message with it', async () => {
    const result = await makeProvider().send(request());

    expect(fake.requests.map((r) => r.kind)).toEqual(['token', 'send']);
    const [exchange, send] = fake.requests;
    expect(exchange).toMatchObject({
      method: 'POST',
      path: '/token',
      headers: { host: 'oauth2.googleapis.com' },
      body: { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' },
    });
    expect(send).toMatchObject({
      method: 'POST',
      path: `/v1/projects/${PROJECT}/messages:send`,
      headers: { host: 'fcm.googleapis.com', authorization: `Bearer ${fake.issuedTokens[0]}` },
    });
    expect(send?.body).toEqual({
      message: {
        token: DEVICE_TOKEN,
        notification: { title: 'Order shipped', body: 'Your order is on its way' },
        data: { orderId: '42', herald_delivery_id: 'delivery-42' },
        android: {
          priority: 'high',
          ttl: '86400s',
          notification: { tag: 'delivery-42', sound: 'ping', notification_count: 3 },
        },
      },
    });
    expect(result.providerMessageId).toMatch(new RegExp(`^projects/${PROJECT}/messages/0:\\d+%[0-9a-f]+$`));
  });

  test('reuses the access token for later sends', async () => {
    const fcm = makeProvider();
    await fcm.send(request());
    await fcm.send(request({ idempotencyKey: 'delivery-43' }));
    expect(fake.requests.map((r) => r.kind)).toEqual(['token', 'send', 'send']);
    expect(fake.sends.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${fake.issuedTokens[0]}`,
      `Bearer ${fake.issuedTokens[0]}`,
    ]);
  });

  test('a web push carries a webpush notification tagged with the delivery id', async () => {
    await makeProvider().send(request({ platform: 'web', message: { title: 'T', body: 'B' } }));
    expect(fake.sends[0]?.body).toEqual({
      message: {
        token: DEVICE_TOKEN,
        notification: { title: 'T', body: 'B' },
        data: { herald_delivery_id: 'delivery-42' },
        webpush: {
          headers: { TTL: '86400', Urgency: 'high' },
          notification: { title: 'T', body: 'B', tag: 'delivery-42' },
        },
      },
    });
  });

  test('an iOS device reached through FCM gets the APNs collapse id', async () => {
    await makeProvider().send(request({ platform: 'ios' }));
    const message = (fake.sends[0]?.body as { message: Record<string, unknown> }).message;
    expect(message.apns).toMatchObject({
      headers: { 'apns-push-type': 'alert', 'apns-priority': '10', 'apns-collapse-id': 'delivery-42' },
      payload: { aps: { badge: 3, sound: 'ping' } },
    });
  });

  test('works through an https endpoint with an extra trusted CA', async () => {
    await fake.stop();
    const ca = await createTestCa();
    fake = new FcmFake({ projectId: PROJECT, tls: ca });
    await fake.start();
    expect(fake.url).toMatch(/^https:/);
    await expect(makeProvider({ caPem: fake.caPem }).send(request())).resolves.toHaveProperty('providerMessageId');
    expect(fake.requests.map((r) => r.kind)).toEqual(['token', 'send']);
  });

  test('UNREGISTERED (404) is permanent for the target', async () => {
    fake.enqueue(fcmError('UNREGISTERED'));
    const error = await providerFailure(makeProvider().send(request()));
    expect(error).toMatchObject({ kind: 'permanent_target', code: 'messaging/registration-token-not-registered' });
    expect(error.message).not.toContain(DEVICE_TOKEN);
  });

  test('INVALID_ARGUMENT about the registration token is permanent for the target', async () => {
    fake.enqueue(fcmInvalidTokenError());
    const error = await providerFailure(makeProvider().send(request()));
    expect(error).toMatchObject({ kind: 'permanent_target', code: 'messaging/invalid-argument' });
  });

  test('a token the fake itself finds malformed is permanent for the target', async () => {
    const error = await providerFailure(makeProvider().send(request({ token: 'not a token!' })));
    expect(error).toMatchObject({ kind: 'permanent_target', code: 'messaging/invalid-argument' });
    expect(error.message).not.toContain('not a token!');
  });

  test('SENDER_ID_MISMATCH is permanent for the target', async () => {
    fake.enqueue(fcmError('SENDER_ID_MISMATCH'));
    const error = await providerFailure(makeProvider().send(request()));
    expect(error).toMatchObject({ kind: 'permanent_target', code: 'messaging/mismatched-credential' });
  });

  test('INVALID_ARGUMENT about the payload is a permanent problem with the request', async () => {
    fake.enqueue(fcmError('INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "bogus" at \'message\''));
    const error = await providerFailure(makeProvider().send(request()));
    expect(error).toMatchObject({ kind: 'permanent_request', code: 'messaging/invalid-argument' });
  });

  test('a project the service account may not send for is a permanent problem with the request', async () => {
    const error = await providerFailure(makeProvider({ projectId: 'someone-elses-project' }).send(request()));
    expect(error).toMatchObject({ kind: 'permanent_request', code: 'messaging/mismatched-credential' });
  });

  test('THIRD_PARTY_AUTH_ERROR is a permanent problem with the request', async () => {
    fake.enqueue(fcmError('THIRD_PARTY_AUTH_ERROR'));
    const error = await providerFailure(makeProvider().send(request()));
    expect(error).toMatchObject({ kind: 'permanent_request', code: 'messaging/third-party-auth-error' });
  });

  test('a key Google does not accept (invalid_grant) is a permanent problem with the request', async () => {
    const stranger = generateServiceAccount(PROJECT);
    const error = await providerFailure(
      makeProvider({ credentials: { ...stranger.credentials, client_email: account.credentials.client_email } }).send(
        request(),
      ),
    );
    expect(error).toMatchObject({ kind: 'permanent_request', code: 'oauth/invalid_grant', details: { status: 400 } });
    expect(fake.sends).toHaveLength(0);
  });

  test('QUOTA_EXCEEDED (429) is transient', async () => {
    fake.enqueue(fcmError('QUOTA_EXCEEDED'));
    const error = await providerFailure(makeProvider().send(request()));
    expect(error).toMatchObject({ kind: 'transient', code: 'messaging/message-rate-exceeded' });
  });

  test('UNAVAILABLE (503) is transient and not retried inside the SDK', async () => {
    fake.enqueue(fcmError('UNAVAILABLE'));
    const error = await providerFailure(makeProvider().send(request()));
    expect(error).toMatchObject({ kind: 'transient', code: 'messaging/server-unavailable' });
    expect(fake.sends).toHaveLength(1);
  });

  test('with sdkMaxRetries the SDK re-sends a 503 itself', async () => {
    fake.enqueue(fcmError('UNAVAILABLE'));
    await expect(makeProvider({ sdkMaxRetries: 1 }).send(request())).resolves.toHaveProperty('providerMessageId');
    expect(fake.sends.map((r) => r.response)).toEqual([
      expect.objectContaining({ status: 503 }),
      expect.objectContaining({ status: 200 }),
    ]);
  });

  test('INTERNAL (500) is transient', async () => {
    fake.enqueue(fcmError('INTERNAL'));
    const error = await providerFailure(makeProvider().send(request()));
    expect(error).toMatchObject({ kind: 'transient', code: 'messaging/internal-error' });
  });

  test('a token endpoint in trouble (503) is transient, and the next attempt recovers', async () => {
    fake.enqueueToken({ status: 503, body: { error: 'temporarily_unavailable' } });
    const fcm = makeProvider();
    const error = await providerFailure(fcm.send(request()));
    expect(error).toMatchObject({ kind: 'transient', code: 'oauth/temporarily_unavailable', details: { status: 503 } });
    await expect(fcm.send(request())).resolves.toHaveProperty('providerMessageId');
  });

  test('a connection cut mid-request is transient', async () => {
    const fcm = makeProvider();
    await fcm.send(request());
    fake.enqueue({ drop: true });
    const error = await providerFailure(fcm.send(request()));
    expect(error).toMatchObject({ kind: 'transient', code: 'app/network-error' });
  });

  test('a refused connection is transient', async () => {
    const fcm = makeProvider({ endpoint: `http://127.0.0.1:${await closedPort()}` });
    const error = await providerFailure(fcm.send(request()));
    expect(error).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
  });

  test('refuses an unusable private key without echoing it', () => {
    const build = () =>
      new FcmPushProvider({
        projectId: PROJECT,
        credentials: { client_email: 'a@b.c', private_key: 'secret-not-a-key' },
      });
    expect(build).toThrow(/has no usable private_key/);
    expect(build).not.toThrow(/secret/);
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
