/**
 * The HTTP plumbing shared by the Twilio and SendGrid fakes (see twilio.fake.ts, sendgrid.fake.ts).
 *
 *   const fake = new SomeFake();          // a subclass: knows the provider's routes, auth and default answers
 *   const url = await fake.start();       // http://127.0.0.1:<port>; also fake.url, fake.port
 *   fake.enqueue({ status: 429, body: {...}, headers: { 'Retry-After': '7' } });  // next answers, FIFO
 *   fake.enqueue({ fault: 'hang-up' });   // destroy the socket without answering ("socket hang up")
 *   fake.enqueue({ fault: 'no-response' }); // hold the request open until stop() (client timeouts)
 *   fake.requests                          // every request that arrived: method, path, query, headers, rawBody, body
 *   fake.reset();                          // forget requests and queued answers
 *   await fake.stop();                     // closes every socket, idempotent
 *
 * Like the provider, a fake first checks what is cheap to check (route, credentials, required fields); a request that
 * fails a check is answered as the provider would and does not consume a queued answer. Otherwise the next queued
 * answer is sent, or the provider's success answer when none is queued.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest<TBody = unknown> {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Lower-case header names, as Node delivers them. */
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  /** The body parsed by the fake (form fields or JSON); undefined when it could not be parsed. */
  body: TBody | undefined;
}

export interface ScriptedResponse {
  /** Defaults to 200. */
  status?: number;
  /** An object is sent as JSON, a string as is, undefined as an empty body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** `hang-up`: destroy the socket without an answer; `no-response`: never answer (until stop()). */
  fault?: 'hang-up' | 'no-response';
}

export abstract class HttpFakeServer<TBody = unknown> {
  readonly requests: RecordedRequest<TBody>[] = [];
  private readonly queue: ScriptedResponse[] = [];
  private server: http.Server | undefined;
  private readonly held = new Set<http.ServerResponse>();

  /** Parses the raw body the way the provider does; return undefined when it is malformed. */
  protected abstract parseBody(raw: string, headers: http.IncomingHttpHeaders): TBody | undefined;
  /** The provider's answer to a request that fails its checks (route, credentials, payload), else undefined. */
  protected abstract reject(request: RecordedRequest<TBody>): ScriptedResponse | undefined;
  /** The provider's success answer, for a request that passed the checks when no answer is queued. */
  protected abstract succeed(request: RecordedRequest<TBody>): ScriptedResponse;

  get port(): number {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('fake not started');
    return address.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<string> {
    if (this.server) return this.url;
    const server = http.createServer((req, res) => this.onRequest(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const res of this.held) res.destroy();
    this.held.clear();
    // Clients keep sockets alive between requests; without this close() would wait for their idle timeout.
    server.closeAllConnections();
    await closed;
  }

  enqueue(...responses: ScriptedResponse[]): void {
    this.queue.push(...responses);
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
  }

  /** The most recent request; throws when none arrived, so that a test fails with a clear message. */
  lastRequest(): RecordedRequest<TBody> {
    const last = this.requests[this.requests.length - 1];
    if (!last) throw new Error('no request reached the fake');
    return last;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest<TBody> = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        rawBody,
        body: this.parseBody(rawBody, req.headers),
      };
      this.requests.push(recorded);
      this.respond(res, this.reject(recorded) ?? this.queue.shift() ?? this.succeed(recorded));
    });
  }

  private respond(res: http.ServerResponse, response: ScriptedResponse): void {
    if (response.fault === 'hang-up') {
      res.socket?.destroy();
      return;
    }
    if (response.fault === 'no-response') {
      this.held.add(res);
      return;
    }
    const headers: Record<string, string> = { ...response.headers };
    let payload = '';
    if (typeof response.body === 'string') payload = response.body;
    else if (response.body !== undefined) {
      payload = JSON.stringify(response.body);
      if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
        headers['Content-Type'] = 'application/json';
      }
    }
    headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(response.status ?? 200, headers);
    res.end(payload);
  }
}

/** A 127.0.0.1 port nothing listens on (bound, then released), for "connection refused" tests. */
export async function unusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
