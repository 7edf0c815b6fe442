/**
 * A local stand-in for SendGrid's Mail Send v3 API, answering as described in
 * /work/shared/specs/sendgrid_mail_v3.json. API shared with the other HTTP fakes (see http-fake-server.ts):
 *
 *   const fake = new SendgridFake();               // or new SendgridFake({ apiKey })
 *   const endpoint = await fake.start();           // → SENDGRID_ENDPOINT / SendgridEmailProvider `endpoint`
 *   fake.apiKey                                    // the key it accepts (SENDGRID_API_KEY)
 *   fake.enqueue(sendgridError(400, { message: 'Does not contain a valid address.', field: 'personalizations.0.to' }));
 *   fake.enqueue({ ...sendgridError(429, { message: 'too many requests' }), headers: { 'Retry-After': '2' } });
 *   fake.requests[0]  // { method: 'POST', path: '/v3/mail/send', headers, rawBody, body: <the Mail Send JSON> }
 *   fake.sent         // [{ messageId, body }] for every 202 the fake gave, in order
 *   await fake.stop();
 *
 * It checks what SendGrid checks, and a request that fails is answered as SendGrid would, leaving the queue alone:
 * `POST /v3/mail/send` only (else 404), `Authorization: Bearer <apiKey>` (else 401), a JSON body with
 * `personalizations[].to[].email`, `from.email`, a subject (message-level or on every personalization) and `content`
 * (else 400 with `{errors: [{message, field}]}`). Then the next queued answer is sent or, with none queued, 202 with an
 * empty body and an `X-Message-Id` header.
 */
import { randomBytes } from 'node:crypto';
import type { RecordedRequest, ScriptedResponse } from './http-fake-server';
import { HttpFakeServer } from './http-fake-server';

export interface SendgridApiError {
  message: string;
  field?: string | null;
}

export const SENDGRID_FAKE_API_KEY = 'SG.fake-key.fake-secret';

/** A SendGrid error answer: `{errors: [{message, field}]}` with the given HTTP status. */
export function sendgridError(status: number, ...errors: SendgridApiError[]): ScriptedResponse {
  return { status, body: { errors: errors.map((e) => ({ field: null, ...e })) } };
}

type Json = Record<string, unknown>;

export class SendgridFake extends HttpFakeServer<Json> {
  readonly apiKey: string;
  readonly sent: { messageId: string; body: Json }[] = [];

  constructor(options: { apiKey?: string } = {}) {
    super();
    this.apiKey = options.apiKey ?? SENDGRID_FAKE_API_KEY;
  }

  override reset(): void {
    super.reset();
    this.sent.length = 0;
  }

  protected parseBody(raw: string): Json | undefined {
    try {
      const parsed: unknown = JSON.parse(raw);
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : undefined;
    } catch {
      return undefined;
    }
  }

  protected reject(request: RecordedRequest<Json>): ScriptedResponse | undefined {
    if (request.method !== 'POST' || request.path !== '/v3/mail/send') {
      return sendgridError(404, { message: 'resource not found' });
    }
    if (request.headers.authorization !== `Bearer ${this.apiKey}`) {
      return sendgridError(401, {
        message: request.headers.authorization
          ? 'The provided authorization grant is invalid, expired, or revoked'
          : 'authorization required',
      });
    }
    if (!request.body) return sendgridError(400, { message: 'Bad Request', field: null });
    const problems = this.validate(request.body);
    return problems.length > 0 ? sendgridError(400, ...problems) : undefined;
  }

  protected succeed(request: RecordedRequest<Json>): ScriptedResponse {
    const messageId = randomBytes(16).toString('base64url').slice(0, 22);
    this.sent.push({ messageId, body: request.body ?? {} });
    return { status: 202, headers: { 'X-Message-Id': messageId } };
  }

  private validate(body: Json): SendgridApiError[] {
    const problems: SendgridApiError[] = [];
    const personalizations = Array.isArray(body.personalizations) ? (body.personalizations as Json[]) : [];
    if (personalizations.length === 0) {
      problems.push({
        message: 'The personalizations field is required and must have at least one personalization.',
        field: 'personalizations',
      });
    }
    personalizations.forEach((p, i) => {
      const to = Array.isArray(p.to) ? (p.to as Json[]) : [];
      if (to.length === 0) {
        problems.push({
          message:
            'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          field: `personalizations.${i}.to`,
        });
      }
      to.forEach((r, j) => {
        if (typeof r.email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(r.email)) {
          problems.push({ message: 'Does not contain a valid address.', field: `personalizations.${i}.to.${j}.email` });
        }
      });
    });
    const from = body.from as Json | undefined;
    if (typeof from?.email !== 'string' || !from.email.includes('@')) {
      problems.push({
        message:
          'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.',
        field: 'from',
      });
    }
    const subjectEverywhere =
      personalizations.length > 0 && personalizations.every((p) => typeof p.subject === 'string');
    if (typeof body.subject !== 'string' && !subjectEverywhere) {
      problems.push({
        message:
          'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
        field: 'subject',
      });
    }
    if (!body.template_id && !(Array.isArray(body.content) && body.content.length > 0)) {
      problems.push({
        message:
          'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
        field: 'content',
      });
    }
    return problems;
  }
}
