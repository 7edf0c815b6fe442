/**
 * A local stand-in for Apple's APNs provider API (HTTP/2 over TLS), for provider and end-to-end tests.
 *
 *   const key = generateApnsKey();
 *   const fake = new ApnsFake({ keyId: 'KEY1', teamId: 'TEAM1', publicKeyPem: key.publicKeyPem });
 *   const url = await fake.start();            // https://127.0.0.1:<port>; trust fake.caPem
 *   fake.enqueue(apnsError('Unregistered'));   // the next request gets 410 {"reason":"Unregistered"}
 *   ...                                        // fake.requests holds every request that arrived
 *   await fake.stop();
 *
 * Like Apple it checks what is cheap to check: the bearer JWT (ES256, `kid`, `iss`, and the signature when
 * `publicKeyPem` is given), the path, `apns-topic`, the device token's format and the payload size. A request that
 * fails a check is answered as Apple would and does not consume a scripted response. Otherwise the next scripted
 * response is sent, or 200 with an `apns-id` header when none is queued.
 */
import { generateKeyPairSync, randomUUID, verify } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

import { createTestCa } from './tls';
import type { TestCa } from './tls';

export interface ApnsFakeOptions {
  /** Expected `kid` of the provider token; anything else is answered 403 InvalidProviderToken. */
  keyId?: string;
  /** Expected `iss` (team id) of the provider token. */
  teamId?: string;
  /** Public half of the .p8 key: when given, the token's ES256 signature is verified too. */
  publicKeyPem?: string;
  /** CA that issues the server certificate; a fresh one is made by `start()` when absent. */
  ca?: TestCa;
}

/** A scripted answer: an HTTP status with Apple's `{reason}` body, or `drop` to reset the stream unanswered. */
export type ApnsFakeResponse =
  { status: number; reason?: string; timestamp?: number; headers?: Record<string, string> } | { drop: true };

export interface RecordedApnsRequest {
  method: string;
  path: string;
  /** The device token from the path. */
  deviceToken: string;
  /** Lower-case header names, pseudo-headers excluded. */
  headers: Record<string, string>;
  /** The JSON payload, or the raw text when it is not JSON. */
  body: unknown;
  /** Decoded provider token, when one was sent and could be decoded. */
  jwt?: { header: Record<string, unknown>; payload: Record<string, unknown> };
  /** What the fake answered. */
  response: ApnsFakeResponse;
}

/** A P-256 key in the PKCS#8 PEM form of the `.p8` file Apple hands out, with its public half for the fake. */
export function generateApnsKey(): { keyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

const REASON_STATUS: Record<string, number> = {
  BadCollapseId: 400,
  BadDeviceToken: 400,
  BadExpirationDate: 400,
  BadMessageId: 400,
  BadPriority: 400,
  BadTopic: 400,
  DeviceTokenNotForTopic: 400,
  DuplicateHeaders: 400,
  IdleTimeout: 400,
  InvalidPushType: 400,
  MissingDeviceToken: 400,
  MissingTopic: 400,
  PayloadEmpty: 400,
  TopicDisallowed: 400,
  BadCertificate: 403,
  BadCertificateEnvironment: 403,
  ExpiredProviderToken: 403,
  Forbidden: 403,
  InvalidProviderToken: 403,
  MissingProviderToken: 403,
  BadPath: 404,
  MethodNotAllowed: 405,
  ExpiredToken: 410,
  Unregistered: 410,
  PayloadTooLarge: 413,
  TooManyProviderTokenUpdates: 429,
  TooManyRequests: 429,
  InternalServerError: 500,
  ServiceUnavailable: 503,
  Shutdown: 503,
};

/** Apple's answer for a documented `reason`, with the status Apple pairs it with (410s carry a timestamp). */
export function apnsError(reason: string, headers?: Record<string, string>): ApnsFakeResponse {
  const status = REASON_STATUS[reason];
  if (status === undefined) throw new Error(`unknown APNs reason ${reason}`);
  return { status, reason, ...(status === 410 ? { timestamp: Date.now() } : {}), ...(headers ? { headers } : {}) };
}

const MAX_PAYLOAD_BYTES = 4096;
const PUSH_TYPES = new Set([
  'alert',
  'background',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'liveactivity',
  'pushtotalk',
  'location',
  'widgets',
]);

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (!segment) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export class ApnsFake {
  readonly requests: RecordedApnsRequest[] = [];
  private readonly queue: ApnsFakeResponse[] = [];
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private server: http2.Http2SecureServer | undefined;
  private caPemValue: string | undefined;
  private urlValue: string | undefined;
  private sessionsOpened = 0;

  constructor(private readonly options: ApnsFakeOptions = {}) {}

  /** The CA certificate a client must trust; available once `start()` has resolved. */
  get caPem(): string {
    if (this.caPemValue === undefined) throw new Error('ApnsFake not started');
    return this.caPemValue;
  }

  /** `https://127.0.0.1:<port>`; available once `start()` has resolved. */
  get url(): string {
    if (this.urlValue === undefined) throw new Error('ApnsFake not started');
    return this.urlValue;
  }

  /** HTTP/2 sessions (TLS connections) accepted so far: APNs clients are expected to reuse one. */
  get sessionCount(): number {
    return this.sessionsOpened;
  }

  /** Answers for the next requests that pass the fake's checks, in order. */
  enqueue(...responses: ApnsFakeResponse[]): void {
    this.queue.push(...responses);
  }

  async start(): Promise<string> {
    const ca = this.options.ca ?? (await createTestCa('Herald APNs fake CA'));
    const { certPem, keyPem } = await ca.issue(['127.0.0.1', 'localhost']);
    this.caPemValue = ca.caPem;
    const server = http2.createSecureServer({ cert: certPem, key: keyPem, allowHTTP1: false });
    server.on('session', (session) => {
      this.sessionsOpened += 1;
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    server.on('stream', (stream, headers) => this.onStream(stream, headers));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.urlValue = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.urlValue;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Clients keep HTTP/2 sessions open for as long as they live; close() alone would wait for them.
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const chunks: Buffer[] = [];
    // A stream the fake resets on purpose, or one the client abandons, reports an error here; it is expected.
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks);
      const plain: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) {
        if (!name.startsWith(':') && value !== undefined) plain[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const method = String(headers[':method']);
      const path = String(headers[':path']);
      const deviceToken = /^\/3\/device\/([^/?]*)$/.exec(path)?.[1] ?? '';
      const bearer = /^bearer (.+)$/i.exec(plain.authorization ?? '')?.[1];
      const [h, p] = bearer?.split('.') ?? [];
      const jwtHeader = decodeSegment(h);
      const jwtPayload = decodeSegment(p);
      let body: unknown = raw.toString('utf8');
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        // Keep the raw text: a non-JSON payload is itself worth asserting on.
      }
      const rejection = this.check(method, path, deviceToken, plain, bearer, raw);
      const response = rejection ?? this.queue.shift() ?? { status: 200 };
      this.requests.push({
        method,
        path,
        deviceToken,
        headers: plain,
        body,
        ...(jwtHeader && jwtPayload ? { jwt: { header: jwtHeader, payload: jwtPayload } } : {}),
        response,
      });
      this.answer(stream, plain, response);
    });
  }

  private check(
    method: string,
    path: string,
    deviceToken: string,
    headers: Record<string, string>,
    bearer: string | undefined,
    raw: Buffer,
  ): ApnsFakeResponse | undefined {
    if (method !== 'POST') return apnsError('MethodNotAllowed');
    if (!path.startsWith('/3/device/')) return apnsError('BadPath');
    if (!bearer) return apnsError('MissingProviderToken');
    if (!this.tokenIsValid(bearer)) return apnsError('InvalidProviderToken');
    if (!headers['apns-topic']) return apnsError('MissingTopic');
    if (!deviceToken) return apnsError('MissingDeviceToken');
    if (!/^[0-9a-f]+$/i.test(deviceToken)) return apnsError('BadDeviceToken');
    const pushType = headers['apns-push-type'];
    if (pushType !== undefined && !PUSH_TYPES.has(pushType)) return apnsError('InvalidPushType');
    if (raw.length === 0) return apnsError('PayloadEmpty');
    if (raw.length > MAX_PAYLOAD_BYTES) return apnsError('PayloadTooLarge');
    return undefined;
  }

  private tokenIsValid(token: string): boolean {
    const [h, p, s] = token.split('.');
    const header = decodeSegment(h);
    const payload = decodeSegment(p);
    if (!header || !payload || !s) return false;
    if (header.alg !== 'ES256') return false;
    if (this.options.keyId !== undefined && header.kid !== this.options.keyId) return false;
    if (this.options.teamId !== undefined && payload.iss !== this.options.teamId) return false;
    if (typeof payload.iat !== 'number') return false;
    if (this.options.publicKeyPem === undefined) return true;
    return verify(
      'sha256',
      Buffer.from(`${h}.${p}`),
      { key: this.options.publicKeyPem, dsaEncoding: 'ieee-p1363' },
      Buffer.from(s, 'base64url'),
    );
  }

  private answer(stream: http2.ServerHttp2Stream, requestHeaders: Record<string, string>, response: ApnsFakeResponse) {
    if ('drop' in response) {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    // Apple echoes the apns-id it was given, or makes one, on every answer.
    const apnsId = requestHeaders['apns-id'] ?? randomUUID().toUpperCase();
    const headers = { ':status': response.status, 'apns-id': apnsId, ...response.headers };
    if (response.status === 200) {
      stream.respond(headers, { endStream: true });
      return;
    }
    // The SDK reports a failure with an empty body as a bare error without status, so always send `{reason}`.
    const reason = response.reason ?? 'InternalServerError';
    const body = JSON.stringify({
      reason,
      ...(response.timestamp !== undefined ? { timestamp: response.timestamp } : {}),
    });
    stream.respond({ ...headers, 'content-type': 'application/json' });
    stream.end(body);
  }
}
