/**
 * A local stand-in for FCM HTTP v1 and the Google OAuth token endpoint it needs, for provider and end-to-end tests.
 * Point the provider's `endpoint` at it: every connection then lands here, whatever Google host a request names.
 *
 *   const account = generateServiceAccount('demo-project');
 *   const fake = new FcmFake({ projectId: 'demo-project', clientEmail: account.credentials.client_email,
 *                              publicKeyPem: account.publicKeyPem });
 *   const url = await fake.start();               // http://127.0.0.1:<port>; `{ tls: ca }` serves https
 *   fake.enqueue(fcmError('UNREGISTERED'));       // the next messages:send gets 404 UNREGISTERED
 *   ...                                           // fake.requests holds every request, token exchanges included
 *   await fake.stop();
 *
 * Like Google it checks what is cheap to check: the OAuth assertion (RS256 JWT from the expected account, with a
 * valid signature when `publicKeyPem` is given), that messages:send carries a bearer token this fake issued, the
 * project in the path, and the basic shape of the message. A request that fails a check is answered as Google would
 * and does not consume a scripted response. Otherwise the next scripted response is sent, or success:
 * `{"name": "projects/<project>/messages/<n>"}` for a send, a fresh access token for an exchange.
 */
import { generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import type { TestCa } from './tls';

export interface FcmFakeOptions {
  /** Project expected in `/v1/projects/{project}/messages:send`; another one is answered 403 PERMISSION_DENIED. */
  projectId?: string;
  /** Expected `iss` of the OAuth assertion (the service account's client_email). */
  clientEmail?: string;
  /** Public half of the service-account key: when given, the assertion's signature is verified too. */
  publicKeyPem?: string;
  /** Serve https with a certificate from this CA (read it back from `caPem`); plain http when absent. */
  tls?: TestCa;
}

/** A scripted answer: status and JSON body (Google's error shape, see `fcmError`), or `drop` to cut the connection. */
export type FcmFakeResponse = { status: number; body?: unknown; headers?: Record<string, string> } | { drop: true };

export interface RecordedFcmRequest {
  /** `token` for the OAuth exchange, `send` for messages:send, `other` for anything else. */
  kind: 'token' | 'send' | 'other';
  method: string;
  path: string;
  /** Lower-case header names; `host` is the Google host the client meant. */
  headers: Record<string, string>;
  /** Parsed JSON, or the form fields of a token exchange, or the raw text. */
  body: unknown;
  /** What the fake answered. */
  response: FcmFakeResponse;
}

/** A service-account JSON key made on the spot, with the public half for the fake. */
export function generateServiceAccount(projectId = 'herald-test'): {
  credentials: {
    type: 'service_account';
    project_id: string;
    private_key_id: string;
    private_key: string;
    client_email: string;
  };
  publicKeyPem: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    credentials: {
      type: 'service_account',
      project_id: projectId,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      client_email: `firebase-adminsdk@${projectId}.iam.gserviceaccount.com`,
    },
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

const ERRORS: Record<string, { status: number; canonical: string; message: string }> = {
  INVALID_ARGUMENT: { status: 400, canonical: 'INVALID_ARGUMENT', message: 'Request contains an invalid argument.' },
  UNREGISTERED: { status: 404, canonical: 'NOT_FOUND', message: 'Requested entity was not found.' },
  SENDER_ID_MISMATCH: { status: 403, canonical: 'PERMISSION_DENIED', message: 'SenderId mismatch' },
  QUOTA_EXCEEDED: { status: 429, canonical: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded for message rate.' },
  UNAVAILABLE: { status: 503, canonical: 'UNAVAILABLE', message: 'The service is currently unavailable.' },
  INTERNAL: { status: 500, canonical: 'INTERNAL', message: 'Internal error encountered.' },
  THIRD_PARTY_AUTH_ERROR: {
    status: 401,
    canonical: 'UNAUTHENTICATED',
    message: 'Auth error from APNS or Web Push Service',
  },
};

/** FCM's error answer for an FcmError `errorCode`, with the HTTP status and canonical status FCM pairs it with. */
export function fcmError(errorCode: string, message?: string): FcmFakeResponse {
  const known = ERRORS[errorCode];
  if (!known) throw new Error(`unknown FCM error code ${errorCode}`);
  return {
    status: known.status,
    body: {
      error: {
        code: known.status,
        message: message ?? known.message,
        status: known.canonical,
        details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }],
      },
    },
  };
}

/** FCM's answer to a malformed registration token: INVALID_ARGUMENT, told apart from a bad payload by its text. */
export function fcmInvalidTokenError(): FcmFakeResponse {
  const description = 'The registration token is not a valid FCM registration token';
  const response = fcmError('INVALID_ARGUMENT', description) as {
    status: number;
    body: { error: { details: unknown[] } };
  };
  response.body.error.details.push({
    '@type': 'type.googleapis.com/google.rpc.BadRequest',
    fieldViolations: [{ field: 'message.token', description }],
  });
  return response;
}

function googleError(status: number, canonical: string, message: string): FcmFakeResponse {
  return { status, body: { error: { code: status, message, status: canonical } } };
}

const TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (!segment) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export class FcmFake {
  readonly requests: RecordedFcmRequest[] = [];
  /** Access tokens handed out so far; messages:send must carry one of them. */
  readonly issuedTokens: string[] = [];
  private readonly sendQueue: FcmFakeResponse[] = [];
  private readonly tokenQueue: FcmFakeResponse[] = [];
  private server: Server | undefined;
  private urlValue: string | undefined;
  private caPemValue: string | undefined;
  private messageCount = 0;

  constructor(private readonly options: FcmFakeOptions = {}) {}

  get url(): string {
    if (this.urlValue === undefined) throw new Error('FcmFake not started');
    return this.urlValue;
  }

  /** The CA certificate to trust when the fake serves https. */
  get caPem(): string {
    if (this.caPemValue === undefined) throw new Error('FcmFake is not serving https');
    return this.caPemValue;
  }

  /** The requests to messages:send, in order: what tests usually assert on. */
  get sends(): RecordedFcmRequest[] {
    return this.requests.filter((r) => r.kind === 'send');
  }

  /** Answers for the next messages:send requests that pass the fake's checks, in order. */
  enqueue(...responses: FcmFakeResponse[]): void {
    this.sendQueue.push(...responses);
  }

  /** Answers for the next OAuth token exchanges that pass the fake's checks, in order. */
  enqueueToken(...responses: FcmFakeResponse[]): void {
    this.tokenQueue.push(...responses);
  }

  async start(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res);
    let server: Server;
    if (this.options.tls) {
      const { certPem, keyPem } = await this.options.tls.issue(['127.0.0.1', 'localhost']);
      this.caPemValue = this.options.tls.caPem;
      server = createHttpsServer({ cert: certPem, key: keyPem }, handler);
    } else {
      server = createHttpServer(handler);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const scheme = this.options.tls ? 'https' : 'http';
    this.urlValue = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.urlValue;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Clients keep connections alive; close() alone would wait for them to time out.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const method = req.method ?? '';
      const path = req.url ?? '';
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const isForm = (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      let body: unknown = text;
      if (isForm) {
        body = Object.fromEntries(new URLSearchParams(text));
      } else {
        try {
          body = JSON.parse(text);
        } catch {
          // Keep the raw text.
        }
      }
      const sendPath = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
      let kind: RecordedFcmRequest['kind'] = 'other';
      let response: FcmFakeResponse;
      if (method === 'POST' && path === '/token') {
        kind = 'token';
        response = this.checkToken(body) ?? this.tokenQueue.shift() ?? this.issueToken();
      } else if (method === 'POST' && sendPath) {
        kind = 'send';
        response =
          this.checkSend(decodeURIComponent(sendPath[1] ?? ''), headers, body) ??
          this.sendQueue.shift() ??
          this.accept(decodeURIComponent(sendPath[1] ?? ''));
      } else {
        response = googleError(404, 'NOT_FOUND', `No route for ${method} ${path}`);
      }
      this.requests.push({ kind, method, path, headers, body, response });
      if ('drop' in response) {
        req.socket.destroy();
        return;
      }
      res.writeHead(response.status, { 'content-type': 'application/json; charset=UTF-8', ...response.headers });
      res.end(response.body === undefined ? '' : JSON.stringify(response.body));
    });
  }

  private checkToken(body: unknown): FcmFakeResponse | undefined {
    const invalid = (description: string): FcmFakeResponse => ({
      status: 400,
      body: { error: 'invalid_grant', error_description: description },
    });
    const form = (typeof body === 'object' && body !== null ? body : {}) as Record<string, string | undefined>;
    if (form.grant_type !== JWT_BEARER) {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
    }
    const [h, p, s] = (form.assertion ?? '').split('.');
    const header = decodeSegment(h);
    const claims = decodeSegment(p);
    if (!header || !claims || !s) return invalid('Invalid JWT.');
    if (header.alg !== 'RS256') return invalid('Invalid JWT: unsupported algorithm.');
    if (this.options.clientEmail !== undefined && claims.iss !== this.options.clientEmail) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } };
    }
    if (claims.aud !== TOKEN_AUDIENCE) return invalid('Invalid JWT: wrong audience.');
    if (typeof claims.scope !== 'string' || !claims.scope) return invalid('Invalid JWT: no scope.');
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp <= now) {
      return invalid('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    }
    if (
      this.options.publicKeyPem !== undefined &&
      !verify('RSA-SHA256', Buffer.from(`${h}.${p}`), this.options.publicKeyPem, Buffer.from(s, 'base64url'))
    ) {
      return invalid('Invalid JWT Signature.');
    }
    return undefined;
  }

  private issueToken(): FcmFakeResponse {
    const token = `ya29.fake-${this.issuedTokens.length + 1}-${randomBytes(12).toString('base64url')}`;
    this.issuedTokens.push(token);
    return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
  }

  private checkSend(project: string, headers: Record<string, string>, body: unknown): FcmFakeResponse | undefined {
    const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    if (!bearer || !this.issuedTokens.includes(bearer)) {
      return googleError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }
    if (this.options.projectId !== undefined && project !== this.options.projectId) {
      return googleError(
        403,
        'PERMISSION_DENIED',
        `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${project}' (or it may not exist).`,
      );
    }
    const message = (body as { message?: unknown } | undefined)?.message;
    if (typeof message !== 'object' || message === null) return fcmError('INVALID_ARGUMENT');
    const { token, topic, condition, data } = message as Record<string, unknown>;
    if ([token, topic, condition].filter((target) => target !== undefined).length !== 1) {
      return fcmError('INVALID_ARGUMENT');
    }
    if (token !== undefined && (typeof token !== 'string' || !/^[\w:-]+$/.test(token))) return fcmInvalidTokenError();
    if (data !== undefined && Object.values(data as object).some((value) => typeof value !== 'string')) {
      return fcmError('INVALID_ARGUMENT', "Invalid value at 'message.data': values must be strings");
    }
    return undefined;
  }

  private accept(project: string): FcmFakeResponse {
    this.messageCount += 1;
    const id = `0:${Date.now()}${String(this.messageCount).padStart(6, '0')}%${randomBytes(8).toString('hex')}`;
    return { status: 200, body: { name: `projects/${project}/messages/${id}` } };
  }
}
