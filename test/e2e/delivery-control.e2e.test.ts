/**
 * Delivery under pressure, end to end: the real API, a real Temporal dev server, one worker per task queue and the real
 * provider SDKs against local fakes (Twilio and Vonage for SMS, FCM for push, SendGrid for email), with delivery
 * control configured from a JSON file as an operator would.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { twilioError } from '../fakes/twilio.fake';
import { VonageFake, vonageStatus } from '../fakes/vonage.fake';
import { startTestHerald, waitForNotification, type TestHerald } from '../support/herald';
import { startProviderFakes, type ProviderFakes } from '../support/provider-fakes';
import { createLocalTemporal } from '../support/temporal';
import { until as poll } from '../support/until';

jest.setTimeout(180_000);

const SMS_RATE = 2;

let temporal: TestWorkflowEnvironment;
let fakes: ProviderFakes;
let vonage: VonageFake;
let herald: TestHerald;
let dir: string;
const alerts: Record<string, unknown>[] = [];
let alertReceiver: http.Server;

beforeAll(async () => {
  alertReceiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      alerts.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => alertReceiver.listen(0, '127.0.0.1', resolve));
  [temporal, fakes] = await Promise.all([createLocalTemporal(), startProviderFakes()]);
  vonage = new VonageFake();
  const vonageUrl = await vonage.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-delivery-'));
  const configFile = path.join(dir, 'delivery.json');
  const fast = { initialInterval: '100ms', backoffCoefficient: 1, maximumAttempts: 3 };
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      throttle: {
        rules: [
          { channel: 'push', category: 'marketing', limit: 3, per: '1h' },
          { channel: 'push', category: 'promo', limit: 3, per: '1h' },
          { channel: 'push', category: 'security', limit: 1, per: '1h' },
        ],
        categories: { promo: 'drop' },
      },
      channels: {
        push: { retry: fast },
        sms: { retry: fast, ratePerSecond: SMS_RATE },
        email: { retry: fast },
      },
      alerts: { minCalls: 3, threshold: 0.5, window: '10m', cooldown: '1h' },
    }),
  );
  herald = await startTestHerald({
    temporal,
    env: {
      ...fakes.env,
      VONAGE_API_KEY: vonage.apiKey,
      VONAGE_API_SECRET: vonage.apiSecret,
      VONAGE_FROM: 'Herald',
      VONAGE_ENDPOINT: vonageUrl,
      HERALD_DELIVERY_CONFIG_FILE: configFile,
      HERALD_ALERT_WEBHOOK_URL: `http://127.0.0.1:${(alertReceiver.address() as AddressInfo).port}/alerts`,
    },
  });
  await herald.api('PUT', '/v1/templates/news', {
    channels: { push: { title: 'News', body: 'Hello {{ n }}' }, sms: { body: 'News {{ n }}' } },
  });
  await herald.api('PUT', '/v1/templates/text', { channels: { sms: { body: 'Text {{ n }}' } } });
  await herald.api('PUT', '/v1/templates/mail', { channels: { email: { subject: 'Mail', text: 'Mail {{ n }}' } } });
  await herald.api('PUT', '/v1/categories/security', { critical: true });
});

afterAll(async () => {
  await herald?.stop();
  await Promise.all([fakes?.stop(), vonage?.stop(), temporal?.teardown()]);
  await new Promise((resolve) => alertReceiver?.close(resolve));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  fakes.twilio.reset();
  vonage.reset();
});

let users = 0;
async function user(options: { device?: boolean; phone?: string } = {}) {
  const id = `dc-user-${++users}`;
  const phone = options.phone ?? `+1415555${String(1000 + users).padStart(4, '0')}`;
  await herald.api('PUT', `/v1/users/${id}`, { phone, email: `${id}@example.com` });
  if (options.device !== false) {
    await herald.api('POST', `/v1/users/${id}/devices`, { platform: 'android', token: `fcm-token-${id}-0001` });
  }
  return { id, phone };
}

async function send(body: Record<string, unknown>) {
  const response = await herald.api('POST', '/v1/notifications', body);
  expect(response.status).toBe(202);
  return response.body.id as string;
}

/** Polls the API (re-drives run in their own workflows) until the notification satisfies `done`. */
function until(id: string, done: (n: { status: string; [k: string]: unknown }) => boolean, timeoutMs = 60_000) {
  let last = 'unread';
  return poll(
    () => `notification ${id} to move on (it stayed ${last})`,
    async () => {
      const { body } = await herald.api('GET', `/v1/notifications/${id}`);
      last = body.status;
      return done(body) ? body : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

const sentTo = (phone: string) => fakes.twilio.sent.filter((m) => m.to === phone).length;

describe('per-user throttle', () => {
  it("a user's 4th marketing push in an hour waits for the next free slot, while another user's goes at once", async () => {
    const busy = await user();
    const ids = [];
    for (let n = 1; n <= 4; n++)
      ids.push(
        await send({ userId: busy.id, template: 'news', channels: ['push'], category: 'marketing', data: { n } }),
      );
    // The four workflows run at once, so which one reaches the throttle fourth is up to them: any one may wait.
    const settled = await Promise.all(
      ids.map((id) => until(id, (n) => n.status === 'delivered' || n.holdReason === 'throttled')),
    );
    const sent = settled.filter((n) => n.status === 'delivered');
    const waiting = settled.filter((n) => n.status !== 'delivered');
    expect(sent).toHaveLength(3);
    expect(waiting).toHaveLength(1);
    const held = waiting[0]!;
    expect(held.status).toBe('scheduled');
    const firstSent = Math.min(...sent.map((n) => Date.parse((n.deliveries as { at: string }[])[0]!.at)));
    // The next free slot is an hour after the first of the three went out.
    expect(Date.parse(held.heldUntil as string)).toBeGreaterThanOrEqual(firstSent + 3_590_000);
    expect(Date.parse(held.heldUntil as string)).toBeLessThanOrEqual(Date.now() + 3_600_000);

    const other = await user();
    const otherId = await send({
      userId: other.id,
      template: 'news',
      channels: ['push'],
      category: 'marketing',
      data: { n: 1 },
    });
    expect((await waitForNotification(herald, otherId)).status).toBe('delivered');
    expect((await herald.api('GET', `/v1/notifications/${held.id as string}`)).body.status).toBe('scheduled');

    // A held notification can still be canceled.
    const canceled = await herald.api('DELETE', `/v1/notifications/${held.id as string}`);
    expect(canceled.body.status).toBe('canceled');
  });

  it('under the drop policy the 4th is suppressed with the reason', async () => {
    const u = await user();
    const ids = [];
    for (let n = 1; n <= 4; n++)
      ids.push(await send({ userId: u.id, template: 'news', channels: ['push'], category: 'promo', data: { n } }));
    const results = await Promise.all(ids.map((id) => waitForNotification(herald, id)));
    expect(results.map((n) => n.status).sort()).toEqual(['delivered', 'delivered', 'delivered', 'suppressed']);
    const dropped = results.find((n) => n.status === 'suppressed')!;
    expect(dropped.error).toMatch(/^throttled: promo push limit 3 per 1h/);
    expect(dropped.deliveries[0]).toMatchObject({ status: 'skipped', error: expect.stringMatching(/^throttled/) });
  });

  it('a critical category bypasses the throttle', async () => {
    const u = await user();
    const ids = [
      await send({ userId: u.id, template: 'news', channels: ['push'], category: 'security', data: { n: 1 } }),
      await send({ userId: u.id, template: 'news', channels: ['push'], category: 'security', data: { n: 2 } }),
    ];
    const results = await Promise.all(ids.map((id) => waitForNotification(herald, id)));
    expect(results.map((n) => n.status)).toEqual(['delivered', 'delivered']);
  });
});

describe('retries, failover and per-provider rate', () => {
  it('a 500-then-200 provider is retried and delivered; a permanent error is not retried', async () => {
    const a = await user({ device: false });
    fakes.twilio.enqueue(twilioError(500, 20500, 'Internal Server Error'));
    const retried = await waitForNotification(herald, await send({ userId: a.id, template: 'text', data: { n: 1 } }));
    expect(retried.status).toBe('delivered');
    expect(retried.deliveries[0]).toMatchObject({ provider: 'twilio', status: 'sent', attempts: 2 });
    expect(fakes.twilio.requests).toHaveLength(2);

    fakes.twilio.reset();
    const b = await user({ device: false });
    fakes.twilio.enqueue(twilioError(400, 21211, "The 'To' number is not a valid phone number."));
    const dead = await waitForNotification(herald, await send({ userId: b.id, template: 'text', data: { n: 1 } }));
    expect(dead.status).toBe('failed');
    expect(dead.deliveries[0]).toMatchObject({ provider: 'twilio', status: 'failed', attempts: 1 });
    expect(fakes.twilio.requests).toHaveLength(1);
    expect(vonage.requests).toHaveLength(0); // a dead number is not the provider's fault: no failover
  });

  it('fails over to Vonage when Twilio is down, records Vonage as the provider, and alerts the operator once', async () => {
    const u = await user({ device: false });
    for (let i = 0; i < 3; i++) fakes.twilio.enqueue(twilioError(503, 20503, 'Service Unavailable'));
    const n = await waitForNotification(herald, await send({ userId: u.id, template: 'text', data: { n: 1 } }));
    expect(n.status).toBe('delivered');
    expect(n.deliveries[0]).toMatchObject({ channel: 'sms', provider: 'vonage', status: 'sent' });
    expect(fakes.twilio.requests).toHaveLength(3);
    expect(vonage.sent).toHaveLength(1);
    expect(vonage.sent[0]).toMatchObject({ to: u.phone.slice(1), text: 'Text 1', from: 'Herald' });

    // Twilio's failure rate crossed 50% over at least 3 calls: one alert, then the cooldown holds. Workers add their
    // counts to the shared window once a second, so the alert follows the failures by up to that long.
    await poll('the Twilio alert', async () => (alerts.some((a) => a.provider === 'twilio') ? true : undefined));
    const twilioAlerts = alerts.filter((a) => a.provider === 'twilio');
    expect(twilioAlerts).toHaveLength(1);
    expect(twilioAlerts[0]).toMatchObject({ type: 'provider_failure_rate', provider: 'twilio', threshold: 0.5 });
    expect(twilioAlerts[0]!.failureRate as number).toBeGreaterThanOrEqual(0.5);
  });

  it(`spreads a burst of SMS at the configured ${SMS_RATE}/s, while email is not held up`, async () => {
    const burst = 10;
    const people = await Promise.all(Array.from({ length: burst }, () => user({ device: false })));
    const start = Date.now();
    const ids = await Promise.all(people.map((p, i) => send({ userId: p.id, template: 'text', data: { n: i } })));
    const mail = await send({ userId: people[0]!.id, template: 'mail', data: { n: 0 } });
    const mailDone = await waitForNotification(herald, mail);
    const mailAt = Date.now();
    const results = await Promise.all(ids.map((id) => waitForNotification(herald, id)));
    expect(results.every((n) => n.status === 'delivered')).toBe(true);

    const sentAt = results.map((n) => Date.parse(n.deliveries[0].at)).sort((x, y) => x - y);
    const span = (sentAt[burst - 1]! - sentAt[0]!) / 1000;
    const rate = (burst - 1) / span;
    // An upper bound, not exact timing: the server may let a small first burst through, never much more.
    expect(rate).toBeLessThanOrEqual(SMS_RATE * 1.6);
    // The email channel has its own queue and rate: the SMS limit does not apply to it. (When it finished relative to
    // the SMS is printed below, not asserted: tests assert behaviour, never timings.)
    expect(mailDone.status).toBe('delivered');
    console.log(
      `SMS burst of ${burst}: ${span.toFixed(2)} s at the provider, ${rate.toFixed(2)}/s; email done after ${mailAt - start} ms`,
    );
  });
});

describe('escalation', () => {
  it('sends the SMS when the push is not opened in time, and not when it is', async () => {
    const ignored = await user();
    const opened = await user();
    const escalation = { afterMinutes: 0.05, channel: 'sms' };
    const a = await send({ userId: ignored.id, template: 'news', channels: ['push'], escalation, data: { n: 1 } });
    const b = await send({ userId: opened.id, template: 'news', channels: ['push'], escalation, data: { n: 2 } });
    await until(b, (n) => n.status === 'delivered');
    const open = await herald.api('POST', `/v1/notifications/${b}/opened`);
    expect(open.status).toBe(200);

    const escalated = await waitForNotification(herald, a);
    const notEscalated = await waitForNotification(herald, b);
    expect(escalated.deliveries.map((d: { channel: string; status: string }) => `${d.channel}:${d.status}`)).toEqual([
      'push:sent',
      'sms:sent',
    ]);
    expect(sentTo(ignored.phone)).toBe(1);
    expect(notEscalated.deliveries.map((d: { channel: string }) => d.channel)).toEqual(['push']);
    expect(sentTo(opened.phone)).toBe(0);
  });
  it('an escalation to e-mail is the e-mail the first plan would send: unsubscribe link, List-Unsubscribe, tracking', async () => {
    await herald.api('PUT', '/v1/templates/nudge', {
      channels: {
        push: { title: 'Nudge', body: 'Nudge {{ n }}' },
        email: {
          subject: 'Nudge {{ n }}',
          html: '<p>Nudge {{ n }}: <a href="https://example.com/n">look</a></p><a href="{{ unsubscribe_url }}">stop</a>',
        },
      },
    });
    const ignored = await user();
    const before = fakes.sendgrid.sent.length;
    const id = await send({
      userId: ignored.id,
      template: 'nudge',
      channels: ['push'],
      escalation: { afterMinutes: 0.05, channel: 'email' },
      data: { n: 7 },
    });
    const escalated = await waitForNotification(herald, id);
    expect(escalated.deliveries.map((d: { channel: string; status: string }) => `${d.channel}:${d.status}`)).toEqual([
      'push:sent',
      'email:sent',
    ]);
    expect(fakes.sendgrid.sent.length - before).toBe(1);
    const mail = JSON.stringify(fakes.sendgrid.sent.at(-1)!.body);
    const email = escalated.deliveries.find((d: { channel: string }) => d.channel === 'email');
    // The unsubscribe link is this delivery's own, in the body and in the List-Unsubscribe header (RFC 8058).
    expect(mail).toMatch(/List-Unsubscribe/);
    expect(mail).toContain('/u/');
    // Links are rewritten to tracked redirects, as in any e-mail Herald sends.
    expect(mail).toContain('/t/');
    expect(mail).not.toContain('https://example.com/n');
    expect(email.status).toBe('sent');
  });
});

describe('the failed queue', () => {
  it('after an outage, a bulk re-drive delivers only the failed targets, exactly once', async () => {
    const people = [await user(), await user()];
    // Both SMS providers are down: each SMS fails on Twilio (3 attempts) and on Vonage (3 attempts).
    for (let i = 0; i < 6; i++) fakes.twilio.enqueue(twilioError(503, 20503, 'Service Unavailable'));
    for (let i = 0; i < 6; i++) vonage.enqueue(vonageStatus('5', 'Internal Error'));
    const pushesBefore = fakes.fcm.sends.length;
    const ids = [];
    for (const p of people) ids.push(await send({ userId: p.id, template: 'news', data: { n: 1 } }));
    const failed = await Promise.all(ids.map((id) => waitForNotification(herald, id)));
    expect(failed.map((n) => n.status)).toEqual(['partially_delivered', 'partially_delivered']);
    expect(fakes.fcm.sends.length - pushesBefore).toBe(2);

    const list = await herald.api('GET', '/v1/notifications?status=partially_delivered,failed&limit=1');
    expect(list.status).toBe(200);
    expect(list.body.notifications).toHaveLength(1);
    const page2 = await herald.api(
      'GET',
      `/v1/notifications?status=partially_delivered,failed&limit=1&cursor=${list.body.nextCursor}`,
    );
    expect(page2.body.notifications).toHaveLength(1);
    expect(page2.body.notifications[0].id).not.toBe(list.body.notifications[0].id);
    expect((await herald.api('GET', '/v1/notifications?status=nope')).status).toBe(400);

    // The outage is over. Two operators press "retry all" at once.
    const [first, second] = await Promise.all([
      herald.api('POST', '/v1/notifications/retry', { ids }),
      herald.api('POST', '/v1/notifications/retry', { ids }),
    ]);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    const done = await Promise.all(ids.map((id) => until(id, (n) => n.status === 'delivered')));
    for (const n of done) {
      expect(
        (n.deliveries as { channel: string; status: string }[]).map((d) => `${d.channel}:${d.status}`).sort(),
      ).toEqual(['push:sent', 'sms:sent']);
    }
    // Let any stray duplicate run finish before counting.
    await new Promise((r) => setTimeout(r, 1500));
    for (const p of people) expect(sentTo(p.phone)).toBe(1);
    expect(fakes.fcm.sends.length - pushesBefore).toBe(2); // delivered pushes were never re-sent

    // A delivered notification is not re-driven.
    const again = await herald.api('POST', `/v1/notifications/${ids[0]}/retry`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('not_retryable');
  });
});
