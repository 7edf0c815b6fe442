import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { freshPrebuiltBundle } from './workflow-bundle';
import { createProviderHealth } from '../activities/provider-health';
import { createCampaignActivities } from '../activities/campaigns/campaign.activities';
import { createDigestActivities } from '../activities/digest/digest.activities';
import type { ProviderRegistry } from '../activities/providers/registry';
import type { AesGcmPayloadCodec } from '../contract/codec';
import { heraldDataConverter } from '../contract/codec';
import type { Db } from '../platform/db';
import type { Sql } from '../platform/sql';
import type { Tracking } from '../domain/tracking/tracking';
import { channelTaskQueue } from '../contract/workflows/notification.definitions';
import type { DeliveryConfig } from '../platform/config/delivery';
import { CHANNELS } from '../contract/channels';
import type { ActivityMetrics } from '../platform/metrics';

export interface HeraldWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  /** Plain SQL on the same database (the hot path's statements). */
  sql: Sql;
  providers: ProviderRegistry;
  /** Tracking links, open pixel, List-Unsubscribe and the email layout (absent: messages go out as rendered). */
  tracking?: Tracking;
  /** Per-channel rates, concurrency and retry policies, throttle rules. */
  delivery: DeliveryConfig;
  /** Payload encryption (contract/codec.ts); the API's client must use the same keys. */
  codec?: AesGcmPayloadCodec;
  metrics?: ActivityMetrics;
  /** Called when bookkeeping that must never fail a delivery does fail (the provider failure-rate counts). */
  onBackgroundError?: (error: unknown) => void;
  /** The workflows, already bundled with the same failure converter (tests bundle them once per run). */
  workflowBundle?: { codePath: string };
  /** Extra worker options (tests lower the concurrency, for instance). */
  overrides?: Partial<WorkerOptions>;
}

/** Herald's workers in one process: workflows and bookkeeping on the main queue, provider calls on one per channel. */
export interface HeraldWorker {
  readonly workers: Worker[];
  /** Runs every worker; resolves when all have stopped, rejects (after stopping the others) if one fails. */
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * Herald's workers. The workflows come from the prebuilt bundle (scripts/bundle-workflows.ts: built into the image, and
 * by `npm run setup`) when it was built from the sources on disk, else from the source (server/workflow-bundle.ts), so a
 * stale bundle is never run by mistake.
 *
 * Provider calls run on one task queue per channel (`<queue>-push`, `-sms`, `-email`). The server enforces each
 * queue's `maxTaskQueueActivitiesPerSecond` across every worker that polls it, so a burst to one channel is spread at
 * its configured rate however many workers run, and a slow provider fills only its own queue's slots. Every worker
 * must be given the same rate: the server keeps the last poller's value.
 */
export async function createHeraldWorker(options: HeraldWorkerOptions): Promise<HeraldWorker> {
  const { delivery } = options;
  const prebuilt = options.workflowBundle ? undefined : freshPrebuiltBundle();
  const workflows = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : prebuilt
      ? { workflowBundle: { codePath: prebuilt } }
      : { workflowsPath: require.resolve('../workflows') };
  // One per process: provider outcomes are counted in memory and written once a second (activities/provider-health.ts).
  const health = createProviderHealth({
    db: options.db,
    alerts: delivery.alerts,
    clock: () => new Date(),
    onError: options.onBackgroundError,
  });
  const activities = {
    ...createActivities({
      db: options.db,
      sql: options.sql,
      providers: options.providers,
      clock: () => new Date(),
      tracking: options.tracking,
      delivery,
      metrics: options.metrics,
      health,
      onRecordError: options.onBackgroundError,
    }),
    ...createCampaignActivities({ db: options.db, sql: options.sql }),
    ...createDigestActivities({ sql: options.sql, clock: () => new Date() }),
  };
  // Every worker encrypts and decrypts payloads with the same keys as the API's client (contract/codec.ts).
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    activities,
    dataConverter: heraldDataConverter(options.codec),
  };
  const main = await Worker.create({ ...common, taskQueue: options.taskQueue, ...workflows, ...options.overrides });
  const workers = [main];
  for (const channel of CHANNELS) {
    const policy = delivery.channels[channel];
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: channelTaskQueue(options.taskQueue, channel),
        maxConcurrentActivityTaskExecutions: policy.concurrency,
        ...(policy.ratePerSecond !== undefined ? { maxTaskQueueActivitiesPerSecond: policy.ratePerSecond } : {}),
        ...options.overrides,
      }),
    );
  }
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  return {
    workers,
    shutdown,
    async run() {
      const runs = workers.map((worker) =>
        worker.run().catch((error: unknown) => {
          shutdown();
          throw error;
        }),
      );
      const results = await Promise.allSettled(runs);
      await health.close();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
