/**
 * The example order service against a running Herald (the real API, a Temporal dev server and worker, the fake
 * e-mail provider): shipping an order notifies its customer, through the HTTP transport and through the Temporal
 * transport; the same order shipped through both is one notification, one e-mail.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { formatEncryptionKeys, generateEncryptionKey } from '../../contract/codec';
import { startTestHerald, TEST_API_KEY, waitForNotification, type TestHerald } from '../../test/support/herald';
import { startProviderFakes, type ProviderFakes } from '../../test/support/provider-fakes';
import { createLocalTemporal } from '../../test/support/temporal';
import { connectHerald, type HeraldEnv } from './src/herald';
import { startOrderService, type OrderService } from './src/service';

jest.setTimeout(120_000);

const encryptionKeys = formatEncryptionKeys([generateEncryptionKey('order-service')]);
let temporal: TestWorkflowEnvironment;
let fakes: ProviderFakes;
let herald: TestHerald;
const services: { http?: OrderService; temporal?: OrderService } = {};
const closers: (() => Promise<void>)[] = [];

async function start(env: HeraldEnv): Promise<OrderService> {
  const { herald: client, close } = await connectHerald(env);
  const service = await startOrderService(client);
  closers.push(service.close, close);
  return service;
}

beforeAll(async () => {
  temporal = await createLocalTemporal();
  fakes = await startProviderFakes();
  herald = await startTestHerald({ env: { ...fakes.env, HERALD_ENCRYPTION_KEYS: encryptionKeys }, temporal });
  await herald.api('PUT', '/v1/templates/order-shipped', {
    channels: {
      email: { subject: 'Order {{ order }} shipped', text: 'Your order {{ order }} is with {{ carrier }}.' },
    },
  });
  const env = { HERALD_URL: herald.url, HERALD_API_KEY: TEST_API_KEY };
  services.http = await start(env);
  services.temporal = await start({
    ...env,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace ?? 'default',
    HERALD_TASK_QUEUE: herald.taskQueue,
    HERALD_ENCRYPTION_KEYS: encryptionKeys,
  });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await herald?.stop();
  await fakes?.stop();
  await temporal?.teardown();
});

async function customer(id: string): Promise<string> {
  const email = `${id}@example.com`;
  expect((await herald.api('PUT', `/v1/users/${id}`, { email })).status).toBeLessThan(300);
  return email;
}

async function ship(service: OrderService, orderId: string, customerId: string) {
  const response = await fetch(`${service.url}/orders/${orderId}/ship`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerId, carrier: 'DHL' }),
  });
  return { status: response.status, body: (await response.json()) as { notification: { id: string } } & object };
}

const mailsTo = (email: string) => fakes.sendgrid.requests.filter((r) => JSON.stringify(r.body).includes(email));

it.each(['http', 'temporal'] as const)(
  'notifies the customer when an order ships (%s transport)',
  async (transport) => {
    const email = await customer(`customer-${transport}`);
    const shipped = await ship(services[transport]!, `o-${transport}`, `customer-${transport}`);
    expect(shipped).toEqual({
      status: 202,
      body: {
        order: `o-${transport}`,
        status: 'shipped',
        notification: {
          id: expect.any(String),
          status: 'accepted',
          eventId: `order-o-${transport}-shipped`,
          replayed: false,
        },
      },
    });
    expect((await waitForNotification(herald, shipped.body.notification.id)).status).toBe('delivered');
    expect(mailsTo(email)).toHaveLength(1);
    expect(JSON.stringify(mailsTo(email)[0]!.body)).toContain(`Your order o-${transport} is with DHL.`);
  },
);

it('an order shipped through both transports is one notification', async () => {
  const email = await customer('customer-both');
  const first = await ship(services.http!, 'o-both', 'customer-both');
  const second = await ship(services.temporal!, 'o-both', 'customer-both');
  expect(second.body.notification).toMatchObject({ id: first.body.notification.id, replayed: true });
  await waitForNotification(herald, first.body.notification.id);
  expect(mailsTo(email)).toHaveLength(1);
});

it('an unknown customer is a typed refusal, not a crash', async () => {
  const refused = await ship(services.temporal!, 'o-ghost', 'nobody');
  expect(refused).toEqual({ status: 422, body: { error: 'user_not_found', message: expect.any(String) } });
});
