/**
 * Composes a running Herald from its configuration: database, Temporal (external or embedded), API and/or worker.
 * `npm start` runs every role in one process; `npm run api` and `npm run worker` run one each.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ProviderRegistry } from '../activities/providers/registry';
import { createApp } from '../api/app';
import { AesGcmPayloadCodec, embeddedEncryptionKeys, heraldClientDataConverter } from '../contract/codec';
import { configSecrets, type HeraldConfig } from './config';
import { openDatabase, type Database } from '../platform/db';
import { registerSecrets, type Logger } from '../platform/logger';
import { HeraldMetrics } from '../platform/metrics';
import { listen, startOpsServer } from './ops-server';
import { createQueueMonitor, heraldTaskQueues } from './queue-monitor';
import { startDevServer, type DevServer } from './temporal-dev-server';
import { createTracking } from '../domain/tracking/tracking';
import { createInboxStore } from '../domain/inbox/store';
import { installTemporalRuntime } from '../platform/temporal-runtime';
import { workflowStackTracesKept } from '../platform/workflow-stack-traces';
import { createHeraldWorker, type HeraldWorker } from './worker';

export interface HeraldRoles {
  api: boolean;
  worker: boolean;
  /** Allow the embedded database and Temporal dev server when their variables are unset (npm start only). */
  embedded: boolean;
}

export interface RunningHerald {
  apiUrl?: string;
  apiKey?: string;
  temporalAddress: string;
  /** The worker-only process's /healthz and /metrics server. */
  opsUrl?: string;
  /**
   * Settles only if Herald cannot go on (the embedded Temporal dev server keeps dying): the caller should stop and
   * exit non-zero.
   */
  failed: Promise<Error>;
  stop(): Promise<void>;
}

/** The embedded default's API key: generated once and kept under .data/ so it survives restarts. */
function embeddedApiKey(dataDir: string): { key: string; generated: boolean } {
  const file = path.join(dataDir, 'api-key');
  if (fs.existsSync(file)) return { key: fs.readFileSync(file, 'utf8').trim(), generated: false };
  const key = `hk_${randomBytes(24).toString('base64url')}`;
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, key, { mode: 0o600 });
  return { key, generated: true };
}

export async function startHerald(config: HeraldConfig, roles: HeraldRoles, logger: Logger): Promise<RunningHerald> {
  const cleanups: (() => Promise<unknown>)[] = [];
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error) => logger.error({ err: error }, 'error while stopping'));
    }
  };
  try {
    if (!config.databaseUrl && !roles.embedded) {
      throw new Error(
        'DATABASE_URL is required for `npm run api` / `npm run worker` (the embedded database is single-process: use `npm start`)',
      );
    }
    if (!config.temporal.address && !roles.embedded) {
      throw new Error('TEMPORAL_ADDRESS is required for `npm run api` / `npm run worker` (or use `npm start`)');
    }
    registerSecrets(configSecrets(config));
    // Before any connection: SDK logs through our logger, SDK metrics onto our /metrics.
    const runtime = installTemporalRuntime({ logger });
    const metrics = new HeraldMetrics();
    metrics.includeSdkMetrics(runtime?.sdkMetrics);

    // Payload encryption on every client and worker. The embedded default makes its own key under .data/.
    let encryptionKeys = config.encryptionKeys;
    if (!encryptionKeys) {
      if (!roles.embedded) {
        throw new Error(
          'HERALD_ENCRYPTION_KEYS (or HERALD_ENCRYPTION_KEYS_FILE) is required for `npm run api` / `npm run worker`: ' +
            'id:base64key entries, the same on the API and every worker (docs/operations.md)',
        );
      }
      const embedded = embeddedEncryptionKeys(config.dataDir);
      encryptionKeys = embedded.keys;
      if (embedded.generated) {
        logger.info({ file: path.join(config.dataDir, 'encryption-keys') }, 'generated a payload encryption key');
      }
    }
    registerSecrets(encryptionKeys.map((k) => k.key));
    const codec = new AesGcmPayloadCodec(encryptionKeys);

    const db: Database = openDatabase({ url: config.databaseUrl, pgliteDir: path.join(config.dataDir, 'pglite') });
    cleanups.push(() => db.close());
    const applied = await db.migrate();
    logger.info({ database: db.kind, applied }, 'database ready');

    // One per process: the API and the worker sign and verify tracking links with the same key.
    const tracking = createTracking(config, db.prisma);

    let address = config.temporal.address;
    let devServer: DevServer | undefined;
    if (!address) {
      const server: DevServer = await startDevServer({
        dataDir: config.dataDir,
        namespace: config.temporal.namespace,
        port: config.temporal.devPort,
        uiPort: config.temporal.devUiPort,
        logger,
        ...(roles.api ? { uiCodecEndpoint: `${config.publicUrl}/codec` } : {}),
        // While it is down, the SDK's connection retries are expected: the supervisor's lines say what is happening.
        onStateChange: (status) => runtime?.setTemporalOutage(status.state === 'running' ? undefined : status.state),
        onFatal: fail,
      });
      devServer = server;
      cleanups.push(() => server.stop());
      address = server.address;
      logger.info({ address, ui: server.uiUrl }, 'embedded Temporal dev server ready (Web UI at %s)', server.uiUrl);
    }

    let worker: HeraldWorker | undefined;
    // `npm start`: the API's client shares the worker's connection, so a notification's first workflow task is handed
    // to this worker in the start's own answer (eager start) instead of a round trip through the task queue.
    let workerConnection: NativeConnection | undefined;
    if (roles.worker) {
      const providers = ProviderRegistry.fromConfig(config, db.prisma);
      cleanups.push(() => providers.close());
      const connection = await NativeConnection.connect({ address });
      cleanups.push(() => connection.close());
      workerConnection = connection;
      worker = await createHeraldWorker({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        db: db.prisma,
        sql: db.sql,
        providers,
        tracking,
        delivery: config.delivery,
        codec,
        metrics,
        onBackgroundError: (error) => logger.warn({ err: error }, 'provider failure-rate bookkeeping failed'),
      });
      const running = worker.run();
      cleanups.push(async () => {
        worker!.shutdown();
        await running;
      });
      running.catch((error) => logger.fatal({ err: error }, 'worker stopped'));
      logger.info(
        {
          taskQueue: config.temporal.taskQueue,
          providers: providers.configured(),
          workflowStackTraces: workflowStackTracesKept(config.temporal.workflowStackTraces),
        },
        'worker running',
      );
    }

    let apiUrl: string | undefined;
    let apiKey: string | undefined;
    if (roles.api) {
      apiKey = config.apiKey;
      if (!apiKey) {
        if (!roles.embedded) throw new Error('HERALD_API_KEY is required for `npm run api`');
        const embedded = embeddedApiKey(config.dataDir);
        apiKey = embedded.key;
        registerSecrets([apiKey]);
      }
      let connection: Connection | NativeConnection;
      if (workerConnection) {
        connection = workerConnection;
      } else {
        const own = await Connection.connect({ address });
        cleanups.push(() => own.close());
        connection = own;
      }
      const temporal = new Client({
        connection,
        namespace: config.temporal.namespace,
        dataConverter: heraldClientDataConverter(codec),
      });
      const queues = createQueueMonitor(
        connection,
        config.temporal.namespace,
        heraldTaskQueues(config.temporal.taskQueue, config.monitoredTaskQueues),
      );
      metrics.watchQueues(queues);
      const devUi = config.temporal.address
        ? []
        : [`http://localhost:${config.temporal.devUiPort}`, `http://127.0.0.1:${config.temporal.devUiPort}`];
      const app = createApp({
        db: db.prisma,
        sql: db.sql,
        temporal,
        taskQueue: config.temporal.taskQueue,
        apiKey,
        publicUrl: config.publicUrl,
        tracking,
        logger,
        metrics,
        codec,
        codecCorsOrigins: [...config.codecCorsOrigins, ...devUi],
        inbox: { config: config.inbox, databaseUrl: config.databaseUrl },
        queues,
        dashboard: { temporalUiUrl: config.temporalUiUrl, namespace: config.temporal.namespace },
        ready: async () => {
          // The embedded server's supervisor knows better than a probe while it is restarting it (and a probe of a
          // server that just died waits for its deadline): its state is read again once the probe is done.
          const down = () => devServer !== undefined && devServer.status().state !== 'running';
          const [database, temporalOk] = await Promise.all([
            db.ping(),
            down()
              ? false
              : connection
                  .withDeadline(Date.now() + 5_000, () => connection.workflowService.getSystemInfo({}))
                  .then(() => true)
                  .catch(() => false),
          ]);
          const embedded = devServer?.status();
          return { database, temporal: temporalOk && !down(), ...(embedded ? { embeddedTemporal: embedded } : {}) };
        },
      });
      const server: Server = await listen(app, config.port, 'PORT');
      cleanups.push(
        () =>
          new Promise((resolve) => {
            server.close(resolve);
            // Open inbox streams would hold close() up: they end, and their clients reconnect elsewhere.
            (app.locals.closeInboxStreams as () => void)();
          }),
      );
      // The inbox's retention (HERALD_INBOX_RETENTION_DAYS): every API process purges hourly; the work is idempotent.
      if (config.inbox.retentionDays > 0) {
        const retention = setInterval(() => {
          const before = Date.now() - config.inbox.retentionDays * 86_400_000;
          createInboxStore(db.sql)
            .purge(before)
            .catch((error: unknown) => logger.warn({ err: error }, 'inbox retention purge failed'));
        }, 3_600_000);
        retention.unref();
        cleanups.push(async () => clearInterval(retention));
      }
      const port = (server.address() as { port: number }).port;
      apiUrl = `http://localhost:${port}`;
      logger.info({ url: apiUrl }, 'API listening on %s', apiUrl);
    }

    let opsUrl: string | undefined;
    if (!roles.api) {
      const ops = await startOpsServer({
        port: config.opsPort,
        metrics,
        healthy: () => worker === undefined || worker.workers.every((w) => w.getState() === 'RUNNING'),
      });
      cleanups.push(() => ops.close());
      opsUrl = `http://localhost:${ops.port}`;
      logger.info({ url: opsUrl, port: ops.port }, 'health and metrics on %s (HERALD_OPS_PORT)', opsUrl);
    }
    return { apiUrl, apiKey, temporalAddress: address, opsUrl, failed, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
