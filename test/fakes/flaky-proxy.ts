/**
 * A reverse proxy in front of a running Herald that can be scripted to fail, to test what a client does when the
 * network or a load balancer misbehaves:
 *
 *   const proxy = new FlakyProxy(herald.url);
 *   const url = await proxy.start();
 *   proxy.enqueue('unavailable');     // next request: 503 with Retry-After: 0, never reaches Herald
 *   proxy.enqueue('lose-response');   // next request: forwarded to Herald, then the socket is destroyed unanswered
 *   proxy.requests                    // every request that arrived: method, path, headers, body (parsed JSON)
 *   proxy.forwarded                   // how many reached Herald
 *   await proxy.stop();
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyFault = 'unavailable' | 'lose-response';

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'keep-alive', 'transfer-encoding']);

export class FlakyProxy {
  readonly requests: ProxiedRequest[] = [];
  forwarded = 0;
  private readonly faults: ProxyFault[] = [];
  private server: http.Server | undefined;

  constructor(private readonly target: string) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('proxy not started');
    return `http://127.0.0.1:${address.port}`;
  }

  enqueue(...faults: ProxyFault[]): void {
    this.faults.push(...faults);
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
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
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    this.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body });

    const fault = this.faults.shift();
    if (fault === 'unavailable') {
      const payload = JSON.stringify({ error: { code: 'upstream_unavailable', message: 'try again' } });
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(payload);
      return;
    }
    try {
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(
          (entry): entry is [string, string] => !HOP_BY_HOP.has(entry[0]) && typeof entry[1] === 'string',
        ),
      );
      const upstream = await fetch(`${this.target}${req.url ?? '/'}`, {
        method: req.method,
        headers,
        body: raw && req.method !== 'GET' && req.method !== 'HEAD' ? raw : undefined,
      });
      const text = await upstream.text();
      this.forwarded++;
      if (fault === 'lose-response') {
        // Herald has done the work; the caller never hears about it.
        res.socket?.destroy();
        return;
      }
      const answer: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (!HOP_BY_HOP.has(name)) answer[name] = value;
      });
      res.writeHead(upstream.status, answer);
      res.end(text);
    } catch (error) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'bad_gateway', message: (error as Error).message } }));
    }
  }
}
