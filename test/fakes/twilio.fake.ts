/**
 * A local stand-in for Twilio's Messages API (2010-04-01), answering as described in
 * /work/shared/specs/twilio_api_v2010.json. API shared with the other HTTP fakes (see http-fake-server.ts):
 *
 *   const fake = new TwilioFake();                 // or new TwilioFake({ accountSid, authToken })
 *   const endpoint = await fake.start();           // → TWILIO_ENDPOINT / TwilioSmsProvider `endpoint`
 *   fake.accountSid, fake.authToken                // the credentials it accepts (TWILIO_ACCOUNT_SID / _AUTH_TOKEN)
 *   fake.enqueue(twilioError(400, 21211, "The 'To' number +15005550001 is not a valid phone number."));
 *   fake.enqueue({ ...twilioError(429, 20429, 'Too Many Requests'), headers: { 'Retry-After': '3' } });
 *   fake.requests[0]  // { method: 'POST', path: '/2010-04-01/Accounts/AC…/Messages.json', headers, rawBody,
 *                     //   body: { To, From, Body, StatusCallback? } }   (form fields, as sent)
 *   fake.sent         // Message resources the fake created (201 answers), in order
 *   await fake.stop();
 *
 * It checks what Twilio checks, and a request that fails is answered as Twilio would, leaving the queue alone:
 * `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` only (else 404/20404), HTTP Basic auth must be
 * accountSid:authToken and the path's sid the same account (else 401/20003), `To` (21604), `From` or
 * `MessagingServiceSid` (21603) and `Body`/`MediaUrl`/`ContentSid` (21602) are required. Then the next queued answer
 * is sent or, with none queued, 201 with a snake_case Message resource (`sid` "SM" + 32 hex, `status` "queued").
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RecordedRequest, ScriptedResponse } from './http-fake-server';
import { HttpFakeServer } from './http-fake-server';

export type TwilioForm = Record<string, string | string[]>;

export interface TwilioMessageResource {
  account_sid: string;
  api_version: string;
  body: string;
  date_created: string;
  date_sent: string | null;
  date_updated: string;
  direction: 'outbound-api';
  error_code: number | null;
  error_message: string | null;
  from: string | null;
  messaging_service_sid: string | null;
  num_media: string;
  num_segments: string;
  price: string | null;
  price_unit: string;
  sid: string;
  status: 'queued' | 'accepted';
  subresource_uris: Record<string, string>;
  to: string;
  uri: string;
}

export const TWILIO_FAKE_ACCOUNT_SID = 'AC00000000000000000000000000000001';
export const TWILIO_FAKE_AUTH_TOKEN = 'fake-twilio-auth-token';

/** A Twilio REST error answer: `{code, message, more_info, status}` with the matching HTTP status. */
export function twilioError(status: number, code: number, message: string): ScriptedResponse {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

function formField(form: TwilioForm | undefined): (name: string) => string | undefined {
  return (name) => {
    const value = form?.[name];
    return Array.isArray(value) ? value[0] : value;
  };
}

export class TwilioFake extends HttpFakeServer<TwilioForm> {
  readonly accountSid: string;
  readonly authToken: string;
  readonly sent: TwilioMessageResource[] = [];

  constructor(options: { accountSid?: string; authToken?: string } = {}) {
    super();
    this.accountSid = options.accountSid ?? TWILIO_FAKE_ACCOUNT_SID;
    this.authToken = options.authToken ?? TWILIO_FAKE_AUTH_TOKEN;
  }

  override reset(): void {
    super.reset();
    this.sent.length = 0;
  }

  protected parseBody(raw: string): TwilioForm {
    const form: TwilioForm = {};
    for (const [name, value] of new URLSearchParams(raw)) {
      const previous = form[name];
      form[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
    }
    return form;
  }

  protected reject(request: RecordedRequest<TwilioForm>): ScriptedResponse | undefined {
    const route = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(request.path);
    if (request.method !== 'POST' || !route) {
      return twilioError(404, 20404, `The requested resource ${request.path} was not found`);
    }
    if (!this.authorized(request.headers)) return twilioError(401, 20003, 'Authenticate');
    if (route[1] !== this.accountSid) {
      return twilioError(404, 20404, `The requested resource ${request.path} was not found`);
    }
    const field = formField(request.body);
    if (!field('To')) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!field('From') && !field('MessagingServiceSid')) {
      return twilioError(400, 21603, "A 'From' phone number is required.");
    }
    if (!field('Body') && !field('MediaUrl') && !field('ContentSid')) {
      return twilioError(400, 21602, 'Message body is required.');
    }
    return undefined;
  }

  protected succeed(request: RecordedRequest<TwilioForm>): ScriptedResponse {
    const field = formField(request.body);
    const message = this.messageResource(
      field('To') ?? '',
      field('From') ?? null,
      field('MessagingServiceSid') ?? null,
      field('Body'),
    );
    this.sent.push(message);
    return { status: 201, body: message };
  }

  private authorized(headers: IncomingHttpHeaders): boolean {
    const match = /^Basic (.+)$/i.exec(headers.authorization ?? '');
    if (!match?.[1]) return false;
    return Buffer.from(match[1], 'base64').toString('utf8') === `${this.accountSid}:${this.authToken}`;
  }

  private messageResource(
    to: string,
    from: string | null,
    messagingServiceSid: string | null,
    body: string | undefined,
  ): TwilioMessageResource {
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const now = new Date().toUTCString().replace('GMT', '+0000');
    const uri = `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}.json`;
    return {
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      body: body ?? '',
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from,
      messaging_service_sid: messagingServiceSid,
      num_media: '0',
      num_segments: String((body ?? '').length <= 160 ? 1 : Math.ceil((body ?? '').length / 153)),
      price: null,
      price_unit: 'USD',
      sid,
      status: messagingServiceSid ? 'accepted' : 'queued',
      subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
      to,
      uri,
    };
  }
}
