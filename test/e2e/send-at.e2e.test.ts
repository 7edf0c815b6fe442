/**
 * Send-at through the API on a real dev server (real time, so send times are seconds away): a scheduled notification
 * is delivered at its time, PATCH moves it, DELETE cancels it, and its idempotency key still means one notification.
 * Channels without credentials deliver to the outbox, which records one row per delivery.
 */
import { startTestHerald, waitForNotification, type TestHerald } from '../support/herald';

jest.setTimeout(120_000);

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald();
  await herald.api('PUT', '/v1/templates/reminder', {
    channels: { email: { subject: 'Reminder {{ n }}', text: 'Do the thing ({{ n }})' } },
  });
});
afterAll(async () => {
  await herald?.stop();
});

let users = 0;
async function newUser() {
  const userId = `send-at-${++users}`;
  expect((await herald.api('PUT', `/v1/users/${userId}`, { email: `${userId}@example.com` })).status).toBe(201);
  return userId;
}

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

async function schedule(userId: string, sendAt: string, headers: Record<string, string> = {}) {
  const response = await herald.api(
    'POST',
    '/v1/notifications',
    { userId, template: 'reminder', data: { n: 1 }, sendAt },
    headers,
  );
  expect(response.status).toBe(202);
  expect(response.body.status).toBe('scheduled');
  return response.body.id as string;
}

/** Messages the outbox "provider" received for this notification. */
async function outboxFor(notificationId: string) {
  const deliveries = await herald.db.prisma.delivery.findMany({ where: { notificationId }, select: { id: true } });
  return herald.db.prisma.outboxMessage.count({ where: { deliveryId: { in: deliveries.map((d) => d.id) } } });
}

describe('send-at through the API', () => {
  it('a scheduled notification is delivered at its time, not before', async () => {
    const sendAt = inSeconds(2);
    const id = await schedule(await newUser(), sendAt);
    expect(await outboxFor(id)).toBe(0);
    const done = await waitForNotification(herald, id);
    expect(done.status).toBe('delivered');
    expect(Date.parse(done.deliveries[0].at)).toBeGreaterThanOrEqual(Date.parse(sendAt));
    expect(await outboxFor(id)).toBe(1);
  });

  it('PATCH moves a notification an hour away to a few seconds away; it is delivered then, once', async () => {
    const id = await schedule(await newUser(), inSeconds(3600));
    const sendAt = inSeconds(2);
    const moved = await herald.api('PATCH', `/v1/notifications/${id}`, { sendAt });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id, status: 'scheduled', sendAt });
    const done = await waitForNotification(herald, id);
    expect(done.status).toBe('delivered');
    expect(Date.parse(done.deliveries[0].at)).toBeGreaterThanOrEqual(Date.parse(sendAt));
    expect(await outboxFor(id)).toBe(1);
  });

  it('PATCH moves a notification later: it is not sent at the old time, and can then be canceled', async () => {
    const id = await schedule(await newUser(), inSeconds(1));
    const later = inSeconds(3600);
    expect((await herald.api('PATCH', `/v1/notifications/${id}`, { sendAt: later })).body.sendAt).toBe(later);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const waiting = await herald.api('GET', `/v1/notifications/${id}`);
    expect(waiting.body).toMatchObject({ status: 'scheduled', sendAt: later, deliveries: [] });

    expect((await herald.api('DELETE', `/v1/notifications/${id}`)).body.status).toBe('canceled');
    expect((await waitForNotification(herald, id)).status).toBe('canceled');
    expect(await outboxFor(id)).toBe(0);
    // Canceled: it cannot be moved any more.
    const refused = await herald.api('PATCH', `/v1/notifications/${id}`, { sendAt: inSeconds(1) });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('not_reschedulable');
  });

  it('the same Idempotency-Key after a move is the same notification, still at its moved time', async () => {
    const userId = await newUser();
    const key = `reminder-${userId}`;
    const id = await schedule(userId, inSeconds(3600), { 'Idempotency-Key': key });
    const moved = inSeconds(7200);
    await herald.api('PATCH', `/v1/notifications/${id}`, { sendAt: moved });
    const again = await herald.api(
      'POST',
      '/v1/notifications',
      { userId, template: 'reminder', data: { n: 1 }, sendAt: inSeconds(60) },
      { 'Idempotency-Key': key },
    );
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await herald.api('GET', `/v1/notifications/${id}`)).body.sendAt).toBe(moved);
    expect(await herald.db.prisma.notification.count({ where: { idempotencyKey: key } })).toBe(1);
    await herald.api('DELETE', `/v1/notifications/${id}`);
  });

  it('a delivered notification cannot be moved; bad input is a 400 and an unknown id a 404', async () => {
    const id = await schedule(await newUser(), inSeconds(1));
    await waitForNotification(herald, id);
    const late = await herald.api('PATCH', `/v1/notifications/${id}`, { sendAt: inSeconds(60) });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'not_reschedulable', message: 'notification is already delivered' });

    const bad = await herald.api('PATCH', `/v1/notifications/${id}`, { sendAt: 'tomorrow' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
    const extra = await herald.api('PATCH', `/v1/notifications/${id}`, { sendAt: inSeconds(5), userId: 'x' });
    expect(extra.status).toBe(400);
    expect((await herald.api('PATCH', '/v1/notifications/ntf_nope', { sendAt: inSeconds(5) })).status).toBe(404);
  });
});
