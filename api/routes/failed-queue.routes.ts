import { Router } from 'express';
import { bulkRetrySchema, listNotificationsQuerySchema } from '../../contract/schemas';
import { validationError } from '../errors';
import type { FailedQueueService } from '../services/failed-queue.service';
import { parseBody, parseId } from '../validate';

/** Mounted before the notification routes: GET /notifications and POST /notifications/retry. */
export function failedQueueRoutes(service: FailedQueueService): Router {
  const router = Router();
  router.get('/notifications', async (req, res) => {
    const query = listNotificationsQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query');
    res.json(await service.list(query.data));
  });
  router.post('/notifications/retry', async (req, res) => {
    res.status(202).json(await service.retryMany(parseBody(bulkRetrySchema, req.body ?? {})));
  });
  router.post('/notifications/:id/retry', async (req, res) => {
    res.status(202).json(await service.retry(parseId(req.params.id, 'id')));
  });
  router.post('/notifications/:id/opened', async (req, res) => {
    res.json(await service.opened(parseId(req.params.id, 'id')));
  });
  return router;
}
