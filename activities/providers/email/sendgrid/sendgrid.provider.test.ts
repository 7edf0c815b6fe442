import { unusedPort } from '../../../../test/fakes/http-fake-server';
import { loadSpec, requestSchema, responseSchema, validate } from '../../../../test/fakes/openapi-check';
import { SendgridFake, sendgridError } from '../../../../test/fakes/sendgrid.fake';
import type { EmailRequest } from '../../provider.types';
import type { SendgridEmailProviderOptions } from './sendgrid.provider';
import { SendgridEmailProvider } from './sendgrid.provider';
import { providerFailure } from '../../../../test/support/provider-failure';

const TO = 'ada@example.com';

const email: EmailRequest = {
  to: TO,
  subject: 'Your order shipped',
  text: 'It is on its way.',
  html: '<p>It is on its way.</p>',
  idempotencyKey: 'delivery-42',
  headers: { 'List-Unsubscribe': '<https://herald.test/u/abc>' },
};

describe('SendgridEmailProvider', () => {
  const fake = new SendgridFake();
  let options: SendgridEmailProviderOptions;
  let provider: SendgridEmailProvider;

  beforeAll(async () => {
    const endpoint = await fake.start();
    options = { apiKey: fake.apiKey, from: 'Herald <noreply@herald.test>', endpoint };
    provider = new SendgridEmailProvider(options);
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  it('posts the Mail Send JSON with the Bearer key and returns X-Message-Id', async () => {
    const result = await provider.send(email);

    expect(fake.requests).toHaveLength(1);
    const request = fake.lastRequest();
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v3/mail/send');
    expect(request.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(request.headers['content-type']).toMatch(/^application\/json/);
    expect(request.body).toEqual({
      from: { email: 'noreply@herald.test', name: 'Herald' },
      subject: 'Your order shipped',
      personalizations: [
        {
          to: [{ email: TO }],
          headers: { 'List-Unsubscribe': '<https://herald.test/u/abc>' },
          custom_args: { herald_delivery_id: 'delivery-42' },
        },
      ],
      content: [
        { type: 'text/plain', value: 'It is on its way.' },
        { type: 'text/html', value: '<p>It is on its way.</p>' },
      ],
    });
    // Email headers belong in the JSON only, never among the HTTP request's headers.
    expect(request.headers['list-unsubscribe']).toBeUndefined();
    expect(result).toEqual({ providerMessageId: fake.sent[0]?.messageId });
    expect(result.providerMessageId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('sends a bare from address and an html-only message', async () => {
    const bare = new SendgridEmailProvider({ ...options, from: 'noreply@herald.test' });
    await bare.send({ to: TO, subject: 's', html: '<b>hi</b>', idempotencyKey: 'k' });

    expect(fake.lastRequest().body).toMatchObject({
      from: { email: 'noreply@herald.test' },
      content: [{ type: 'text/html', value: '<b>hi</b>' }],
      personalizations: [{ to: [{ email: TO }], custom_args: { herald_delivery_id: 'k' } }],
    });
    expect(fake.lastRequest().body?.from).toEqual({ email: 'noreply@herald.test' });
  });

  it('refuses a message with neither text nor html without calling SendGrid', async () => {
    const err = await providerFailure(provider.send({ to: TO, subject: 's', idempotencyKey: 'k' }));
    expect(err).toMatchObject({ kind: 'permanent_request', code: 'EMPTY_CONTENT' });
    expect(fake.requests).toHaveLength(0);
  });

  const spec = loadSpec('sendgrid_mail_v3.json');
  (spec ? it : it.skip)(
    'sends a body, and the fake answers errors, that match SendGrid’s OpenAPI document',
    async () => {
      const doc = spec!;
      await provider.send(email);
      expect(
        validate(doc, requestSchema(doc, '/v3/mail/send', 'post', 'application/json'), fake.lastRequest().body),
      ).toEqual([]);

      // The fake's error answers (scripted or its own) are built by sendgridError().
      for (const [status, answer] of [
        [
          400,
          sendgridError(400, { message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' }),
        ],
        [401, sendgridError(401, { message: 'authorization required' })],
        [413, sendgridError(413, { message: 'content too large' })],
        [500, sendgridError(500, { message: 'internal server error' })],
      ] as const) {
        expect(validate(doc, responseSchema(doc, '/v3/mail/send', 'post', status), answer.body)).toEqual([]);
      }
    },
  );

  it('maps a 400 about the recipient address to permanent_target, without echoing the address', async () => {
    fake.enqueue(
      sendgridError(400, {
        message: `Invalid email ${TO}: does not contain a valid address.`,
        field: 'personalizations.0.to.0.email',
      }),
    );

    const err = await providerFailure(provider.send(email));

    expect(err).toMatchObject({ kind: 'permanent_target', code: 'HTTP_400', details: { status: 400 } });
    expect(err.message).not.toContain(TO);
  });

  it('maps a 400 about the payload to permanent_request, even when the recipient is also named', async () => {
    fake.enqueue(
      sendgridError(
        400,
        { message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' },
        { message: 'The content value must be a string at least one character in length.', field: 'content.0.value' },
      ),
    );
    const err = await providerFailure(provider.send(email));
    expect(err).toMatchObject({ kind: 'permanent_request', code: 'HTTP_400' });
    expect(err.message).toContain('content.0.value');
  });

  it('maps a wrong key (the fake’s real 401) to permanent_request', async () => {
    const err = await providerFailure(new SendgridEmailProvider({ ...options, apiKey: 'SG.wrong-key' }).send(email));
    expect(fake.lastRequest().headers.authorization).toBe('Bearer SG.wrong-key');
    expect(err).toMatchObject({ kind: 'permanent_request', code: 'HTTP_401', details: { status: 401 } });
  });

  it.each([403, 413])('maps %i to permanent_request', async (status) => {
    fake.enqueue(sendgridError(status, { message: 'nope' }));
    const err = await providerFailure(provider.send(email));
    expect(err).toMatchObject({ kind: 'permanent_request', code: `HTTP_${status}` });
  });

  it('maps 429 to transient with Retry-After, in a single request', async () => {
    fake.enqueue({ ...sendgridError(429, { message: 'too many requests' }), headers: { 'Retry-After': '2' } });
    const err = await providerFailure(provider.send(email));
    expect(err).toMatchObject({ kind: 'transient', code: 'HTTP_429', details: { status: 429, retryAfterMs: 2000 } });
    expect(fake.requests).toHaveLength(1);
  });

  it('reads SendGrid’s own X-RateLimit-Reset when there is no Retry-After', async () => {
    const reset = Math.ceil(Date.now() / 1000) + 30;
    fake.enqueue({
      ...sendgridError(429, { message: 'too many requests' }),
      headers: { 'X-RateLimit-Reset': String(reset) },
    });
    const err = await providerFailure(provider.send(email));
    expect(err.kind).toBe('transient');
    expect(err.details.retryAfterMs).toBeGreaterThan(20_000);
    expect(err.details.retryAfterMs).toBeLessThanOrEqual(31_000);
  });

  it.each([500, 502, 503])('maps %i to transient', async (status) => {
    fake.enqueue(sendgridError(status, { message: 'internal server error' }));
    const err = await providerFailure(provider.send(email));
    expect(err).toMatchObject({ kind: 'transient', code: `HTTP_${status}` });
  });

  it('maps a refused connection to transient, keeping the key out of the error', async () => {
    const refused = new SendgridEmailProvider({ ...options, endpoint: `http://127.0.0.1:${await unusedPort()}` });
    const err = await providerFailure(refused.send(email));
    expect(err).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
    expect(JSON.stringify({ ...err, message: err.message })).not.toContain(fake.apiKey);
  });

  it('maps a dropped connection and a timeout to transient', async () => {
    fake.enqueue({ fault: 'hang-up' });
    expect(await providerFailure(provider.send(email))).toMatchObject({ kind: 'transient', code: 'ECONNRESET' });

    fake.enqueue({ fault: 'no-response' });
    const impatient = new SendgridEmailProvider({ ...options, timeoutMs: 200 });
    const err = await providerFailure(impatient.send(email));
    expect(err.kind).toBe('transient');
    expect(['ECONNABORTED', 'ETIMEDOUT']).toContain(err.code);
  });
});
