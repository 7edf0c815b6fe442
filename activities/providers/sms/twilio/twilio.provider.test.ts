import { unusedPort } from '../../../../test/fakes/http-fake-server';
import { loadSpec, requestSchema, responseSchema, validate } from '../../../../test/fakes/openapi-check';
import { TwilioFake, twilioError } from '../../../../test/fakes/twilio.fake';
import type { TwilioSmsProviderOptions } from './twilio.provider';
import { TwilioSmsProvider } from './twilio.provider';
import { providerFailure } from '../../../../test/support/provider-failure';

const TO = '+15005550006';
const FROM = '+15005550001';
const MESSAGES_ROUTE = '/2010-04-01/Accounts/{AccountSid}/Messages.json';

describe('TwilioSmsProvider', () => {
  const fake = new TwilioFake();
  let options: TwilioSmsProviderOptions;
  let provider: TwilioSmsProvider;

  beforeAll(async () => {
    const endpoint = await fake.start();
    options = { accountSid: fake.accountSid, authToken: fake.authToken, from: FROM, endpoint };
    provider = new TwilioSmsProvider(options);
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  const send = (p: TwilioSmsProvider = provider) =>
    p.send({ to: TO, body: 'Your code is 1234', idempotencyKey: 'd-1' });

  it('sends To/From/Body as a form with Basic auth and returns the message SID', async () => {
    const withCallback = new TwilioSmsProvider({
      ...options,
      statusCallbackUrl: 'https://herald.test/webhooks/twilio',
    });

    const result = await withCallback.send({ to: TO, body: 'Your code is 1234', idempotencyKey: 'd-1' });

    expect(fake.requests).toHaveLength(1);
    const request = fake.lastRequest();
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64')}`,
    );
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.body).toEqual({
      To: TO,
      From: FROM,
      Body: 'Your code is 1234',
      StatusCallback: 'https://herald.test/webhooks/twilio?herald_delivery_id=d-1',
    });
    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(result.providerMessageId).toBe(fake.sent[0]?.sid);
  });

  it('leaves StatusCallback out when no callback URL is configured', async () => {
    await send();
    expect(fake.lastRequest().body).toEqual({ To: TO, From: FROM, Body: 'Your code is 1234' });
  });

  const spec = loadSpec('twilio_api_v2010.json');
  (spec ? it : it.skip)('sends a request and gets an answer that match Twilio’s OpenAPI document', async () => {
    const doc = spec!;
    const withCallback = new TwilioSmsProvider({ ...options, statusCallbackUrl: 'https://herald.test/twilio' });
    await withCallback.send({ to: TO, body: 'hello', idempotencyKey: 'd-2' });

    const form = fake.lastRequest().body;
    expect(
      validate(doc, requestSchema(doc, MESSAGES_ROUTE, 'post', 'application/x-www-form-urlencoded'), form),
    ).toEqual([]);
    expect(validate(doc, responseSchema(doc, MESSAGES_ROUTE, 'post', 201), fake.sent[0])).toEqual([]);
    const accountSid = (doc.paths[MESSAGES_ROUTE]?.post as { parameters: { schema: { pattern: string } }[] })
      .parameters[0]!.schema.pattern;
    expect(fake.accountSid).toMatch(new RegExp(accountSid));
  });

  it.each([
    [21211, "The 'To' number +15005550006 is not a valid phone number."],
    [21614, "'To' number +15005550006 is not a valid mobile number"],
    [21610, 'Attempt to send to unsubscribed recipient'],
  ])('maps recipient error %i to permanent_target without echoing the number', async (code, message) => {
    fake.enqueue(twilioError(400, code, message));

    const err = await providerFailure(send());

    expect(err).toMatchObject({ kind: 'permanent_target', code: String(code), details: { status: 400 } });
    expect(err.message).not.toContain('5005550006');
  });

  it('maps bad credentials (the fake’s real 401/20003) to permanent_request and keeps the token out', async () => {
    const wrongToken = new TwilioSmsProvider({ ...options, authToken: 'not-the-token' });

    const err = await providerFailure(send(wrongToken));

    expect(fake.lastRequest().headers.authorization).not.toBe(
      `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64')}`,
    );
    expect(err).toMatchObject({ kind: 'permanent_request', code: '20003', details: { status: 401 } });
    expect(err.message).not.toContain('not-the-token');
  });

  it('maps an invalid From number (21606) to permanent_request', async () => {
    fake.enqueue(
      twilioError(400, 21606, 'The From phone number +15005550001 is not a valid, SMS-capable inbound phone number.'),
    );
    const err = await providerFailure(send());
    expect(err).toMatchObject({ kind: 'permanent_request', code: '21606' });
  });

  it('maps 429/20429 to transient with Retry-After, and makes a single request (no SDK retry)', async () => {
    fake.enqueue({ ...twilioError(429, 20429, 'Too Many Requests'), headers: { 'Retry-After': '7' } });

    const err = await providerFailure(send());

    expect(err).toMatchObject({ kind: 'transient', code: '20429', details: { status: 429, retryAfterMs: 7000 } });
    expect(fake.requests).toHaveLength(1);
  });

  it('keeps each concurrent send’s Retry-After with its own failure', async () => {
    fake.enqueue(
      { ...twilioError(429, 20429, 'Too Many Requests'), headers: { 'Retry-After': '5' } },
      twilioError(503, 20503, 'Service Unavailable'),
    );

    const errors = await Promise.all([providerFailure(send()), providerFailure(send())]);

    const byStatus = Object.fromEntries(errors.map((e) => [e.details.status, e.details.retryAfterMs]));
    expect(byStatus).toEqual({ 429: 5000, 503: undefined });
  });

  it('maps a 5xx without a Twilio body (a proxy’s HTML page) to transient', async () => {
    fake.enqueue({ status: 502, body: '<html>Bad Gateway</html>', headers: { 'Content-Type': 'text/html' } });
    const err = await providerFailure(send());
    expect(err).toMatchObject({ kind: 'transient', code: 'HTTP_502', details: { status: 502 } });
  });

  it('maps a refused connection to transient', async () => {
    const refused = new TwilioSmsProvider({ ...options, endpoint: `http://127.0.0.1:${await unusedPort()}` });
    const err = await providerFailure(send(refused));
    expect(err).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
    expect(err.message).not.toContain(fake.authToken);
  });

  it('maps a dropped connection (socket hang up) to transient', async () => {
    fake.enqueue({ fault: 'hang-up' });
    const err = await providerFailure(send());
    expect(err).toMatchObject({ kind: 'transient', code: 'ECONNRESET' });
  });

  it('maps a request that outlives timeoutMs to transient', async () => {
    fake.enqueue({ fault: 'no-response' });
    const impatient = new TwilioSmsProvider({ ...options, timeoutMs: 200 });
    const err = await providerFailure(send(impatient));
    expect(err.kind).toBe('transient');
    expect(['ECONNABORTED', 'ETIMEDOUT']).toContain(err.code);
  });
});
