import fs from 'node:fs';
import path from 'node:path';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createCampaignActivities } from '../activities/campaigns/campaign.activities';
import type { ProviderRegistry } from '../activities/providers/registry';
import type { Db } from './db';
import type { Tracking } from './tracking/tracking';

export interface HeraldWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  providers: ProviderRegistry;
  /** Tracking links, open pixel, List-Unsubscribe and the email layout (absent: messages go out as rendered). */
  tracking?: Tracking;
  /** Extra worker options (tests lower the concurrency, for instance). */
  overrides?: Partial<WorkerOptions>;
}

const PREBUILT_BUNDLE = path.resolve(__dirname, '..', 'dist', 'workflow-bundle.js');

/**
 * A worker for Herald's workflows and activities. In production it uses the bundle prebuilt into the image
 * (scripts/bundle-workflows.ts); elsewhere it bundles the source, so a stale bundle is never run by mistake.
 */
export async function createHeraldWorker(options: HeraldWorkerOptions): Promise<Worker> {
  const workflows =
    process.env.NODE_ENV === 'production' && fs.existsSync(PREBUILT_BUNDLE)
      ? { workflowBundle: { codePath: PREBUILT_BUNDLE } }
      : { workflowsPath: require.resolve('../workflows') };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...workflows,
    activities: {
      ...createActivities({ db: options.db, providers: options.providers, tracking: options.tracking }),
      ...createCampaignActivities({ db: options.db }),
    },
    ...options.overrides,
  });
}
