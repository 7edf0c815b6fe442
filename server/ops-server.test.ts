import net from 'node:net';
import express from 'express';
import { ConfigError } from '../platform/config';
import { HeraldMetrics } from '../platform/metrics';
import { listen, startOpsServer } from './ops-server';

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function takenPort(): Promise<number> {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, () => resolve()));
  servers.push({ close: () => new Promise((resolve) => blocker.close(() => resolve())) });
  return (blocker.address() as net.AddressInfo).port;
}

describe('ports', () => {
  it('two workers on one host each get an ops port of their own by default (0: any free port)', async () => {
    const metrics = new HeraldMetrics({ defaultMetrics: false });
    const a = await startOpsServer({ port: 0, metrics, healthy: () => true });
    servers.push(a);
    const b = await startOpsServer({ port: 0, metrics, healthy: () => true });
    servers.push(b);
    expect(a.port).not.toBe(b.port);
    for (const { port } of [a, b]) {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    }
  });

  it('a worker whose HERALD_OPS_PORT is taken fails with a message naming the variable', async () => {
    const port = await takenPort();
    const metrics = new HeraldMetrics({ defaultMetrics: false });
    const attempt = startOpsServer({ port, metrics, healthy: () => true });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(
      `HERALD_OPS_PORT: port ${port} is already in use (another Herald process or another program listens there); ` +
        'set HERALD_OPS_PORT to a free port, or 0 for any free port',
    );
  });

  it('an API whose PORT is taken fails with a message naming PORT', async () => {
    const port = await takenPort();
    await expect(listen(express(), port, 'PORT')).rejects.toThrow(`PORT: port ${port} is already in use`);
  });
});
