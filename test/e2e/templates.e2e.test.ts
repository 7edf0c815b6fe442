/**
 * Templates through the real API, worker and provider fakes, on Temporal's time-skipping server so that a notification
 * scheduled an hour ahead is sent as soon as the test waits for it — after the template has been edited.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTestHerald, waitForNotification, type TestHerald } from '../support/herald';
import { startProviderFakes, type ProviderFakes } from '../support/provider-fakes';
import { createTimeSkippingTemporal } from '../support/temporal';

jest.setTimeout(120_000);

let temporal: TestWorkflowEnvironment;
let fakes: ProviderFakes;
let herald: TestHerald;

beforeAll(async () => {
  temporal = await createTimeSkippingTemporal();
  fakes = await startProviderFakes();
  herald = await startTestHerald({ env: { ...fakes.env, HERALD_TRACK_SMS_LINKS: 'true' }, temporal });
});

afterAll(async () => {
  await herald?.stop();
  await fakes?.stop();
  await temporal?.teardown();
});

async function put(path: string, body: unknown, expected = [200, 201]) {
  const response = await herald.api('PUT', path, body);
  expect(expected).toContain(response.status);
  return response.body;
}

async function send(body: Record<string, unknown>) {
  const response = await herald.api('POST', '/v1/notifications', body);
  expect(response.status).toBe(202);
  return response.body as { id: string; status: string };
}

describe('locales', () => {
  it('a ko-KR user gets the ko text, a ko user too, an fr user the default; a channel ko lacks comes from the default', async () => {
    await put('/v1/templates/shipped', {
      channels: {
        sms: { body: 'Your order {{ order }} has shipped' },
        email: { subject: 'Order {{ order }}', text: 'Shipped: {{ order }}' },
      },
      locales: { ko: { sms: { body: '주문 {{ order }}이(가) 발송되었습니다' } } },
    });
    const bodies: Record<string, string> = {};
    for (const locale of ['ko-KR', 'ko', 'fr-FR']) {
      const userId = `locale-${locale}`;
      await put(`/v1/users/${userId}`, { phone: '+821012345678', email: `${userId}@example.com`, locale });
      const before = fakes.twilio.requests.length;
      const mailBefore = fakes.sendgrid.requests.length;
      const done = await waitForNotification(
        herald,
        (await send({ userId, template: 'shipped', data: { order: 'K-1' } })).id,
      );
      expect(done.status).toBe('delivered');
      bodies[locale] = String(fakes.twilio.requests.slice(before)[0]!.body!.Body);
      expect(fakes.sendgrid.requests.slice(mailBefore)[0]!.body).toMatchObject({ subject: 'Order K-1' });
    }
    expect(bodies).toEqual({
      'ko-KR': '주문 K-1이(가) 발송되었습니다',
      ko: '주문 K-1이(가) 발송되었습니다',
      'fr-FR': 'Your order K-1 has shipped',
    });
  });
});

describe('versions', () => {
  it('a notification held by sendAt is sent with the version it was accepted with, though the template changed meanwhile', async () => {
    const v1 = await put('/v1/templates/pinned', { channels: { sms: { body: 'v1: hello {{ name }}' } } });
    expect(v1.version).toBe(1);
    await put('/v1/users/pinning', { phone: '+14155550123' });

    // The test server's clock (earlier tests may have skipped it forward).
    const sendAt = new Date((await temporal.currentTimeMs()) + 3600_000).toISOString();
    const held = await send({ userId: 'pinning', template: 'pinned', data: { name: 'Ada' }, sendAt });
    expect(held.status).toBe('scheduled');

    // The edit: a new version, with a variable the held notification's data does not even have.
    const v2 = await put('/v1/templates/pinned', { channels: { sms: { body: 'v2: {{ greeting }} {{ name }}' } } });
    expect(v2.version).toBe(2);
    expect((await herald.api('GET', '/v1/templates/pinned')).body.version).toBe(2);

    const before = fakes.twilio.requests.length;
    // Herald's own client (with the payload codec) does not unlock time skipping while it waits: skip the hour here.
    await temporal.sleep(3600_000 + 1000);
    const done = await waitForNotification(herald, held.id);
    expect(done).toMatchObject({ status: 'delivered', templateVersion: 1 });
    expect(fakes.twilio.requests.slice(before).map((r) => r.body?.Body)).toEqual(['v1: hello Ada']);

    // A notification accepted now gets version 2.
    const now = await waitForNotification(
      herald,
      (await send({ userId: 'pinning', template: 'pinned', data: { name: 'Ada', greeting: 'Hi' } })).id,
    );
    expect(now).toMatchObject({ status: 'delivered', templateVersion: 2 });
    expect(fakes.twilio.requests.at(-1)!.body?.Body).toBe('v2: Hi Ada');

    const versions = (await herald.api('GET', '/v1/templates/pinned/versions')).body;
    expect(versions).toMatchObject({
      id: 'pinned',
      currentVersion: 2,
      versions: [
        { version: 2, current: true },
        { version: 1, current: false },
      ],
    });
    const first = await herald.api('GET', '/v1/templates/pinned/versions/1');
    expect(first.body).toMatchObject({ version: 1, channels: { sms: { body: 'v1: hello {{ name }}' } } });
    // Like every other 404, the error names the resource and its id (and here the version asked for).
    const missing = await herald.api('GET', '/v1/templates/pinned/versions/9');
    expect([missing.status, missing.body.error]).toEqual([
      404,
      {
        code: 'template_version_not_found',
        message: 'template "pinned" has no version 9',
        details: { resource: 'template_version', id: 'pinned', version: 9 },
      },
    ]);
  });
});

describe('SMS links', () => {
  it('with HERALD_TRACK_SMS_LINKS, a link in an SMS is sent as a tracked redirect to it', async () => {
    await put('/v1/templates/sms-link', {
      channels: { sms: { body: 'Track it: https://shop.example/o/{{ order }}.' } },
    });
    await put('/v1/users/sms-link', { phone: '+14155550199' });
    const done = await waitForNotification(
      herald,
      (await send({ userId: 'sms-link', template: 'sms-link', data: { order: 'Z-9' } })).id,
    );
    const body = String(fakes.twilio.requests.at(-1)!.body?.Body);
    const link = /http:\/\/localhost:3000\/t\/\S+(?=\.$)/.exec(body)?.[0];
    expect(link).toContain(`/t/${done.deliveries[0].id}.0.`);
    const response = await fetch(link!.replace('http://localhost:3000', herald.url), { redirect: 'manual' });
    expect(response.headers.get('location')).toBe('https://shop.example/o/Z-9');
  });
});

describe('saving', () => {
  it('a template that does not parse is a 422 naming the field, line and column, and no version is stored', async () => {
    const response = await herald.api('PUT', '/v1/templates/broken', {
      channels: {
        email: { subject: 'Hi', html: '<p>Hello</p>\n<p>{{ name }}</p>\n  {% if vip %}<b>VIP</b>\n<p>bye</p>' },
      },
    });
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({
      code: 'template_syntax_error',
      message: 'channels.email.html: line 3, column 3: tag {% if vip %} not closed',
      details: { field: 'channels.email.html', line: 3, column: 3 },
    });
    expect((await herald.api('GET', '/v1/templates/broken')).status).toBe(404);
  });
});

describe('preview', () => {
  beforeAll(async () => {
    await put('/v1/templates/otp', {
      channels: {
        sms: { body: 'Your {{ app }} code is {{ code }}. Valid 10 min. Questions? Reply HELP [ref {{ ref }}]' },
        push: { title: '{{ app }}', body: 'Code {{ code }}', data: { code: '{{ code }}' } },
        email: { subject: '{{ app }} code', html: '<p>Your code: <b>{{ code }}</b></p>' },
      },
      locales: {
        ko: {
          sms: {
            body: '[{{ app }}] 인증번호는 {{ code }}입니다. 10분 동안 유효합니다. 본인이 요청하지 않았다면 이 메시지를 무시하고 고객센터로 문의해 주세요.',
          },
        },
      },
    });
  });

  it('a GSM-7 SMS: encoding, characters, septets (the brackets cost two) and one segment', async () => {
    const response = await herald.api('POST', '/v1/templates/otp/preview', {
      data: { app: 'Herald', code: '123456', ref: 'A1' },
      locale: 'en-US',
    });
    expect(response.status).toBe(200);
    const body = 'Your Herald code is 123456. Valid 10 min. Questions? Reply HELP [ref A1]';
    expect(response.body).toMatchObject({ template: 'otp', version: 1, locale: { requested: 'en-US', used: null } });
    expect(response.body.channels.sms).toEqual({
      body,
      encoding: 'GSM-7',
      characters: body.length,
      units: body.length + 2,
      segments: 1,
      perSegment: 160,
      nonGsmCharacters: [],
      missingVariables: [],
    });
    expect(response.body.missingVariables).toEqual([]);
    // Push: the payload as APNs and FCM would get it, ids included, well under 4 KB.
    expect(response.body.channels.push).toMatchObject({
      title: 'Herald',
      body: 'Code 123456',
      limitBytes: 4096,
      fits: true,
    });
    expect(response.body.channels.push.payloadBytes.apns).toBeGreaterThan(100);
    expect(response.body.channels.email).toMatchObject({ textDerived: true, text: 'Your code: 123456' });
  });

  it('a Korean SMS (ko-KR → ko) is UCS-2 and, at 71 characters or more, two 67-unit segments', async () => {
    const response = await herald.api('POST', '/v1/templates/otp/preview', {
      data: { app: 'Herald', code: '123456' },
      locale: 'ko-KR',
    });
    expect(response.status).toBe(200);
    const sms = response.body.channels.sms;
    expect(response.body.locale).toEqual({ requested: 'ko-KR', used: 'ko' });
    expect(sms.body.startsWith('[Herald] 인증번호는 123456입니다.')).toBe(true);
    expect(sms).toMatchObject({ encoding: 'UCS-2', perSegment: 67, segments: 2, missingVariables: [] });
    expect(sms.characters).toBe([...sms.body].length);
    expect(sms.units).toBe(sms.body.length);
    expect(sms.characters).toBeGreaterThan(70);
    expect(sms.characters).toBeLessThanOrEqual(134);
    expect(sms.nonGsmCharacters).toContain('인');
  });

  it('lists the variables a real send would be missing, per channel, and still renders the rest', async () => {
    const response = await herald.api('POST', '/v1/templates/otp/preview', { data: { app: 'Herald' } });
    expect(response.status).toBe(200);
    expect(response.body.missingVariables).toEqual(['code', 'ref']);
    expect(response.body.channels.sms.missingVariables).toEqual([
      { field: 'sms.body', variable: 'code' },
      { field: 'sms.body', variable: 'ref' },
    ]);
    expect(response.body.channels.push.missingVariables.map((m: { field: string }) => m.field)).toEqual([
      'push.body',
      'push.data.code',
    ]);
    expect(response.body.channels.sms.body).toBe('Your Herald code is . Valid 10 min. Questions? Reply HELP [ref ]');
  });

  it('a push payload over 4 KB is reported as not fitting; unknown templates and users are 404s', async () => {
    await put('/v1/templates/huge', { channels: { push: { title: 'Big', body: '{{ text }}' } } });
    const response = await herald.api('POST', '/v1/templates/huge/preview', { data: { text: 'x'.repeat(5000) } });
    expect(response.body.channels.push).toMatchObject({ fits: false, limitBytes: 4096 });
    expect(response.body.channels.push.payloadBytes.apns).toBeGreaterThan(5000);
    expect((await herald.api('POST', '/v1/templates/nope/preview', {})).status).toBe(404);
    expect((await herald.api('POST', '/v1/templates/huge/preview', { userId: 'nobody' })).status).toBe(404);
    expect((await herald.api('POST', '/v1/templates/huge/preview', { locale: 'not a locale' })).status).toBe(400);
  });
});
