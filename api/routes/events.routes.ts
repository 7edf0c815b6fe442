import { Router } from 'express';
import { statsQuerySchema, trackingEventInputSchema } from '../../lib/schemas';
import { validationError } from '../errors';
import type { StatsService } from '../services/stats.service';
import type { TrackingService } from '../services/tracking.service';
import { parseBody } from '../validate';

export function eventsRoutes(tracking: TrackingService, stats: StatsService): Router {
  const router = Router();
  router.post('/events', async (req, res) => {
    const result = await tracking.report(parseBody(trackingEventInputSchema, req.body));
    res.status(result.stored ? 201 : 200).json(result);
  });
  router.get('/stats', async (req, res) => {
    const query = statsQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query');
    res.json(await stats.get(query.data));
  });
  return router;
}
