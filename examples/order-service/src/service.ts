/**
 * The order service: `POST /orders/:id/ship` with `{ "customerId": "...", "carrier": "..." }` marks an order shipped
 * and notifies its customer through Herald. The notification's event id is the order's: the handler may run again
 * (a retried request, a redelivered message, a second instance) and the customer still gets one notification.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeraldError, type HeraldClient, type SendResult } from '@herald/client';

export interface OrderShipped {
  orderId: string;
  customerId: string;
  carrier: string;
}

/** The event → notification mapping: the template `order-shipped`, once per order. */
export function notifyOrderShipped(herald: HeraldClient, event: OrderShipped): Promise<SendResult> {
  return herald.send({
    userId: event.customerId,
    template: 'order-shipped',
    eventId: `order-${event.orderId}-shipped`,
    data: { order: event.orderId, carrier: event.carrier },
  });
}

export interface OrderService {
  url: string;
  close(): Promise<void>;
}

export async function startOrderService(herald: HeraldClient, port = 0): Promise<OrderService> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const match = /^\/orders\/([\w-]{1,64})\/ship$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) return reply(404, { error: 'not_found' });
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      void (async () => {
        let body: { customerId?: unknown; carrier?: unknown };
        try {
          body = JSON.parse(text || '{}') as typeof body;
        } catch {
          return reply(400, { error: 'invalid_json' });
        }
        if (typeof body.customerId !== 'string') return reply(400, { error: 'customerId is required' });
        const event = { orderId: match[1]!, customerId: body.customerId, carrier: String(body.carrier ?? 'post') };
        try {
          const sent = await notifyOrderShipped(herald, event);
          reply(202, { order: event.orderId, status: 'shipped', notification: sent });
        } catch (error) {
          // Typed errors: an unknown customer is Herald's NotFoundError, a retryable outage a TransientError.
          if (error instanceof HeraldError) {
            return reply(error.name === 'TransientError' ? 503 : 422, { error: error.code, message: error.message });
          }
          reply(500, { error: 'internal' });
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
