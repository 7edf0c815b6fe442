import { unusedPort } from '../../../../test/fakes/http-fake-server';
import { VonageFake, vonageStatus } from '../../../../test/fakes/vonage.fake';
import type { VonageSmsProviderOptions } from './vonage.provider';
import { VonageSmsProvider } from './vonage.provider';
import { providerFailure } from '../../../../test/support/provider-failure';

const TO = '+447700900123';
const FROM = '+447700900001';

describe('VonageSmsProvider', () => {
  const fake = new VonageFake();
  let options: VonageSmsProviderOptions;
  let provider: VonageSmsProvider;

  beforeAll(async () => {
    const endpoint = await fake.start();
    options = { apiKey: fake.apiKey, apiSecret: fake.apiSecret, from: FROM, endpoint };
    provider = new VonageSmsProvider(options);
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  const send = (p: VonageSmsProvider = provider) =>
    p.send({ to: TO, body: 'Your code is 1234', idempotencyKey: 'dlv_1' });

  it('posts from/to/text with Basic auth and the delivery id as client-ref, and returns the message id', async () => {
    const result = await send();

    expect(fake.requests).toHaveLength(1);
    const request = fake.lastRequest();
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/sms/json');
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`${fake.apiKey}:${fake.apiSecret}`).toString('base64')}`,
    );
    expect(request.body).toEqual({
      to: '447700900123',
      from: '447700900001',
      text: 'Your code is 1234',
      'client-ref': 'dlv_1',
    });
    expect(result.providerMessageId).toBe(fake.sent[0]?.messageId);
    expect(result.providerMessageId).toMatch(/^[0-9A-F]{16}$/);
  });

  it('keeps an alphanumeric sender as is', async () => {
    await new VonageSmsProvider({ ...options, from: 'Herald' }).send({ to: TO, body: 'hi', idempotencyKey: 'd' });
    expect(fake.lastRequest().body?.from).toBe('Herald');
  });

  it.each([
    ['6', 'Unroutable message - rejected'],
    ['7', 'Number barred.'],
    ['29', 'Non-Whitelisted Destination 447700900123'],
  ])('maps message status %s to permanent_target without echoing the number', async (status, text) => {
    fake.enqueue(vonageStatus(status, text));
    const err = await providerFailure(send());
    expect(err).toMatchObject({ kind: 'permanent_target', code: `status_${status}` });
    expect(err.message).not.toContain('447700900123');
  });

  it('maps bad credentials (the fake’s real status 4) to permanent_request and keeps the secret out', async () => {
    const wrong = new VonageSmsProvider({ ...options, apiSecret: 'not-the-secret' });
    const err = await providerFailure(send(wrong));
    expect(err).toMatchObject({ kind: 'permanent_request', code: 'status_4' });
    expect(err.message).not.toContain('not-the-secret');
  });

  it('maps throttling (status 1) and internal errors (status 5) to transient', async () => {
    fake.enqueue(vonageStatus('1', 'Throughput Rate Exceeded'), vonageStatus('5', 'Internal Error'));
    expect(await providerFailure(send())).toMatchObject({ kind: 'transient', code: 'status_1' });
    expect(await providerFailure(send())).toMatchObject({ kind: 'transient', code: 'status_5' });
  });

  it('maps HTTP 429 with Retry-After to transient with its delay, and HTTP 401 to permanent_request', async () => {
    fake.enqueue({ status: 429, body: 'slow down', headers: { 'Retry-After': '4' } }, { status: 401, body: '' });
    expect(await providerFailure(send())).toMatchObject({
      kind: 'transient',
      code: 'HTTP_429',
      details: { retryAfterMs: 4000 },
    });
    expect(await providerFailure(send())).toMatchObject({ kind: 'permanent_request', code: 'HTTP_401' });
  });

  it('maps a 5xx to transient', async () => {
    fake.enqueue({ status: 503, body: '<html>unavailable</html>', headers: { 'Content-Type': 'text/html' } });
    expect(await providerFailure(send())).toMatchObject({ kind: 'transient', code: 'HTTP_503' });
  });

  it('maps a refused connection and a timeout to transient', async () => {
    const refused = new VonageSmsProvider({ ...options, endpoint: `http://127.0.0.1:${await unusedPort()}` });
    const err = await providerFailure(send(refused));
    expect(err.kind).toBe('transient');
    expect(err.message).not.toContain(fake.apiSecret);

    fake.enqueue({ fault: 'no-response' });
    const impatient = new VonageSmsProvider({ ...options, timeoutMs: 200 });
    expect(await providerFailure(send(impatient))).toMatchObject({ kind: 'transient', code: 'ETIMEDOUT' });
  });
});
