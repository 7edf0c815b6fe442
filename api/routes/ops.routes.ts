import { Router } from 'express';
import type { QueueStat as QueueStatView } from '../../platform/metrics';
import { HttpError } from '../errors';

/** Operations data for admins: task queue backlogs, straight from Temporal. */
export function opsRoutes(queues: (() => Promise<QueueStatView[]>) | undefined): Router {
  const router = Router();
  router.get('/ops/queues', async (_req, res) => {
    if (!queues) throw new HttpError(404, 'route_not_found', 'queue monitoring is not available on this process');
    let taskQueues: QueueStatView[];
    try {
      taskQueues = await queues();
    } catch (error) {
      throw new HttpError(503, 'temporal_unavailable', `could not describe task queues: ${(error as Error).message}`);
    }
    res.json({ taskQueues, at: new Date().toISOString() });
  });
  return router;
}
