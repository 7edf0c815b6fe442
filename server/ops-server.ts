/**
 * The HTTP face of a worker-only process (`npm run worker`): /healthz for the orchestrator and /metrics for
 * Prometheus, on HERALD_OPS_PORT — 0 by default, any free port, so that several workers can run on one host (the
 * port is in the start-up log line); a container sets a fixed one for its health check and Prometheus.
 */
import http, { type RequestListener, type Server } from 'node:http';
import express from 'express';
import { ConfigError } from '../platform/config';
import type { HeraldMetrics } from '../platform/metrics';

/**
 * Listens on `port`; a port already taken fails with a message naming the variable that chose it, instead of the
 * bare EADDRINUSE (or worse, a later crash on a server that never listened).
 */
export async function listen(handler: RequestListener, port: number, variable: string): Promise<Server> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new ConfigError(
            `${variable}: port ${port} is already in use (another Herald process or another program listens there); ` +
              `set ${variable} to a free port${variable === 'HERALD_OPS_PORT' ? ', or 0 for any free port' : ''}`,
          ),
        );
      } else if (error.code === 'EACCES') {
        reject(new ConfigError(`${variable}: not allowed to listen on port ${port}; choose a port above 1023`));
      } else reject(error);
    };
    server.once('error', onError);
    server.listen(port, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return server;
}

export async function startOpsServer(options: {
  port: number;
  metrics: HeraldMetrics;
  healthy: () => boolean;
}): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    const ok = options.healthy();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unhealthy' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(options.metrics.contentType).send(await options.metrics.render());
  });
  app.use((_req, res) => void res.status(404).json({ error: { code: 'route_not_found', message: 'not found' } }));
  const server = await listen(app, options.port, 'HERALD_OPS_PORT');
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
