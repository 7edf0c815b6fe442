/**
 * Digests through the API, on the time-skipping server: a burst of 100 events in the same second is one message
 * listing all 100; two keys are two messages; an event canceled while its batch is open is left out; a user who
 * switched marketing to `daily` gets one message at 09:00 in their time zone. Bad digest settings are a 400.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTestHerald, type TestHerald } from '../support/herald';
import { createTimeSkippingTemporal } from '../support/temporal';
import { until } from '../support/until';

jest.setTimeout(240_000);

let temporal: TestWorkflowEnvironment;
let herald: TestHerald;
const MINUTE = 60_000;

beforeAll(async () => {
  temporal = await createTimeSkippingTemporal();
  herald = await startTestHerald({ temporal });
  expect(
    (
      await herald.api('PUT', '/v1/templates/comments', {
        channels: {
          sms: {
            body: '{{ count }} new comments by {{ distinct.actor | join: ", " }}:{% for e in events %} #{{ e.data.n }}{% endfor %}',
          },
        },
      })
    ).status,
  ).toBe(201);
});

afterAll(async () => {
  await herald?.stop();
  await temporal?.teardown();
});

async function newUser(id: string, timezone = 'UTC') {
  expect((await herald.api('PUT', `/v1/users/${id}`, { phone: '+14155550100', timezone })).status).toBe(201);
}

/** Advances the test server's clock by `ms` (timers due meanwhile fire). */
const skip = (ms: number) => temporal.sleep(ms);

/** Every outbox message for the user's digests, once `count` of them have been delivered. */
async function messagesOf(userId: string, count: number) {
  return until(
    `${count} digest message(s) for ${userId}`,
    async () => {
      const digests = await herald.db.prisma.notification.findMany({
        where: { userId, idempotencyKey: { startsWith: 'digest:' }, status: 'delivered' },
        include: { deliveries: true },
        orderBy: { createdAt: 'asc' },
      });
      if (digests.length < count) return undefined;
      const { body } = await herald.api('GET', '/v1/outbox?limit=500');
      const mine = digests.flatMap((d) =>
        (body.messages as { notificationId: string; content: { body: string } }[])
          .filter((m) => m.notificationId === d.id)
          .map((m) => ({ digestId: d.id, at: d.createdAt.getTime(), body: m.content.body })),
      );
      return mine.length >= count ? mine : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 200 },
  );
}

it('100 events for one user in the same second are one message listing all 100, and each reads digested', async () => {
  await newUser('burst-user');
  const send = (n: number) =>
    herald.api('POST', '/v1/notifications', {
      userId: 'burst-user',
      template: 'comments',
      data: { n, actor: n % 2 ? 'ana' : 'bo' },
      digest: { window: '10m', listed: 50, distinct: ['actor'] },
    });
  // Distinct actors are listed in the order they first arrived: bo's event is answered before the other 99 are sent.
  const first = await send(0);
  const answers = [first, ...(await Promise.all(Array.from({ length: 99 }, (_, n) => send(n + 1))))];
  expect(answers.map((a) => a.status)).toEqual(Array(100).fill(202));
  expect(new Set(answers.map((a) => a.body.status))).toEqual(new Set(['batched']));
  await skip(11 * MINUTE);

  const [message, ...more] = await messagesOf('burst-user', 1);
  expect(more).toEqual([]);
  expect(message!.body.startsWith('100 new comments by bo, ana:')).toBe(true);
  const listed = [...message!.body.matchAll(/#(\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  expect(listed).toEqual(Array.from({ length: 100 }, (_, n) => n));

  const event = (await herald.api('GET', `/v1/notifications/${answers[42]!.body.id}`)).body;
  expect(event).toMatchObject({ status: 'digested', digestId: message!.digestId });
  const digest = (await herald.api('GET', `/v1/notifications/${message!.digestId}`)).body;
  expect(digest).toMatchObject({ status: 'delivered', userId: 'burst-user', template: 'comments' });
});

it('two keys are two messages, and an event canceled while its batch is open is left out', async () => {
  await newUser('keys-user');
  const send = (n: number, key: string) =>
    herald.api('POST', '/v1/notifications', {
      userId: 'keys-user',
      template: 'comments',
      data: { n, actor: 'ana' },
      digest: { window: '10m', key },
    });
  const sent = [await send(1, 'post-1'), await send(2, 'post-1'), await send(3, 'post-2'), await send(4, 'post-2')];
  const canceled = await herald.api('DELETE', `/v1/notifications/${sent[3]!.body.id}`);
  expect(canceled).toMatchObject({ status: 200, body: { status: 'canceled' } });
  await skip(11 * MINUTE);

  const messages = await messagesOf('keys-user', 2);
  expect(messages.map((m) => m.body).sort()).toEqual(['1 new comments by ana: #3', '2 new comments by ana: #1 #2']);
  // Once sent, an event cannot be canceled any more.
  const late = await herald.api('DELETE', `/v1/notifications/${sent[0]!.body.id}`);
  expect(late).toMatchObject({ status: 409, body: { error: { code: 'not_cancelable' } } });
});

it('a user who switched marketing to daily gets one message at 09:00 in their time zone', async () => {
  await newUser('seoul-user', 'Asia/Seoul');
  expect(
    (await herald.api('PUT', '/v1/categories/marketing', { allowDigestPreference: true, digest: null })).status,
  ).toBe(201);
  const prefs = await herald.api('PUT', '/v1/users/seoul-user/preferences', {
    categories: { marketing: { digest: 'daily' } },
  });
  expect(prefs.status).toBe(200);

  const ids: string[] = [];
  for (const n of [1, 2, 3]) {
    const answer = await herald.api('POST', '/v1/notifications', {
      userId: 'seoul-user',
      template: 'comments',
      category: 'marketing',
      data: { n, actor: 'shop' },
    });
    expect(answer).toMatchObject({ status: 202, body: { status: 'batched' } });
    ids.push(answer.body.id);
  }
  const now = await temporal.currentTimeMs();
  // The next 09:00 in Seoul (UTC+9, no DST) is 00:00 UTC.
  const nineKst = Math.ceil((now + 1) / (24 * 60 * MINUTE)) * 24 * 60 * MINUTE;
  await skip(nineKst - now + MINUTE);

  const [message, ...more] = await messagesOf('seoul-user', 1);
  expect(more).toEqual([]);
  expect(message!.body).toBe('3 new comments by shop: #1 #2 #3');
  expect(message!.at).toBeGreaterThanOrEqual(nineKst);
  expect(message!.at).toBeLessThan(nineKst + MINUTE);
  // Without the preference (another user), marketing goes at once.
  await newUser('eager-user', 'Asia/Seoul');
  const eager = await herald.api('POST', '/v1/notifications', {
    userId: 'eager-user',
    template: 'comments',
    category: 'marketing',
    data: { n: 1 },
  });
  expect(eager.body.status).toBe('accepted');
});

it('refuses bad digest settings with 400 validation_error, and keeps the category digest it is given', async () => {
  for (const digest of [
    { window: '10' },
    { window: '0m' },
    { window: '10m', mode: 'hourly' },
    { window: '10m', cron: '0 9 * * *' },
    { cron: '0 9 30 2 *' },
    { cron: 'every day' },
    { window: '10m', maxEvents: 0 },
  ]) {
    const answer = await herald.api('POST', '/v1/notifications', { userId: 'x', template: 'comments', digest });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'validation_error' } } });
  }
  const put = await herald.api('PUT', '/v1/categories/comments', {
    digest: { window: '15m', mode: 'sliding', maxWindow: '1h', maxEvents: 50 },
  });
  expect(put).toMatchObject({
    status: 201,
    body: {
      digest: { window: '15m', mode: 'sliding', maxWindow: '1h', maxEvents: 50 },
      allowDigestPreference: false,
    },
  });
  const bad = await herald.api('PUT', '/v1/categories/comments', { digest: { window: '15m', mode: 'weekly' } });
  expect(bad).toMatchObject({ status: 400, body: { error: { code: 'validation_error' } } });
});

it('previews a sample digest per channel', async () => {
  const preview = await herald.api('POST', '/v1/templates/comments/preview', {
    data: { n: 7, actor: 'ana' },
    digest: { count: 3, distinct: ['actor'] },
  });
  expect(preview.status).toBe(200);
  expect(preview.body.channels.sms.body).toBe('3 new comments by ana: #7 #7 #7');
});
