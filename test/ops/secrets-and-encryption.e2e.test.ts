/**
 * Secrets and personal data stay out of logs and out of Temporal: full notifications through all six providers
 * (APNs, FCM, Twilio, Vonage by failover, SendGrid, SMTP), with retried and permanent provider failures, while every log line of
 * the API, the worker and the Temporal SDK is captured. Then the histories are fetched raw from Temporal: every
 * payload is ciphertext, and neither the raw history nor its decrypted payloads contain a secret, the user's email
 * or phone. The Web UI's path — a browser session at /codec/login, CORS preflight, /codec/decode — gives back the
 * originals.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ENCRYPTED_ENCODING, formatEncryptionKeys, generateEncryptionKey, KEY_ID_METADATA } from '../../contract/codec';
import { createLogger } from '../../platform/logger';
import { temporalBinary } from '../../server/temporal-binaries';
import { installTemporalRuntime } from '../../platform/temporal-runtime';
import { twilioError } from '../fakes/twilio.fake';
import { VonageFake } from '../fakes/vonage.fake';
import { startTestHerald, TEST_API_KEY, waitForNotification, type TestHerald } from '../support/herald';
import { startProviderFakes, type ProviderFakes } from '../support/provider-fakes';
import { formsIn } from '../support/secret-forms';
import { createLocalTemporal } from '../support/temporal';

jest.setTimeout(180_000);

const EMAIL = 'ada.lovelace.private@example.org';
const PHONE = '+14155550123';
const UI_ORIGIN = 'http://localhost:8080';
const KEYS = [generateEncryptionKey('2026-11'), generateEncryptionKey('2026-10')];

const lines: string[] = [];
// The most verbose level (everything LOG_LEVEL=debug prints, and more): the SDK's debug lines include each worker's
// options, data converter and codec among them.
const logger = createLogger('trace', {
  destination: new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  }),
});

let temporal: TestWorkflowEnvironment;
let fakes: ProviderFakes;
let vonage: VonageFake;
let sendgridHerald: TestHerald;
let smtpHerald: TestHerald;
let secrets: Record<string, string | Buffer>;

async function runNotifications(herald: TestHerald, userId: string) {
  await herald.api('PUT', '/v1/templates/receipt', {
    channels: {
      push: { title: 'Receipt for {{ user.name }}', body: 'Order {{ order }}' },
      sms: { body: 'Order {{ order }} confirmed' },
      email: { subject: 'Order {{ order }}', text: 'Thanks {{ user.name }}' },
    },
  });
  expect((await herald.api('PUT', `/v1/users/${userId}`, { email: EMAIL, phone: PHONE, name: 'Ada' })).status).toBe(
    201,
  );
  const apnsToken = createHash('sha256').update(userId).digest('hex');
  await herald.api('POST', `/v1/users/${userId}/devices`, { platform: 'ios', token: apnsToken });
  await herald.api('POST', `/v1/users/${userId}/devices`, { platform: 'android', token: `fcm-token-${userId}-0123` });

  // First: every provider delivers; Twilio answers 500 once, so a retried failure is in the history too.
  fakes.twilio.enqueue(twilioError(500, 20500, 'Internal Server Error'));
  const first = await herald.api('POST', '/v1/notifications', { userId, template: 'receipt', data: { order: 'A-1' } });
  expect(first.status).toBe(202);
  const delivered = await waitForNotification(herald, first.body.id);
  expect(delivered.deliveries.filter((d: { status: string }) => d.status !== 'sent')).toEqual([]);
  expect(delivered.status).toBe('delivered');
  expect(delivered.deliveries.map((d: { provider: string }) => d.provider).sort()).toEqual(
    ['apns', 'fcm', 'twilio', herald.config.providers.email].sort(),
  );

  let failover: string | undefined;
  if (herald.config.providers.vonage) {
    // Then: Twilio refuses Herald's credentials (permanent, Herald's side), so the SMS fails over to Vonage.
    fakes.twilio.enqueue(twilioError(401, 20003, 'Authenticate'));
    const response = await herald.api('POST', '/v1/notifications', {
      userId,
      template: 'receipt',
      data: { order: 'A-3' },
    });
    const failedOver = await waitForNotification(herald, response.body.id);
    expect(failedOver.status).toBe('delivered');
    expect(failedOver.deliveries.find((d: { channel: string }) => d.channel === 'sms')).toMatchObject({
      provider: 'vonage',
      status: 'sent',
    });
    failover = response.body.id;
  }

  // Last: Twilio refuses the number permanently, quoting it — the kind of text that must not leak (and the number
  // is flagged, so it comes last).
  fakes.twilio.enqueue(twilioError(400, 21211, `The 'To' number ${PHONE} is not a valid phone number.`));
  const refused = await herald.api('POST', '/v1/notifications', {
    userId,
    template: 'receipt',
    data: { order: 'A-2' },
  });
  const partial = await waitForNotification(herald, refused.body.id);
  expect(partial.status).toBe('partially_delivered');
  const sms = partial.deliveries.find((d: { channel: string }) => d.channel === 'sms');
  expect(sms.status).toBe('failed');
  expect(sms.error).toMatch(/number \[(number|redacted)\] is not a valid/);

  // Herald's database keeps a sent delivery's rendered message no longer than it takes to send it (then only tracked
  // links' targets, and these templates have none); a failed one keeps it for the failed queue's re-drive.
  const ids = [first.body.id as string, ...(failover ? [failover] : []), refused.body.id as string];
  const kept = await herald.db.prisma.delivery.findMany({
    where: { notificationId: { in: ids }, status: 'sent' },
    select: { content: true },
  });
  expect(kept.length).toBeGreaterThanOrEqual(7);
  expect(kept.map((d) => d.content)).toEqual(kept.map(() => null));
  return ids;
}

/** Every string and byte array in a history, as text (bytes as UTF-8 and base64), to grep. */
function dump(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'), Buffer.from(value).toString('base64'));
  else if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => dump(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => dump(v, out));
  return out;
}

/** Every Payload in a history, with where it is (to name the event if one is not encrypted). */
function payloadsAt(value: unknown, at = '', out: { at: string; payload: Payload }[] = []) {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => payloadsAt(v, `${at}[${i}]`, out));
    return out;
  }
  const record = value as Record<string, unknown>;
  if (record.metadata && typeof record.metadata === 'object' && 'data' in record)
    out.push({ at, payload: record as Payload });
  else Object.entries(record).forEach(([k, v]) => payloadsAt(v, `${at}.${k}`, out));
  return out;
}
const payloadsIn = (value: unknown): Payload[] => payloadsAt(value).map((p) => p.payload);

async function historiesOf(herald: TestHerald, ids: string[]) {
  return Promise.all(
    ids.map(async (id) => {
      const row = await herald.db.prisma.notification.findUniqueOrThrow({ where: { id } });
      // Raw from the server: fetchHistory applies no codec.
      return herald.client.workflow.getHandle(row.workflowId).fetchHistory();
    }),
  );
}

type JsonPayload = { metadata: Record<string, string>; data: string };
type ErrorBody = { error: { code: string } };
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

beforeAll(async () => {
  installTemporalRuntime({ logger, coreLogLevel: 'INFO' });
  temporal = await createLocalTemporal();
  fakes = await startProviderFakes();
  vonage = new VonageFake();
  const vonageEnv = {
    VONAGE_API_KEY: vonage.apiKey,
    VONAGE_API_SECRET: vonage.apiSecret,
    VONAGE_FROM: 'Herald',
    VONAGE_ENDPOINT: await vonage.start(),
  };
  const common = {
    HERALD_ENCRYPTION_KEYS: formatEncryptionKeys(KEYS),
    HERALD_CODEC_CORS_ORIGINS: UI_ORIGIN,
  };
  sendgridHerald = await startTestHerald({ env: { ...fakes.env, ...vonageEnv, ...common }, temporal, logger });
  smtpHerald = await startTestHerald({ env: { ...fakes.smtpEnv, ...common }, temporal, logger });
  const { apns, fcm, twilio, sendgrid } = sendgridHerald.config.providers;
  const smtpUrl = new URL(smtpHerald.config.providers.smtp!.url);
  secrets = {
    HERALD_API_KEY: TEST_API_KEY,
    APNS_KEY: apns!.keyPem.split('\n')[1]!, // a line of the .p8 key's base64 body
    FCM_PRIVATE_KEY: fcm!.credentials.private_key!.split('\n')[1]!,
    TWILIO_AUTH_TOKEN: twilio!.authToken,
    VONAGE_API_SECRET: vonage.apiSecret,
    SENDGRID_API_KEY: sendgrid!.apiKey,
    SMTP_PASSWORD: decodeURIComponent(smtpUrl.password),
    ENCRYPTION_KEY_CURRENT: KEYS[0]!.key,
    ENCRYPTION_KEY_OLD: KEYS[1]!.key,
    USER_EMAIL: EMAIL,
    USER_PHONE: PHONE,
    USER_PHONE_DIGITS: PHONE.slice(1),
  };
  expect(smtpUrl.password).not.toBe('');
});

afterAll(async () => {
  await sendgridHerald?.stop();
  await smtpHerald?.stop();
  await fakes?.stop();
  await vonage?.stop();
  await temporal?.teardown();
});

let notificationIds: { herald: TestHerald; ids: string[] }[] = [];

it('a full run through all six providers leaves no secret, email or phone in the logs or the Temporal histories', async () => {
  fakes.smtp.enqueue({ stage: 'rcpt', code: 451, message: `<${EMAIL}>: greylisted, try again later` });
  notificationIds = [
    { herald: sendgridHerald, ids: await runNotifications(sendgridHerald, 'user-sendgrid') },
    { herald: smtpHerald, ids: await runNotifications(smtpHerald, 'user-smtp') },
  ];
  // Every provider was really called.
  expect(fakes.apns.requests.length).toBeGreaterThanOrEqual(2);
  expect(fakes.fcm.sends.length).toBeGreaterThanOrEqual(2);
  expect(fakes.twilio.requests.length).toBeGreaterThanOrEqual(4);
  expect(fakes.sendgrid.requests.length).toBeGreaterThanOrEqual(2);
  expect(fakes.smtp.messages.length).toBeGreaterThanOrEqual(2);
  expect(vonage.sent.length).toBe(1);

  // The logs are real: the SDK's activity logs and the retried failures are in them.
  const log = lines.join('');
  expect(lines.length).toBeGreaterThan(20);
  expect(log).toContain('sendChannel');
  expect(log).toMatch(/"level":40[^\n]*Activity failed|Activity failed[^\n]*"level":40/);
  // And the debug lines that carry the most: every worker's options, with the data converter and its codec.
  expect(log).toMatch(/"level":20[^\n]*"msg":"Creating worker"/);
  expect(log).toContain('"payloadCodecs":[{"codec":"AES-256-GCM","keyIds":["2026-11","2026-10"]}]');

  const histories = (await Promise.all(notificationIds.map(({ herald, ids }) => historiesOf(herald, ids)))).flat();
  const rawHistory = histories.map((history) => dump(history).join('\n')).join('\n');
  expect(rawHistory.length).toBeGreaterThan(1000);

  const decoded: string[] = [];
  for (const history of histories) {
    const located = payloadsAt(history);
    const payloads = located.map((p) => p.payload);
    // Input, activity inputs and results, signals, the workflow result, and the encoded failures: all encrypted.
    expect(payloads.length).toBeGreaterThan(8);
    // Every payload Herald hands over is encrypted. The SDK core writes its own bookkeeping beside a local
    // activity's (encrypted) result: `data` = {seq, attempt, activity_id, activity_type, times}, no user data.
    const coreBookkeeping = /\.markerRecordedEventAttributes\.details\.data\./;
    const mine = located.filter(({ at }) => !coreBookkeeping.test(at));
    const clear = mine
      .filter(({ payload }) => Buffer.from(payload.metadata!.encoding!).toString() !== ENCRYPTED_ENCODING)
      .map(({ at }) => at);
    expect(clear).toEqual([]);
    for (const { payload } of mine) {
      expect(Buffer.from(payload.metadata![KEY_ID_METADATA]!).toString()).toBe(KEYS[0]!.id);
    }
    decoded.push(...dump(await sendgridHerald.codec.decode(payloads)));
  }
  const decodedText = decoded.join('\n');
  // The decrypted payloads are Herald's ids and statuses, and the scrubbed failure texts.
  expect(decodedText).toContain('notificationId');
  expect(decodedText).toMatch(/number \[(number|redacted)\] is not a valid/);

  // The tracking links' signing key, generated on first use and kept in Herald's database.
  const tracking = await sendgridHerald.db.prisma.heraldSecret.findUnique({ where: { name: 'tracking' } });
  if (tracking) secrets.TRACKING_KEY = tracking.value;
  // Each secret as text and in every encoding of its bytes (base64, base64url, hex, a list of byte values).
  const leaks = Object.entries(secrets).flatMap(([name, value]) =>
    [
      ...formsIn(log, value).map((form) => `${name} (${form}) in logs`),
      ...formsIn(rawHistory, value).map((form) => `${name} (${form}) in raw histories`),
      ...formsIn(decodedText, value).map((form) => `${name} (${form}) in decrypted payloads`),
    ].filter(Boolean),
  );
  expect(leaks).toEqual([]);
});

describe('the Web UI path: codec endpoint with CORS and a browser session', () => {
  async function firstPayloads() {
    const { herald, ids } = notificationIds[0]!;
    const [history] = await historiesOf(herald, ids.slice(0, 1));
    return payloadsIn(history).slice(0, 5);
  }
  const post = (path: string, init: RequestInit = {}) =>
    fetch(`${sendgridHerald.url}${path}`, { method: 'POST', ...init });

  it('answers the preflight for the configured UI origin only', async () => {
    const preflight = await fetch(`${sendgridHerald.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: UI_ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/i);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);

    const other = await fetch(`${sendgridHerald.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('decodes history payloads back to the originals for a signed-in browser, and refuses without a session', async () => {
    const payloads = await firstPayloads();
    const body = JSON.stringify({ payloads: payloads.map(toJson) });
    const headers = { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: UI_ORIGIN };

    const anonymous = await post('/codec/decode', { headers, body });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as ErrorBody).error.code).toBe('unauthorized');

    // The operator signs this browser in once (the login form posts the key; a session cookie comes back).
    const login = await post('/codec/login', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: TEST_API_KEY }).toString(),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^herald_codec_session=[^;]+; Path=\/codec; HttpOnly/);
    expect(cookie).not.toContain(TEST_API_KEY);

    const response = await post('/codec/decode', { headers: { ...headers, Cookie: cookie.split(';')[0]! }, body });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const decoded = ((await response.json()) as { payloads: JsonPayload[] }).payloads;
    const expected = await sendgridHerald.codec.decode(payloads);
    expect(decoded).toEqual(expected.map(toJson));
    // The first payload of a history is the workflow input: just the notification id.
    const input = defaultPayloadConverter.fromPayload<{ notificationId: string }>(expected[0]!);
    expect(input).toEqual({ notificationId: notificationIds[0]!.ids[0] });
    expect(Buffer.from(decoded[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');

    // The same cookie from a page on another origin is refused.
    const forged = await post('/codec/decode', {
      headers: { ...headers, Origin: 'https://evil.example', Cookie: cookie.split(';')[0]! },
      body,
    });
    expect(forged.status).toBe(403);
  });

  it('the temporal CLI shows a decrypted history through the codec endpoint (--codec-auth "Bearer <key>")', async () => {
    const { herald, ids } = notificationIds[0]!;
    const row = await herald.db.prisma.notification.findUniqueOrThrow({ where: { id: ids[0]! } });
    const show = (extra: string[]) =>
      promisify(execFile)(
        temporalBinary('temporal'),
        [
          'workflow',
          'show',
          '--address',
          temporal.address,
          '--namespace',
          temporal.namespace ?? 'default',
          '--workflow-id',
          row.workflowId,
          '--output',
          'json',
          ...extra,
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      );
    const raw = await show([]);
    expect(raw.stdout).toContain(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
    const input = Buffer.from(JSON.stringify({ notificationId: ids[0] })).toString('base64');
    expect(raw.stdout).not.toContain(input);
    const decoded = await show(['--codec-endpoint', `${herald.url}/codec`, '--codec-auth', `Bearer ${TEST_API_KEY}`]);
    // JSON output keeps payloads base64-encoded: the decrypted workflow input is there, as JSON.
    expect(decoded.stdout).toContain(input);
    expect(decoded.stdout).toContain(Buffer.from('json/plain').toString('base64'));
    expect(decoded.stdout).not.toContain(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
  });

  it('encodes with the current key for the CLI (Bearer key), and refuses keys without notifications:read', async () => {
    const plain = defaultPayloadConverter.toPayload({ hello: 'world' });
    const encoded = await post('/codec/encode', {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify({ payloads: [toJson(plain)] }),
    });
    expect(encoded.status).toBe(200);
    const cipher = ((await encoded.json()) as { payloads: JsonPayload[] }).payloads[0]!;
    expect(Buffer.from(cipher.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(cipher.metadata[KEY_ID_METADATA]!, 'base64').toString()).toBe(KEYS[0]!.id);

    const created = await sendgridHerald.api('POST', '/v1/api-keys', {
      name: 'sender',
      scopes: ['notifications:send'],
    });
    const refused = await post('/codec/decode', {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${created.body.key}` },
      body: JSON.stringify({ payloads: [cipher] }),
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as ErrorBody).error.code).toBe('insufficient_scope');

    const malformed = await post('/codec/decode', {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify({ payloads: [{ metadata: { encoding: 'not base64!' } }] }),
    });
    expect(malformed.status).toBe(400);
  });
});
