/**
 * The embedded Temporal: `temporal server start-dev` with a SQLite file database (WAL) under the data folder, the Web
 * UI on :8233. A pid file lets the next start clean up a server orphaned by a `kill -9` of its parent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from './logger';
import { temporalBinary } from './temporal-binaries';

export interface DevServerOptions {
  dataDir: string;
  port?: number;
  uiPort?: number;
  namespace?: string;
  logger?: Logger;
  /** The Web UI decodes payloads through this codec server (Herald's `<public URL>/codec`). */
  uiCodecEndpoint?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function stopOrphan(pidFile: string, logger?: Logger): Promise<void> {
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    const cmdline = fs.existsSync(`/proc/${pid}/cmdline`) ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (cmdline.includes('temporal') && cmdline.includes('start-dev')) {
      logger?.warn({ pid }, 'stopping a Temporal dev server left over from an earlier run');
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !alive(pid), 15_000, 'the old Temporal dev server to stop').catch(() =>
        process.kill(pid, 'SIGKILL'),
      );
    }
  }
  fs.rmSync(pidFile, { force: true });
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const namespace = options.namespace ?? 'default';
  fs.mkdirSync(options.dataDir, { recursive: true });
  const pidFile = path.join(options.dataDir, 'temporal.pid');
  await stopOrphan(pidFile, options.logger);

  const logFile = fs.openSync(path.join(options.dataDir, 'temporal.log'), 'a');
  const child: ChildProcess = spawn(
    temporalBinary('temporal'),
    [
      'server',
      'start-dev',
      '--db-filename',
      path.join(options.dataDir, 'temporal.db'),
      '--sqlite-pragma',
      'journal_mode=WAL',
      '--sqlite-pragma',
      'synchronous=NORMAL',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
      '--namespace',
      namespace,
      '--log-level',
      'warn',
      ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
    ],
    { stdio: ['ignore', logFile, logFile] },
  );
  fs.closeSync(logFile);
  fs.writeFileSync(pidFile, String(child.pid));
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const address = `127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (exited) throw new Error(`temporal server exited; see ${path.join(options.dataDir, 'temporal.log')}`);
      try {
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          await connection.workflowService.describeNamespace({ namespace });
          return true;
        } finally {
          await connection.close();
        }
      } catch {
        return false;
      }
    },
    60_000,
    `Temporal at ${address}`,
  );

  return {
    address,
    uiUrl: `http://localhost:${uiPort}`,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await waitFor(() => exited, 15_000, 'Temporal to stop').catch(() => child.kill('SIGKILL'));
      }
      fs.rmSync(pidFile, { force: true });
    },
  };
}
