import { unusedPort } from '../../../../test/fakes/http-fake-server';
import { SmtpFake } from '../../../../test/fakes/smtp.fake';
import type { EmailRequest } from '../../provider.types';
import type { SmtpEmailProviderOptions } from './smtp.provider';
import { SmtpEmailProvider } from './smtp.provider';
import { providerFailure } from '../../../../test/support/provider-failure';

const TO = 'ada@example.com';
const FROM = 'Herald <noreply@herald.test>';

const email: EmailRequest = {
  to: TO,
  subject: 'Votre commande est expédiée ✓',
  text: 'It is on its way.',
  html: '<p>It is on its way — café.</p>',
  idempotencyKey: 'delivery-42',
  headers: { 'List-Unsubscribe': '<https://herald.test/u/abc>' },
};

describe('SmtpEmailProvider', () => {
  const fake = new SmtpFake({ auth: { user: 'herald', pass: 's3cret' } });
  const opened: SmtpEmailProvider[] = [];
  let provider: SmtpEmailProvider;

  const open = (overrides: Partial<SmtpEmailProviderOptions> = {}) => {
    const created = new SmtpEmailProvider({ url: fake.url, from: FROM, ...overrides });
    opened.push(created);
    return created;
  };

  beforeAll(async () => {
    await fake.start();
    provider = open();
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await Promise.all(opened.map((p) => p.close()));
    await fake.stop();
  });

  it('delivers envelope, headers, subject, text and html, and returns the Message-ID', async () => {
    const result = await provider.send(email);

    expect(fake.messages).toHaveLength(1);
    const message = fake.lastMessage();
    expect(message.envelope).toEqual({ mailFrom: 'noreply@herald.test', rcptTo: [TO] });
    expect(message.user).toBe('herald');
    expect(message.subject).toBe('Votre commande est expédiée ✓');
    expect(message.text).toBe('It is on its way.');
    expect(message.html).toBe('<p>It is on its way — café.</p>');
    expect(message.headers).toMatchObject({
      from: 'Herald <noreply@herald.test>',
      to: TO,
      'list-unsubscribe': '<https://herald.test/u/abc>',
      'message-id': '<herald.delivery-42@herald.test>',
    });
    expect(message.headers['content-type']).toMatch(/^multipart\/alternative/);
    expect(result).toEqual({ providerMessageId: '<herald.delivery-42@herald.test>' });
  });

  it('gives every attempt of one delivery the same Message-ID, and different deliveries different ones', async () => {
    await provider.send(email);
    await provider.send(email);
    await provider.send({ ...email, idempotencyKey: 'delivery-43' });
    const unsafe = await provider.send({ ...email, idempotencyKey: 'not <a> dot-atom@all' });
    const unsafeAgain = await provider.send({ ...email, idempotencyKey: 'not <a> dot-atom@all' });

    const ids = fake.messages.map((m) => m.headers['message-id']);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).toBe('<herald.delivery-43@herald.test>');
    expect(unsafe.providerMessageId).toMatch(/^<herald\.[0-9a-f]{40}@herald\.test>$/);
    expect(unsafeAgain.providerMessageId).toBe(unsafe.providerMessageId);
  });

  it('maps a 550 on RCPT TO to permanent_target, without echoing the address', async () => {
    fake.enqueue({ stage: 'rcpt', code: 550 });

    const err = await providerFailure(provider.send(email));

    expect(err).toMatchObject({ kind: 'permanent_target', code: 'EENVELOPE', details: { status: 550 } });
    expect(err.message).toContain('Recipient address rejected');
    expect(err.message).not.toContain(TO);
    expect(fake.messages).toHaveLength(0);
  });

  it('maps a policy refusal of RCPT (5.7.1 relay denied) to permanent_request, not to the contact', async () => {
    fake.enqueue({ stage: 'rcpt', code: 554, enhanced: '5.7.1', message: 'Relay access denied' });
    const err = await providerFailure(provider.send(email));
    expect(err).toMatchObject({ kind: 'permanent_request', code: 'EENVELOPE', details: { status: 554 } });
  });

  it('maps a 554 on DATA to permanent_request', async () => {
    fake.enqueue({ stage: 'data', code: 554 });
    const err = await providerFailure(provider.send(email));
    expect(err).toMatchObject({ kind: 'permanent_request', code: 'EMESSAGE', details: { status: 554 } });
  });

  it('maps a refused sender (553 on MAIL FROM) to permanent_request', async () => {
    fake.enqueue({ stage: 'mail', code: 553 });
    const err = await providerFailure(provider.send(email));
    expect(err).toMatchObject({ kind: 'permanent_request', code: 'EENVELOPE', details: { status: 553 } });
  });

  it('maps wrong credentials (the fake’s real 535) to permanent_request', async () => {
    const wrongPassword = open({ url: fake.url.replace('s3cret', 'wrong') });
    const err = await providerFailure(wrongPassword.send(email));
    expect(err).toMatchObject({ kind: 'permanent_request', code: 'EAUTH', details: { status: 535 } });
    expect(err.message).not.toContain('wrong');
  });

  it.each([
    ['rcpt', 451],
    ['rcpt', 452],
    ['data', 451],
  ] as const)('maps a %s %i to transient', async (stage, code) => {
    fake.enqueue({ stage, code });
    const err = await providerFailure(provider.send(email));
    expect(err).toMatchObject({ kind: 'transient', details: { status: code } });
  });

  it('lets the pool resend on a fresh connection when a reused one is dropped with 421', async () => {
    await provider.send(email); // the pool now holds a connection that has sent a message
    fake.enqueue({ stage: 'mail', code: 421 });

    await expect(provider.send(email)).resolves.toHaveProperty('providerMessageId');
    expect(fake.messages).toHaveLength(2);
  });

  it('maps a 421 on a fresh connection to transient', async () => {
    await provider.send(email);
    fake.enqueue({ stage: 'mail', code: 421 }, { stage: 'mail', code: 421 });

    const err = await providerFailure(provider.send(email));

    expect(err).toMatchObject({ kind: 'transient', code: 'EENVELOPE', details: { status: 421 } });
    expect(fake.messages).toHaveLength(1);
  });

  it('keeps delivering on the pooled connection after refusals', async () => {
    fake.enqueue({ stage: 'rcpt', code: 550 }, { stage: 'data', code: 451 });
    await providerFailure(provider.send(email));
    await providerFailure(provider.send(email));
    await expect(provider.send(email)).resolves.toHaveProperty('providerMessageId');
    expect(fake.messages).toHaveLength(1);
  });

  it('maps a refused connection to transient', async () => {
    const refused = open({ url: `smtp://herald:s3cret@127.0.0.1:${await unusedPort()}` });
    const err = await providerFailure(refused.send(email));
    expect(err).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
    expect(err.message).not.toContain('s3cret');
  });
});
