/**
 * The HTTP face of a worker-only process (`npm run worker`): /healthz for the orchestrator and /metrics for
 * Prometheus, on PORT, like the API.
 */
import type { Server } from 'node:http';
import express from 'express';
import type { HeraldMetrics } from './metrics';

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
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port, () => resolve(s));
    s.once('error', reject);
  });
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
