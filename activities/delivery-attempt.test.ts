/**
 * The delivery activity's first statement, on the test database (PGlite, or PostgreSQL when DATABASE_URL is set):
 * what it returns, and that it records the attempt only on a delivery still waiting to be sent.
 */
import { createTestDatabase, type TestDatabase } from '../test/support/database';
import { startDeliveryAttempt } from './delivery-attempt';

let db: TestDatabase;
const now = new Date('2026-11-26T12:00:00.000Z');

beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.user.create({ data: { id: 'u1', email: 'ada@example.com' } });
  await db.prisma.device.create({
    data: { id: 'dev1', userId: 'u1', platform: 'ios', provider: 'apns', token: 'ab'.repeat(32) },
  });
  await db.prisma.notification.create({
    data: {
      id: 'ntf_1',
      idempotencyKey: 'k1',
      workflowId: 'wf1',
      userId: 'u1',
      templateId: 'order-shipped',
      category: 'orders',
      status: 'sending',
    },
  });
  const push = { title: 'Shipped', body: 'Order 42 is on its way', data: { order: 42 } };
  await db.prisma.delivery.createMany({
    data: [
      {
        id: 'dl_push',
        notificationId: 'ntf_1',
        channel: 'push',
        provider: 'apns',
        target: 'dev1',
        deviceId: 'dev1',
        status: 'pending',
        content: push,
      },
      {
        id: 'dl_gone',
        notificationId: 'ntf_1',
        channel: 'push',
        provider: 'fcm',
        target: 'devX',
        deviceId: 'devX',
        status: 'pending',
        content: push,
      },
      {
        id: 'dl_mail',
        notificationId: 'ntf_1',
        channel: 'email',
        provider: 'sendgrid',
        target: 'ada@example.com',
        status: 'sent',
        attempts: 2,
        providerMessageId: 'sg-1',
        sentAt: new Date('2026-11-26T11:59:00.000Z'),
        content: { subject: 'Shipped' },
      },
    ],
  });
});
afterAll(() => db.close());

describe('startDeliveryAttempt', () => {
  it('returns a pending push delivery with its subject, content and device, and records the attempt', async () => {
    const attempt = await startDeliveryAttempt(db.prisma, 'dl_push', 3, now);
    expect(attempt).toEqual({
      notificationId: 'ntf_1',
      channel: 'push',
      provider: 'apns',
      target: 'dev1',
      deviceId: 'dev1',
      status: 'pending',
      providerMessageId: null,
      sentAt: null,
      content: { title: 'Shipped', body: 'Order 42 is on its way', data: { order: 42 } },
      templateId: 'order-shipped',
      category: 'orders',
      device: { token: 'ab'.repeat(32), platform: 'ios', active: true },
    });
    const row = await db.prisma.delivery.findUniqueOrThrow({ where: { id: 'dl_push' } });
    expect(row.attempts).toBe(3);
    expect(row.updatedAt.toISOString()).toBe(now.toISOString());
  });

  it('leaves a delivery that was already sent as it was, and returns when it was sent', async () => {
    const before = await db.prisma.delivery.findUniqueOrThrow({ where: { id: 'dl_mail' } });
    const attempt = await startDeliveryAttempt(db.prisma, 'dl_mail', 5, now);
    expect(attempt).toMatchObject({
      status: 'sent',
      providerMessageId: 'sg-1',
      sentAt: new Date('2026-11-26T11:59:00.000Z'),
      device: null,
      content: { subject: 'Shipped' },
    });
    const after = await db.prisma.delivery.findUniqueOrThrow({ where: { id: 'dl_mail' } });
    expect(after.attempts).toBe(2);
    expect(after.updatedAt).toEqual(before.updatedAt);
  });

  it('has no device for a push whose device is gone, and nothing for a delivery that does not exist', async () => {
    expect((await startDeliveryAttempt(db.prisma, 'dl_gone', 1, now))?.device).toBeNull();
    expect(await startDeliveryAttempt(db.prisma, 'dl_missing', 1, now)).toBeNull();
  });
});
