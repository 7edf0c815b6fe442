import { Router } from 'express';
import { statsQuerySchema, trackingEventInputSchema } from '../../contract/schemas';
import { validationError } from '../errors';
import type { StatsService } from '../services/stats.service';
import type { TrackingService } from '../services/tracking.service';
import { parseBody } from '../validate';
import type { OpenApiKit } from '../openapi-kit';
import { z } from 'zod';

/**
 * `onEngaged` is told when a notification was opened or clicked (a click proves an open), so that a pending
 * escalation ("SMS if the push is not opened") is not sent.
 */
export function eventsRoutes(
  tracking: TrackingService,
  stats: StatsService,
  onEngaged: (notificationId: string) => Promise<unknown> = async () => undefined,
): Router {
  const router = Router();
  router.post('/events', async (req, res) => {
    const input = parseBody(trackingEventInputSchema, req.body);
    const result = await tracking.report(input);
    if (input.type === 'opened' || input.type === 'clicked') await onEngaged(input.notificationId);
    res.status(result.stored ? 201 : 200).json(result);
  });
  router.get('/stats', async (req, res) => {
    const query = statsQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query');
    res.json(await stats.get(query.data));
  });
  return router;
}

/** This router's operations in /openapi.json (api/openapi.ts assembles the document). */
export function registerEventsOpenApi({ route, json, errors }: OpenApiKit): void {
  route({
    method: 'post',
    path: '/v1/events',
    summary: 'Report an open, click or conversion (push opens from apps, conversions from the backend)',
    request: { body: { content: { 'application/json': { schema: trackingEventInputSchema } } } },
    responses: {
      201: json(z.object({ stored: z.boolean(), counted: z.boolean() }).loose(), 'Recorded'),
      ...errors,
    },
  });
}
