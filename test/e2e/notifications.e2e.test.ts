/**
 * End to end through the real API, a real Temporal dev server, the test's database and the real provider SDKs
 * pointed at local fakes. Assertions are what a user would see: the request at the provider, the API's answer.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { apnsError } from '../fakes/apns.fake';
import { twilioError } from '../fakes/twilio.fake';
import { startTestHerald, waitForNotification, type TestHerald } from '../support/herald';
import { APNS_TOPIC, startProviderFakes, TWILIO_FROM, type ProviderFakes } from '../support/provider-fakes';
import { createLocalTemporal } from '../support/temporal';

jest.setTimeout(120_000);

const IOS_TOKEN = 'a1b2c3d4'.repeat(8);
const ANDROID_TOKEN = 'android-registration-token-0001';

let temporal: TestWorkflowEnvironment;
let fakes: ProviderFakes;
let herald: TestHerald;

beforeAll(async () => {
  temporal = await createLocalTemporal();
  fakes = await startProviderFakes();
  herald = await startTestHerald({ env: fakes.env, temporal });
  await herald.api('PUT', '/v1/templates/welcome', {
    channels: {
      push: { title: 'Hi {{ name }}', body: 'Your order {{ order }} shipped', data: { order: '{{ order }}' } },
      sms: { body: 'Order {{ order }} shipped, {{ name }}!' },
      email: { subject: 'Order {{ order }}', html: '<p>Hello {{ name }}</p>', text: 'Hello {{ name }}' },
    },
  });
});

afterAll(async () => {
  await herald?.stop();
  await fakes?.stop();
  await temporal?.teardown();
});

let userCount = 0;
async function createUser(h: TestHerald = herald) {
  const userId = `user-${++userCount}`;
  await h.api('PUT', `/v1/users/${userId}`, { email: `${userId}@example.com`, phone: '+14155550100', name: 'Ada' });
  const ios = await h.api('POST', `/v1/users/${userId}/devices`, { platform: 'ios', token: IOS_TOKEN + userCount });
  const android = await h.api('POST', `/v1/users/${userId}/devices`, {
    platform: 'android',
    token: `${ANDROID_TOKEN}-${userCount}`,
  });
  return { userId, iosDevice: ios.body, androidDevice: android.body };
}

async function send(body: Record<string, unknown>, headers: Record<string, string> = {}, h: TestHerald = herald) {
  const response = await h.api('POST', '/v1/notifications', body, headers);
  expect(response.status).toBe(202);
  return response.body as { id: string; status: string };
}

describe('one notification, end to end', () => {
  it('a user with email, phone, an iOS and an Android device gets two pushes, an SMS and an email with the rendered text', async () => {
    const { userId, iosDevice, androidDevice } = await createUser();
    const before = {
      apns: fakes.apns.requests.length,
      fcm: fakes.fcm.sends.length,
      twilio: fakes.twilio.requests.length,
      sendgrid: fakes.sendgrid.requests.length,
    };
    const accepted = await send({ userId, template: 'welcome', data: { name: 'Ada', order: 'A-42' } });
    expect(accepted.status).toBe('accepted');

    const notification = await waitForNotification(herald, accepted.id);
    expect(notification.status).toBe('delivered');
    expect(notification.deliveries).toHaveLength(4);
    expect(notification.deliveries.every((d: { status: string }) => d.status === 'sent')).toBe(true);

    const apns = fakes.apns.requests.slice(before.apns);
    expect(apns).toHaveLength(1);
    expect(apns[0]!.path).toBe(`/3/device/${IOS_TOKEN}${userCount}`);
    expect(apns[0]!.headers['apns-topic']).toBe(APNS_TOPIC);
    expect(apns[0]!.body).toMatchObject({ aps: { alert: { title: 'Hi Ada', body: 'Your order A-42 shipped' } } });

    const fcm = fakes.fcm.sends.slice(before.fcm);
    expect(fcm).toHaveLength(1);
    expect(fcm[0]!.body).toMatchObject({
      message: {
        token: `${ANDROID_TOKEN}-${userCount}`,
        notification: { title: 'Hi Ada', body: 'Your order A-42 shipped' },
        data: { order: 'A-42' },
      },
    });

    const sms = fakes.twilio.requests.slice(before.twilio);
    expect(sms).toHaveLength(1);
    expect(sms[0]!.body).toMatchObject({ To: '+14155550100', From: TWILIO_FROM, Body: 'Order A-42 shipped, Ada!' });

    const mail = fakes.sendgrid.requests.slice(before.sendgrid);
    expect(mail).toHaveLength(1);
    expect(mail[0]!.body).toMatchObject({
      subject: 'Order A-42',
      personalizations: [{ to: [{ email: `${userId}@example.com` }] }],
    });
    expect(JSON.stringify(mail[0]!.body)).toContain('<p>Hello Ada</p>');

    // The API's record matches what the providers answered.
    const byChannel = (channel: string, target?: string) =>
      notification.deliveries.find(
        (d: { channel: string; target: string }) => d.channel === channel && (!target || d.target === target),
      );
    expect(byChannel('push', iosDevice.id)).toMatchObject({ provider: 'apns', status: 'sent', attempts: 1 });
    expect(byChannel('push', androidDevice.id)).toMatchObject({ provider: 'fcm', status: 'sent' });
    expect(byChannel('sms').providerMessageId).toBe(fakes.twilio.sent.at(-1)!.sid);
    expect(byChannel('email')).toMatchObject({ provider: 'sendgrid', target: `${userId}@example.com` });
  });

  it('when the same Idempotency-Key is sent three times at once, one notification is delivered, once per target', async () => {
    const { userId } = await createUser();
    const before = { twilio: fakes.twilio.requests.length, apns: fakes.apns.requests.length };
    const key = `order-shipped-${userId}`;
    const body = { userId, template: 'welcome', data: { name: 'Ada', order: 'B-7' } };
    const answers = await Promise.all([1, 2, 3].map(() => send(body, { 'Idempotency-Key': key })));
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);

    const notification = await waitForNotification(herald, answers[0]!.id);
    expect(notification.status).toBe('delivered');
    expect(notification.deliveries).toHaveLength(4);
    // And once more after it finished: the same notification, nothing sent again.
    const again = await send({ ...body, eventId: key });
    expect(again.id).toBe(answers[0]!.id);
    expect(await herald.db.prisma.notification.count({ where: { idempotencyKey: key } })).toBe(1);
    expect(fakes.twilio.requests.length - before.twilio).toBe(1);
    expect(fakes.apns.requests.length - before.apns).toBe(1);
  });

  it('an unregistered iOS token is deactivated and never used again, while the Android device still receives', async () => {
    const { userId, iosDevice } = await createUser();
    fakes.apns.enqueue(apnsError('Unregistered'));
    const first = await waitForNotification(
      herald,
      (await send({ userId, template: 'welcome', data: { name: 'A', order: '1' } })).id,
    );
    expect(first.status).toBe('partially_delivered');
    const dead = first.deliveries.find((d: { target: string }) => d.target === iosDevice.id);
    expect(dead).toMatchObject({ status: 'failed', attempts: 1 });
    expect(dead.error).toContain('Unregistered');

    const devices = (await herald.api('GET', `/v1/users/${userId}/devices`)).body.devices;
    expect(devices.find((d: { id: string }) => d.id === iosDevice.id)).toMatchObject({ active: false });
    expect(devices.find((d: { id: string }) => d.id === iosDevice.id).deactivationReason).toContain('Unregistered');

    const apnsBefore = fakes.apns.requests.length;
    const second = await waitForNotification(
      herald,
      (await send({ userId, template: 'welcome', data: { name: 'A', order: '2' } })).id,
    );
    expect(second.status).toBe('delivered');
    expect(second.deliveries.filter((d: { channel: string }) => d.channel === 'push')).toHaveLength(1);
    expect(fakes.apns.requests.length).toBe(apnsBefore);
  });

  it('a transient provider failure (Twilio 500) is retried and delivered; a permanent one (invalid number) is not retried', async () => {
    const { userId } = await createUser();
    fakes.twilio.enqueue(twilioError(500, 20500, 'Internal Server Error'));
    const retried = await waitForNotification(
      herald,
      (await send({ userId, template: 'welcome', data: { name: 'A', order: '3' }, channels: ['sms'] })).id,
    );
    expect(retried.status).toBe('delivered');
    expect(retried.deliveries[0]).toMatchObject({ channel: 'sms', status: 'sent', attempts: 2 });

    const before = fakes.twilio.requests.length;
    fakes.twilio.enqueue(twilioError(400, 21211, "The 'To' number +14155550100 is not a valid phone number."));
    const refused = await waitForNotification(
      herald,
      (await send({ userId, template: 'welcome', data: { name: 'A', order: '4' }, channels: ['sms'] })).id,
    );
    expect(refused.status).toBe('failed');
    expect(refused.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(refused.deliveries[0].error).toContain('21211');
    expect(refused.deliveries[0].error).not.toContain('4155550100');
    expect(fakes.twilio.requests.length - before).toBe(1);
  });

  it('channels the user switched off are skipped with the reason, and a template variable that is missing fails clearly', async () => {
    const { userId } = await createUser();
    await herald.api('PUT', `/v1/users/${userId}/preferences`, { channels: { sms: false, push: false } });
    const notification = await waitForNotification(
      herald,
      (await send({ userId, template: 'welcome', data: { name: 'A', order: '5' } })).id,
    );
    expect(notification.status).toBe('delivered');
    const skipped = notification.deliveries.filter((d: { status: string }) => d.status === 'skipped');
    expect(skipped.map((d: { error: string }) => d.error).sort()).toEqual(['user_disabled_push', 'user_disabled_sms']);

    const broken = await waitForNotification(
      herald,
      (await send({ userId, template: 'welcome', data: { order: '6' } })).id,
    );
    expect(broken.status).toBe('failed');
    expect(broken.error).toContain('undefined variable: name');
  });

  it('a notification scheduled for later can be canceled, and then is never sent', async () => {
    const { userId } = await createUser();
    const sendAt = new Date(Date.now() + 3600_000).toISOString();
    const accepted = await send({ userId, template: 'welcome', data: { name: 'A', order: '7' }, sendAt });
    expect(accepted.status).toBe('scheduled');
    const canceled = await herald.api('DELETE', `/v1/notifications/${accepted.id}`);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    const final = await waitForNotification(herald, accepted.id);
    expect(final.status).toBe('canceled');
    expect(final.deliveries).toEqual([]);
    expect((await herald.api('DELETE', `/v1/notifications/${accepted.id}`)).status).toBe(200);
  });
});

describe('email through the operator’s own SMTP server', () => {
  it('an SMTP-configured run delivers email by SMTP instead of SendGrid', async () => {
    const smtpHerald = await startTestHerald({ env: fakes.smtpEnv, temporal });
    try {
      await smtpHerald.api('PUT', '/v1/templates/receipt', {
        channels: { email: { subject: 'Receipt {{ n }}', text: 'Thanks {{ n }}' } },
      });
      await smtpHerald.api('PUT', '/v1/users/smtp-user', { email: 'smtp-user@example.com' });
      const sendgridBefore = fakes.sendgrid.requests.length;
      const accepted = await send({ userId: 'smtp-user', template: 'receipt', data: { n: 9 } }, {}, smtpHerald);
      const notification = await waitForNotification(smtpHerald, accepted.id);
      expect(notification.status).toBe('delivered');
      expect(notification.deliveries[0]).toMatchObject({ channel: 'email', provider: 'smtp', status: 'sent' });
      const message = fakes.smtp.lastMessage();
      expect(message.envelope.rcptTo).toEqual(['smtp-user@example.com']);
      expect(message.subject).toBe('Receipt 9');
      expect(message.text?.trim()).toBe('Thanks 9');
      expect(fakes.sendgrid.requests.length).toBe(sendgridBefore);
    } finally {
      await smtpHerald.stop();
    }
  });
});
