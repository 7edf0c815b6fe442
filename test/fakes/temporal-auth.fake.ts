/**
 * A Temporal frontend that refuses every call the way a cluster with authorization does (gRPC status 16
 * UNAUTHENTICATED, or 7 PERMISSION_DENIED), for testing what a client makes of it:
 *
 *   const fake = new TemporalAuthFake(16, 'invalid API key');
 *   const address = await fake.start();            // 127.0.0.1:<port>, plaintext HTTP/2 (h2c)
 *   fake.calls                                     // gRPC methods called, e.g. /temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo
 *   await fake.stop();
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export class TemporalAuthFake {
  readonly calls: string[] = [];
  private server: http2.Http2Server | undefined;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  constructor(
    private readonly grpcStatus: 7 | 16 = 16,
    private readonly message = 'request unauthorized',
  ) {}

  async start(): Promise<string> {
    const server = http2.createServer();
    server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    server.on('stream', (stream, headers) => {
      this.calls.push(String(headers[':path']));
      stream.on('error', () => undefined);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () =>
        stream.sendTrailers({ 'grpc-status': String(this.grpcStatus), 'grpc-message': encodeURI(this.message) }),
      );
      stream.end();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Clients keep their HTTP/2 session open; close() would wait for them.
    for (const session of this.sessions) session.destroy();
    await closed;
  }
}
