/**
 * A local stand-in for Vonage's SMS API (`POST /sms/json`), answering as https://developer.vonage.com/en/api/sms
 * describes. API shared with the other HTTP fakes (see http-fake-server.ts):
 *
 *   const fake = new VonageFake();               // or new VonageFake({ apiKey, apiSecret })
 *   const endpoint = await fake.start();         // → VONAGE_ENDPOINT / VonageSmsProvider `endpoint`
 *   fake.apiKey, fake.apiSecret                  // the credentials it accepts (VONAGE_API_KEY / _SECRET)
 *   fake.enqueue(vonageStatus('6', 'Unroutable message - rejected'));   // HTTP 200 with a failed message status
 *   fake.enqueue({ status: 500, body: 'oops' });                          // an HTTP-level failure
 *   fake.requests[0]  // { method: 'POST', path: '/sms/json', headers, body: { from, to, text, 'client-ref'? } }
 *   fake.sent         // messages the fake accepted (status "0"), in order
 *   await fake.stop();
 *
 * Checks, as Vonage does: the route (else 404), HTTP Basic auth apiKey:apiSecret or api_key/api_secret in the body
 * (else status "4", Bad Credentials, with HTTP 200 — Vonage reports it per message), and `from`, `to`, `text`
 * (else status "2", Missing params). Then the next queued answer, or success with a random `message-id`.
 */
import { randomBytes } from 'node:crypto';
import type { RecordedRequest, ScriptedResponse } from './http-fake-server';
import { HttpFakeServer } from './http-fake-server';

export type VonageBody = Record<string, string | undefined>;

export interface VonageSentMessage {
  to: string;
  from: string;
  text: string;
  messageId: string;
  clientRef?: string;
}

/** A 200 answer whose one message failed with `status` (Vonage's per-message error codes). */
export function vonageStatus(status: string, errorText: string): ScriptedResponse {
  return { status: 200, body: { 'message-count': '1', messages: [{ status, 'error-text': errorText }] } };
}

export class VonageFake extends HttpFakeServer<VonageBody> {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly sent: VonageSentMessage[] = [];

  constructor(options: { apiKey?: string; apiSecret?: string } = {}) {
    super();
    this.apiKey = options.apiKey ?? 'fakekey1';
    this.apiSecret = options.apiSecret ?? 'fake-vonage-secret';
  }

  override reset(): void {
    super.reset();
    this.sent.length = 0;
  }

  protected parseBody(raw: string, headers: Record<string, unknown>): VonageBody | undefined {
    const type = String(headers['content-type'] ?? '');
    if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
    try {
      const parsed = JSON.parse(raw) as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as VonageBody) : undefined;
    } catch {
      return undefined;
    }
  }

  protected reject(request: RecordedRequest<VonageBody>): ScriptedResponse | undefined {
    if (request.method !== 'POST' || request.path !== '/sms/json') return { status: 404, body: 'Not Found' };
    if (!this.authorized(request)) return vonageStatus('4', 'Bad Credentials');
    const body = request.body ?? {};
    if (!body.from || !body.to || !body.text) return vonageStatus('2', 'Missing from, to or text');
    return undefined;
  }

  protected succeed(request: RecordedRequest<VonageBody>): ScriptedResponse {
    const body = request.body ?? {};
    const messageId = randomBytes(8).toString('hex').toUpperCase();
    this.sent.push({
      to: body.to!,
      from: body.from!,
      text: body.text!,
      messageId,
      ...(body['client-ref'] ? { clientRef: body['client-ref'] } : {}),
    });
    return {
      status: 200,
      body: {
        'message-count': '1',
        messages: [
          {
            to: body.to,
            'message-id': messageId,
            status: '0',
            'remaining-balance': '3.14159265',
            'message-price': '0.03330000',
            network: '12345',
            ...(body['client-ref'] ? { 'client-ref': body['client-ref'] } : {}),
          },
        ],
      },
    };
  }

  private authorized(request: RecordedRequest<VonageBody>): boolean {
    const match = /^Basic (.+)$/i.exec(request.headers.authorization ?? '');
    if (match?.[1]) return Buffer.from(match[1], 'base64').toString('utf8') === `${this.apiKey}:${this.apiSecret}`;
    return request.body?.api_key === this.apiKey && request.body?.api_secret === this.apiSecret;
  }
}
