import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ProviderRegistry } from '../../activities/providers/registry';
import { createApp } from '../../api/app';
import { AesGcmPayloadCodec, generateEncryptionKey, heraldClientDataConverter } from '../../contract/codec';
import { configSecrets, loadConfig, type HeraldConfig } from '../../server/config';
import { createLogger, registerSecrets, type Logger } from '../../platform/logger';
import { HeraldMetrics } from '../../platform/metrics';
import { createQueueMonitor, heraldTaskQueues } from '../../server/queue-monitor';
import { installTemporalRuntime } from '../../platform/temporal-runtime';
import { createTracking } from '../../domain/tracking/tracking';
import { createHeraldWorker, type HeraldWorker } from '../../server/worker';
import { createTestDatabase, type TestDatabase } from './database';
import { track } from './teardown';
import { createLocalTemporal } from './temporal';
import { heraldWorkflowBundle } from './workflow-bundle';

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

export interface TestHerald {
  url: string;
  config: HeraldConfig;
  db: TestDatabase;
  env: TestWorkflowEnvironment;
  /** A client with Herald's data converter (payload codec): use it, not env.client, to read results and histories. */
  client: Client;
  codec: AesGcmPayloadCodec;
  metrics: HeraldMetrics;
  taskQueue: string;
  /** Calls the API with the test key; returns status, headers and parsed JSON. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Starts the worker (started by default). */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/**
 * The real Herald in-process: real Express app on port 0, a real Temporal dev server (from .venv), the test's own
 * database (PostgreSQL when DATABASE_URL is set, PGlite otherwise), and providers configured from `env` — which
 * tests point at local fakes.
 */
export async function startTestHerald(
  options: {
    env?: Record<string, string>;
    worker?: boolean;
    temporal?: TestWorkflowEnvironment;
    /** Where the API's, the worker's and the Temporal SDK's logs go (default: silent). */
    logger?: Logger;
  } = {},
): Promise<TestHerald> {
  const config = loadConfig({ ...options.env, HERALD_API_KEY: TEST_API_KEY, LOG_LEVEL: 'silent' });
  // TEST_LOG_LEVEL=debug shows the worker's and the SDK's logs when a test needs investigating.
  const logger = options.logger ?? createLogger(process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent');
  registerSecrets(configSecrets(config));
  const runtime = installTemporalRuntime({ logger });
  const db = await createTestDatabase();
  const env = options.temporal ?? (await createLocalTemporal());
  const taskQueue = `herald-test-${randomUUID()}`;
  const providers = ProviderRegistry.fromConfig(config, db.prisma);
  const tracking = createTracking(config, db.prisma);
  // Encrypted payloads, as in production: the configured keys, or a fresh key for this test.
  const codec = new AesGcmPayloadCodec(config.encryptionKeys ?? [generateEncryptionKey('test')]);
  const namespace = env.namespace ?? 'default';
  const client = new Client({ connection: env.connection, namespace, dataConverter: heraldClientDataConverter(codec) });
  const metrics = new HeraldMetrics({ defaultMetrics: false });
  metrics.includeSdkMetrics(runtime?.sdkMetrics);
  const queues = createQueueMonitor(env.connection, namespace, heraldTaskQueues(taskQueue));
  metrics.watchQueues(queues);
  const workflowBundle = await heraldWorkflowBundle();

  let worker: HeraldWorker | undefined;
  let running: Promise<void> | undefined;
  const startWorker = async () => {
    worker = await createHeraldWorker({
      connection: env.nativeConnection,
      namespace,
      taskQueue,
      db: db.prisma,
      sql: db.sql,
      providers,
      tracking,
      delivery: config.delivery,
      codec,
      metrics,
      workflowBundle,
    });
    running = worker.run();
  };
  const stopWorker = async () => {
    if (!worker) return;
    worker.shutdown();
    await running;
    worker = undefined;
  };
  if (options.worker !== false) await startWorker();

  const app = createApp({
    db: db.prisma,
    sql: db.sql,
    temporal: client,
    taskQueue,
    apiKey: TEST_API_KEY,
    publicUrl: config.publicUrl,
    tracking,
    logger,
    ready: async () => ({ database: await db.ping(), temporal: true }),
    metrics,
    codec,
    codecCorsOrigins: config.codecCorsOrigins,
    inbox: { config: config.inbox, databaseUrl: db.url },
    queues,
    dashboard: { temporalUiUrl: config.temporalUiUrl, namespace },
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      forget();
      // Open connections (keep-alive, a request a timed-out test left waiting) would hold close() up.
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
      await stopWorker();
      await providers.close();
      if (!options.temporal) await env.teardown();
      await db.close();
    })());
  // Stopped at the end of the file even if the test that should have stopped it timed out (test/support/teardown.ts).
  const forget = track('a test Herald', stop);

  return {
    url,
    config,
    db,
    env,
    client,
    codec,
    metrics,
    taskQueue,
    async api(method, path, body, headers = {}) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TEST_API_KEY}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
    },
    startWorker,
    stopWorker,
    stop,
  };
}

/** Polls the notification until it reaches a final status (the workflow's result is the ground truth). */
export async function waitForNotification(
  herald: TestHerald,
  id: string,
  timeoutMs = 60_000,
): Promise<ApiResponse['body']> {
  const row = await herald.db.prisma.notification.findUniqueOrThrow({ where: { id } });
  const handle = herald.client.workflow.getHandle(row.workflowId);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      handle.result(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`notification ${id} did not finish`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return (await herald.api('GET', `/v1/notifications/${id}`)).body;
}
