/**
 * Email done properly and tracking, end to end: the real API and worker on a Temporal dev server, provider SDKs
 * against local fakes, and the public endpoints (links, pixel, unsubscribe, webhooks) called as a mail client, a
 * phone or a provider would call them.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import twilio from 'twilio';
import { sendgridError } from '../fakes/sendgrid.fake';
import { startTestHerald, TEST_API_KEY, waitForNotification, type TestHerald } from '../support/herald';
import { startProviderFakes, type ProviderFakes } from '../support/provider-fakes';
import { createLocalTemporal } from '../support/temporal';

jest.setTimeout(120_000);

const PUBLIC_URL = 'https://herald.example.test';
const ANDROID_TOKEN = 'android-token-for-tracking-tests';

let temporal: TestWorkflowEnvironment;
let fakes: ProviderFakes;
let herald: TestHerald;
let sendgridKey: KeyObject;
let layoutDir: string;

beforeAll(async () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  sendgridKey = pair.privateKey;
  layoutDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-layout-'));
  const layout = path.join(layoutDir, 'layout.html');
  fs.writeFileSync(
    layout,
    '<html><body><div class="brand">ACME</div>{{ content }}' +
      '<p class="footer"><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>',
  );
  temporal = await createLocalTemporal();
  fakes = await startProviderFakes();
  herald = await startTestHerald({
    temporal,
    env: {
      ...fakes.env,
      HERALD_PUBLIC_URL: PUBLIC_URL,
      HERALD_EMAIL_LAYOUT_FILE: layout,
      HERALD_UNSUBSCRIBE_MAILTO: 'unsubscribe@acme.example',
      // As SendGrid shows it: base64 of the DER public key.
      SENDGRID_WEBHOOK_PUBLIC_KEY: pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    },
  });
  await herald.api('PUT', '/v1/templates/order', {
    channels: {
      push: { title: 'Order {{ order }}', body: 'It shipped' },
      sms: { body: 'Order {{ order }} shipped' },
      email: {
        subject: 'Order {{ order }} shipped',
        html: '<p>Hello {{ name }},</p><p><a href="https://shop.example/orders/{{ order }}?utm=mail&amp;x=1">Track your order</a></p>',
      },
    },
  });
});

afterAll(async () => {
  await herald?.stop();
  await fakes?.stop();
  await temporal?.teardown();
  if (layoutDir) fs.rmSync(layoutDir, { recursive: true, force: true });
});

/** Herald's public URLs point at HERALD_PUBLIC_URL; the test reaches the same routes on the local server. */
const local = (url: string) => url.replace(PUBLIC_URL, herald.url);

let users = 0;
async function createUser(options: { device?: boolean } = {}) {
  const userId = `tracked-${++users}`;
  await herald.api('PUT', `/v1/users/${userId}`, {
    email: `${userId}@example.com`,
    phone: `+1415555${String(1000 + users).slice(-4)}`,
    name: 'Ada',
  });
  if (options.device) {
    await herald.api('POST', `/v1/users/${userId}/devices`, {
      platform: 'android',
      token: `${ANDROID_TOKEN}-${users}`,
    });
  }
  return userId;
}

async function sendAndWait(body: Record<string, unknown>) {
  const response = await herald.api('POST', '/v1/notifications', body);
  expect(response.status).toBe(202);
  return waitForNotification(herald, response.body.id);
}

type Delivery = { id: string; channel: string; status: string; error?: string };
const deliveryOf = (notification: { deliveries: Delivery[] }, channel: string) =>
  notification.deliveries.find((d) => d.channel === channel)!;

/** The SendGrid request that carried a delivery (matched by its herald_delivery_id custom arg). */
function mailFor(deliveryId: string) {
  const request = fakes.sendgrid.requests.find(
    (r) =>
      (r.body?.personalizations as { custom_args?: Record<string, string> }[])?.[0]?.custom_args?.herald_delivery_id ===
      deliveryId,
  );
  expect(request).toBeDefined();
  const body = request!.body as {
    content: { type: string; value: string }[];
    personalizations: { headers?: Record<string, string>; custom_args?: Record<string, string> }[];
  };
  const html = body.content.find((c) => c.type === 'text/html')!.value;
  const text = body.content.find((c) => c.type === 'text/plain')!.value;
  return { body, html, text, headers: body.personalizations[0]!.headers ?? {} };
}

const trackedLinks = (html: string) =>
  [...html.matchAll(/href="(https:\/\/herald\.example\.test\/t\/[^"]+)"/g)].map((m) => m[1]!);
const pixelOf = (html: string) => /<img src="(https:\/\/herald\.example\.test\/o\/[^"]+)"/.exec(html)?.[1];

async function events(notificationId: string) {
  return (await herald.api('GET', `/v1/notifications/${notificationId}`)).body.events as {
    type: string;
    channel: string | null;
    deliveryId: string | null;
    source: string;
    counted: boolean;
    metadata: Record<string, unknown> | null;
  }[];
}

function signSendgrid(
  payload: string,
  key: KeyObject = sendgridKey,
  timestamp = String(Math.floor(Date.now() / 1000)),
) {
  return {
    'X-Twilio-Email-Event-Webhook-Signature': sign('sha256', Buffer.from(timestamp + payload), key).toString('base64'),
    'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
  };
}

async function postSendgrid(events: unknown[], headers?: Record<string, string>) {
  const payload = JSON.stringify(events);
  const response = await fetch(`${herald.url}/webhooks/sendgrid`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(headers ?? signSendgrid(payload)) },
    body: payload,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function postTwilio(deliveryId: string, params: Record<string, string>, signature?: string | null) {
  const pathAndQuery = `/webhooks/twilio?herald_delivery_id=${encodeURIComponent(deliveryId)}`;
  const expected = twilio.getExpectedTwilioSignature(fakes.twilio.authToken, `${PUBLIC_URL}${pathAndQuery}`, params);
  const response = await fetch(`${herald.url}${pathAndQuery}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'X-Twilio-Signature': signature ?? expected }),
    },
    body: new URLSearchParams(params).toString(),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const sendgridEvent = (deliveryId: string, event: string, extra: Record<string, unknown> = {}) => ({
  email: 'someone@example.com',
  timestamp: Math.floor(Date.now() / 1000),
  event,
  sg_event_id: `sg-${Math.random().toString(36).slice(2)}`,
  sg_message_id: 'unknown.filter0001',
  herald_delivery_id: deliveryId,
  ...extra,
});

describe('email done properly', () => {
  it('goes out in the layout with a text part, tracked links, an open pixel and RFC 8058 List-Unsubscribe', async () => {
    const userId = await createUser();
    const done = await sendAndWait({
      userId,
      template: 'order',
      channels: ['email'],
      data: { name: 'Ada', order: 'A-1' },
    });
    expect(done.status).toBe('delivered');
    const email = deliveryOf(done, 'email');
    const { html, text, headers } = mailFor(email.id);

    expect(html).toContain('<div class="brand">ACME</div><p>Hello Ada,</p>');
    const [trackLink, ...rest] = trackedLinks(html);
    expect(rest).toEqual([]); // the unsubscribe link is not rewritten
    expect(trackLink).toMatch(new RegExp(`^${PUBLIC_URL}/t/${email.id}\\.0\\.[A-Za-z0-9_-]{16}$`));
    expect(pixelOf(html)).toMatch(new RegExp(`^${PUBLIC_URL}/o/${email.id}\\.[A-Za-z0-9_-]{16}\\.gif$`));
    expect(text).toBe(
      `ACME\n\nHello Ada,\n\nTrack your order (${trackLink})\n\nUnsubscribe (${PUBLIC_URL}/u/${headers['List-Unsubscribe']!.split('/u/')[1]!.split('>')[0]})`,
    );

    const unsubscribe = `${PUBLIC_URL}/u/${email.id}.`;
    expect(headers['List-Unsubscribe']).toMatch(
      new RegExp(
        `^<${unsubscribe.replace(/\./g, '\\.')}[A-Za-z0-9_-]{16}>, <mailto:unsubscribe@acme\\.example\\?subject=unsubscribe%20${email.id}>$`,
      ),
    );
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(html).toContain(`href="${headers['List-Unsubscribe']!.slice(1).split('>')[0]}"`);
  });

  it('one-click unsubscribe turns email off for that category only; the GET page changes nothing', async () => {
    const userId = await createUser();
    const done = await sendAndWait({
      userId,
      template: 'order',
      channels: ['email'],
      category: 'shipping',
      data: { name: 'Ada', order: 'U-1' },
    });
    const { headers } = mailFor(deliveryOf(done, 'email').id);
    const url = headers['List-Unsubscribe']!.slice(1).split('>')[0]!;

    const page = await fetch(local(url));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Stop receiving emails about “shipping”?');
    expect((await herald.api('GET', `/v1/users/${userId}/preferences`)).body.categories).toEqual({});

    // What Gmail and Apple Mail send (RFC 8058 §3.2): a POST with this body, no cookies.
    const click = await fetch(local(url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(click.status).toBe(200);
    expect((await herald.api('GET', `/v1/users/${userId}/preferences`)).body).toMatchObject({
      channels: {},
      categories: { shipping: { email: false } },
    });
    expect((await events(done.id)).filter((e) => e.type === 'unsubscribed')).toHaveLength(1);

    const next = await sendAndWait({
      userId,
      template: 'order',
      category: 'shipping',
      data: { name: 'A', order: 'U-2' },
    });
    expect(deliveryOf(next, 'email')).toMatchObject({ status: 'skipped', error: 'user_disabled_email_for_category' });
    expect(deliveryOf(next, 'sms').status).toBe('sent');
    const other = await sendAndWait({
      userId,
      template: 'order',
      category: 'news',
      channels: ['email'],
      data: { name: 'A', order: 'U-3' },
    });
    expect(deliveryOf(other, 'email').status).toBe('sent');

    const forged = url.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await fetch(local(forged), { method: 'POST', body: 'List-Unsubscribe=One-Click' })).status).toBe(404);
  });
});

describe('tracked links and the open pixel', () => {
  let done: { id: string; deliveries: Delivery[] };
  let html: string;
  let userId: string;

  beforeAll(async () => {
    userId = await createUser();
    done = await sendAndWait({ userId, template: 'order', channels: ['email'], data: { name: 'Ada', order: 'L-1' } });
    html = mailFor(deliveryOf(done, 'email').id).html;
  });

  it('a tracked link redirects to the original URL and records the click (and the open it implies)', async () => {
    const [link] = trackedLinks(html);
    // A scanner's HEAD is answered but not counted.
    const probe = await fetch(local(link!), { method: 'HEAD', redirect: 'manual' });
    expect(probe.status).toBe(302);
    expect((await events(done.id)).filter((e) => e.type === 'clicked')).toEqual([]);

    const response = await fetch(local(link!), { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://shop.example/orders/L-1?utm=mail&x=1');
    const timeline = await events(done.id);
    expect(timeline.find((e) => e.type === 'clicked')).toMatchObject({
      channel: 'email',
      deliveryId: deliveryOf(done, 'email').id,
      source: 'link',
      counted: true,
      metadata: { url: 'https://shop.example/orders/L-1?utm=mail&x=1', link: 0 },
    });
    expect(timeline.find((e) => e.type === 'opened')).toMatchObject({ source: 'link', counted: true });
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['sent', 'clicked', 'opened']));
  });

  it('a tampered or forged link is refused with a 4xx and never redirects', async () => {
    const [link] = trackedLinks(html);
    const token = link!.split('/t/')[1]!;
    const [deliveryId, index, mac] = token.split('.') as [string, string, string];
    const flip = (s: string) => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');
    const attempts = [
      `${deliveryId}.${index}.${flip(mac)}`, // changed signature
      `${deliveryId}.1.${mac}`, // another link index
      `${flip(deliveryId)}.${index}.${mac}`, // another delivery
      `${deliveryId}.${index}`, // no signature
      'https%3A%2F%2Fevil.example', // a URL where a token should be
      `${deliveryId}.${index}.${mac}.x`,
    ];
    for (const attempt of attempts) {
      const response = await fetch(`${herald.url}/t/${attempt}`, { redirect: 'manual' });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.headers.get('location')).toBeNull();
    }
    expect((await events(done.id)).filter((e) => e.type === 'clicked')).toHaveLength(1);
  });

  it('the open pixel answers a 1×1 GIF and records the open; a forged pixel is a 404', async () => {
    const pixel = pixelOf(html)!;
    const before = (await events(done.id)).filter((e) => e.type === 'opened').length;
    const response = await fetch(local(pixel));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/gif');
    expect(
      Buffer.from(await response.arrayBuffer())
        .subarray(0, 6)
        .toString(),
    ).toBe('GIF89a');
    const opens = (await events(done.id)).filter((e) => e.type === 'opened');
    expect(opens).toHaveLength(before + 1);
    expect(opens.at(-1)).toMatchObject({ source: 'pixel', channel: 'email' });
    expect((await fetch(local(pixel.replace(/.{5}\.gif$/, 'AAAAA.gif')))).status).toBe(404);
  });

  it('once the user is erased, their links answer 410 and their events keep no details', async () => {
    expect((await herald.api('DELETE', `/v1/users/${userId}`)).status).toBe(200);
    const response = await fetch(local(trackedLinks(html)[0]!), { redirect: 'manual' });
    expect(response.status).toBe(410);
    expect(response.headers.get('location')).toBeNull();
    const timeline = await events(done.id);
    expect(timeline.find((e) => e.type === 'clicked')).toMatchObject({ metadata: null });
  });
});

describe('POST /v1/events', () => {
  it('records a push open reported with the ids Herald put in the push data, and a conversion', async () => {
    const userId = await createUser({ device: true });
    const done = await sendAndWait({
      userId,
      template: 'order',
      channels: ['push'],
      data: { name: 'A', order: 'P-1' },
    });
    const push = deliveryOf(done, 'push');
    const sent = fakes.fcm.sends.find((s) => JSON.stringify(s.body).includes(push.id))!;
    const data = (sent.body as { message: { data: Record<string, string> } }).message.data;
    expect(data).toMatchObject({ herald_notification_id: done.id, herald_delivery_id: push.id });

    const opened = await herald.api('POST', '/v1/events', {
      notificationId: data.herald_notification_id,
      deliveryId: data.herald_delivery_id,
      type: 'opened',
    });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ channel: 'push', stored: true, counted: true });
    const converted = await herald.api('POST', '/v1/events', {
      notificationId: done.id,
      type: 'converted',
      metadata: { orderValue: 42 },
    });
    expect(converted.body).toMatchObject({ channel: null, counted: true });
    const timeline = await events(done.id);
    expect(timeline.map((e) => [e.type, e.source])).toEqual([
      ['sent', 'herald'],
      ['delivered', 'herald'],
      ['opened', 'api'],
      ['converted', 'api'],
    ]);

    expect((await herald.api('POST', '/v1/events', { notificationId: 'ntf_nope', type: 'opened' })).status).toBe(404);
    const mismatch = await herald.api('POST', '/v1/events', {
      notificationId: done.id,
      deliveryId: 'dlv_other',
      type: 'opened',
    });
    expect(mismatch.body.error.code).toBe('delivery_mismatch');
    expect((await herald.api('POST', '/v1/events', { notificationId: done.id, type: 'delivered' })).status).toBe(400);
    const anonymous = await fetch(`${herald.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ notificationId: done.id, type: 'opened' }),
    });
    expect(anonymous.status).toBe(401);
    expect(TEST_API_KEY).toBeTruthy();
  });
});

describe('SendGrid Event Webhook', () => {
  it('accepts signed events (delivered, open, click) and stores a retried event once', async () => {
    const userId = await createUser();
    const done = await sendAndWait({
      userId,
      template: 'order',
      channels: ['email'],
      data: { name: 'A', order: 'S-1' },
    });
    const id = deliveryOf(done, 'email').id;
    const delivered = sendgridEvent(id, 'delivered');
    const batch = [
      delivered,
      sendgridEvent(id, 'open', { sg_machine_open: true }),
      sendgridEvent(id, 'click', { url: 'https://x.example' }),
    ];
    const response = await postSendgrid(batch);
    expect(response).toEqual({ status: 200, body: { received: 3, recorded: 3, ignored: 0 } });
    expect(await postSendgrid([delivered])).toEqual({ status: 200, body: { received: 1, recorded: 0, ignored: 1 } });
    const timeline = await events(done.id);
    expect(timeline.filter((e) => e.source === 'sendgrid').map((e) => e.type)).toEqual([
      'delivered',
      'opened',
      'clicked',
    ]);
    expect(timeline.find((e) => e.source === 'sendgrid' && e.type === 'opened')!.metadata).toMatchObject({
      machineOpen: true,
    });
  });

  it('rejects unsigned (401), forged (403) and tampered (403) posts, and records nothing from them', async () => {
    const userId = await createUser();
    const done = await sendAndWait({
      userId,
      template: 'order',
      channels: ['email'],
      data: { name: 'A', order: 'S-2' },
    });
    const events1 = [sendgridEvent(deliveryOf(done, 'email').id, 'delivered')];
    const payload = JSON.stringify(events1);

    expect((await postSendgrid(events1, {})).status).toBe(401);
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    expect((await postSendgrid(events1, signSendgrid(payload, otherKey))).status).toBe(403);
    const signedForOther = signSendgrid(JSON.stringify([{ ...events1[0], event: 'open' }]));
    expect((await postSendgrid(events1, signedForOther)).status).toBe(403);
    const good = signSendgrid(payload);
    const wrongTime = {
      ...good,
      'X-Twilio-Email-Event-Webhook-Timestamp': String(Number(good['X-Twilio-Email-Event-Webhook-Timestamp']) + 1),
    };
    expect((await postSendgrid(events1, wrongTime)).status).toBe(403);
    expect((await events(done.id)).filter((e) => e.source === 'sendgrid')).toEqual([]);
  });

  it('a hard bounce flags the address: the next email is skipped as email_invalid until the user changes it', async () => {
    const userId = await createUser();
    const first = await sendAndWait({
      userId,
      template: 'order',
      channels: ['email'],
      data: { name: 'A', order: 'B-1' },
    });
    const bounce = sendgridEvent(deliveryOf(first, 'email').id, 'bounce', {
      type: 'bounce',
      status: '5.1.1',
      reason: `550 5.1.1 <${userId}@example.com>: Recipient address rejected: User unknown`,
      bounce_classification: 'Invalid Address',
    });
    expect((await postSendgrid([bounce])).status).toBe(200);

    const user = (await herald.api('GET', `/v1/users/${userId}`)).body;
    expect(user.emailInvalidAt).toEqual(expect.any(String));
    expect(user.emailInvalidReason).toContain('bounce: 550 5.1.1');
    expect(user.emailInvalidReason).not.toContain('@example.com');
    const failed = (await events(first.id)).find((e) => e.type === 'failed')!;
    expect(failed).toMatchObject({ source: 'sendgrid', metadata: { bounceType: 'bounce', status: '5.1.1' } });

    const mailsBefore = fakes.sendgrid.requests.length;
    const second = await sendAndWait({ userId, template: 'order', data: { name: 'A', order: 'B-2' } });
    expect(deliveryOf(second, 'email')).toMatchObject({ status: 'skipped', error: 'email_invalid' });
    expect(deliveryOf(second, 'sms').status).toBe('sent');
    expect(fakes.sendgrid.requests.length).toBe(mailsBefore);

    // The same address again keeps the flag; a new one clears it.
    await herald.api('PUT', `/v1/users/${userId}`, { email: `${userId}@example.com` });
    expect((await herald.api('GET', `/v1/users/${userId}`)).body.emailInvalidAt).not.toBeNull();
    await herald.api('PUT', `/v1/users/${userId}`, { email: `${userId}.new@example.com` });
    expect((await herald.api('GET', `/v1/users/${userId}`)).body).toMatchObject({
      emailInvalidAt: null,
      emailInvalidReason: null,
    });
    const third = await sendAndWait({
      userId,
      template: 'order',
      channels: ['email'],
      data: { name: 'A', order: 'B-3' },
    });
    expect(deliveryOf(third, 'email').status).toBe('sent');
  });

  it('a soft bounce ("blocked") is recorded as a failure without flagging the address', async () => {
    const userId = await createUser();
    const done = await sendAndWait({
      userId,
      template: 'order',
      channels: ['email'],
      data: { name: 'A', order: 'B-4' },
    });
    await postSendgrid([
      sendgridEvent(deliveryOf(done, 'email').id, 'bounce', { type: 'blocked', reason: 'try later' }),
    ]);
    expect((await herald.api('GET', `/v1/users/${userId}`)).body.emailInvalidAt).toBeNull();
    expect((await events(done.id)).find((e) => e.type === 'failed')).toMatchObject({
      metadata: { bounceType: 'blocked' },
    });
  });

  it('an address SendGrid refuses at send time as invalid is flagged too', async () => {
    const userId = await createUser();
    fakes.sendgrid.enqueue(
      sendgridError(400, { message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' }),
    );
    const done = await sendAndWait({
      userId,
      template: 'order',
      channels: ['email'],
      data: { name: 'A', order: 'B-5' },
    });
    expect(deliveryOf(done, 'email').status).toBe('failed');
    expect((await herald.api('GET', `/v1/users/${userId}`)).body.emailInvalidAt).toEqual(expect.any(String));
    expect((await events(done.id)).map((e) => [e.type, e.source])).toEqual([['failed', 'herald']]);
  });
});

describe('Twilio status callback', () => {
  it('the SMS asks Twilio for receipts at Herald’s public URL, with the delivery id', async () => {
    const userId = await createUser();
    const before = fakes.twilio.requests.length;
    const done = await sendAndWait({ userId, template: 'order', channels: ['sms'], data: { name: 'A', order: 'T-0' } });
    expect(fakes.twilio.requests.slice(before)[0]!.body?.StatusCallback).toBe(
      `${PUBLIC_URL}/webhooks/twilio?herald_delivery_id=${deliveryOf(done, 'sms').id}`,
    );
  });

  it('accepts a signed receipt; rejects an unsigned (401) or forged (403) one', async () => {
    const userId = await createUser();
    const done = await sendAndWait({ userId, template: 'order', channels: ['sms'], data: { name: 'A', order: 'T-1' } });
    const sms = deliveryOf(done, 'sms') as Delivery & { providerMessageId: string };
    const params = {
      MessageSid: sms.providerMessageId,
      MessageStatus: 'delivered',
      AccountSid: fakes.twilio.accountSid,
    };

    expect((await postTwilio(sms.id, params, null)).status).toBe(401);
    const forged = twilio.getExpectedTwilioSignature(
      'not-the-auth-token',
      `${PUBLIC_URL}/webhooks/twilio?herald_delivery_id=${sms.id}`,
      params,
    );
    expect((await postTwilio(sms.id, params, forged)).status).toBe(403);
    // Signed for other parameters (status changed in transit).
    const signedDelivered = twilio.getExpectedTwilioSignature(
      fakes.twilio.authToken,
      `${PUBLIC_URL}/webhooks/twilio?herald_delivery_id=${sms.id}`,
      params,
    );
    expect((await postTwilio(sms.id, { ...params, MessageStatus: 'failed' }, signedDelivered)).status).toBe(403);
    expect((await events(done.id)).filter((e) => e.source === 'twilio')).toEqual([]);

    expect(await postTwilio(sms.id, params)).toEqual({ status: 200, body: { received: 1, recorded: 1, ignored: 0 } });
    expect(await postTwilio(sms.id, params)).toEqual({ status: 200, body: { received: 1, recorded: 0, ignored: 1 } });
    expect((await events(done.id)).filter((e) => e.source === 'twilio')).toMatchObject([
      { type: 'delivered', channel: 'sms', counted: true },
    ]);
  });

  it('an undeliverable number (30005) flags the phone: the next SMS is skipped as phone_invalid', async () => {
    const userId = await createUser();
    const done = await sendAndWait({ userId, template: 'order', channels: ['sms'], data: { name: 'A', order: 'T-2' } });
    const sms = deliveryOf(done, 'sms') as Delivery & { providerMessageId: string };
    await postTwilio(sms.id, { MessageSid: sms.providerMessageId, MessageStatus: 'undelivered', ErrorCode: '30005' });
    const user = (await herald.api('GET', `/v1/users/${userId}`)).body;
    expect(user).toMatchObject({ phoneInvalidReason: 'undelivered: Twilio error 30005' });
    const next = await sendAndWait({ userId, template: 'order', data: { name: 'A', order: 'T-3' } });
    expect(deliveryOf(next, 'sms')).toMatchObject({ status: 'skipped', error: 'phone_invalid' });
    expect(deliveryOf(next, 'email').status).toBe('sent');
  });
});

describe('GET /v1/stats', () => {
  it('matches a known set of events, grouped by category, with the rates', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const userId = await createUser({ device: true });
    const data = { name: 'A', order: 'X' };
    const one = await sendAndWait({ userId, template: 'order', category: 'stats-known', data });
    const two = await sendAndWait({ userId, template: 'order', category: 'stats-known', data });
    for (const n of [one, two]) {
      expect(n.deliveries.map((d: Delivery) => d.status)).toEqual(['sent', 'sent', 'sent']);
      const sms = deliveryOf(n, 'sms') as Delivery & { providerMessageId: string };
      await postTwilio(sms.id, { MessageSid: sms.providerMessageId, MessageStatus: 'delivered' });
    }
    const emailOne = deliveryOf(one, 'email').id;
    await postSendgrid([sendgridEvent(emailOne, 'delivered')]);
    const html = mailFor(emailOne).html;
    await fetch(local(pixelOf(html)!));
    await fetch(local(pixelOf(html)!)); // a second open: not counted again
    await fetch(local(trackedLinks(html)[0]!), { redirect: 'manual' }); // a click (its implied open is the same one)
    await postSendgrid([
      sendgridEvent(deliveryOf(two, 'email').id, 'bounce', { type: 'bounce', reason: 'unknown user' }),
    ]);
    await herald.api('POST', '/v1/events', {
      notificationId: two.id,
      deliveryId: deliveryOf(two, 'push').id,
      type: 'opened',
    });
    await herald.api('POST', '/v1/events', { notificationId: two.id, type: 'converted' });
    await herald.api('POST', '/v1/events', { notificationId: two.id, type: 'converted' }); // once per notification

    const to = new Date(Date.now() + 60_000).toISOString();
    const response = await herald.api('GET', `/v1/stats?from=${from}&to=${to}&groupBy=category`);
    expect(response.status).toBe(200);
    const group = response.body.groups.find((g: { key: string }) => g.key === 'stats-known');
    // 6 deliveries sent (email, sms, push × 2); delivered: 2 push (accepted), 2 SMS receipts, 1 email receipt.
    expect(group).toEqual({
      key: 'stats-known',
      sent: 6,
      delivered: 5,
      failed: 1,
      opened: 2,
      clicked: 1,
      converted: 1,
      rates: { delivery: 0.8333, failure: 0.1667, open: 0.4, click: 0.2, conversion: 0.1667 },
    });

    const bad = await herald.api('GET', `/v1/stats?from=${to}&to=${from}`);
    expect(bad.status).toBe(400);
    expect((await herald.api('GET', `/v1/stats?from=${from}&to=${to}&groupBy=user`)).status).toBe(400);
  });
});
