import { Router } from 'express';
import { campaignInputSchema, campaignRunsQuerySchema, listCampaignsQuerySchema } from '../../contract/schemas';
import { validationError } from '../errors';
import type { CampaignService } from '../services/campaigns.service';
import { idempotencyKeyOf, parseBody, parseId } from '../validate';

export function campaignsRoutes(campaigns: CampaignService): Router {
  const router = Router();
  const id = (value: unknown) => parseId(value, 'id');
  const runId = (value: unknown) => parseId(value, 'runId');

  // The same Idempotency-Key again answers as the first time (201, the same campaign), as POST /v1/notifications does.
  router.post('/campaigns', async (req, res) => {
    const input = parseBody(campaignInputSchema, req.body);
    const { campaign, replayed } = await campaigns.create(input, idempotencyKeyOf(req));
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(201).json(campaign);
  });
  router.get('/campaigns', async (req, res) => {
    const query = listCampaignsQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query');
    res.json(await campaigns.list(query.data));
  });
  router.get('/campaigns/:id', async (req, res) => {
    res.json(await campaigns.get(id(req.params.id)));
  });
  router.delete('/campaigns/:id', async (req, res) => {
    await campaigns.remove(id(req.params.id));
    res.status(204).end();
  });
  router.post('/campaigns/:id/pause', async (req, res) => {
    res.json(await campaigns.pause(id(req.params.id)));
  });
  router.post('/campaigns/:id/resume', async (req, res) => {
    res.json(await campaigns.resume(id(req.params.id)));
  });
  router.post('/campaigns/:id/trigger', async (req, res) => {
    res.status(202).json(await campaigns.trigger(id(req.params.id)));
  });

  router.get('/campaigns/:id/runs', async (req, res) => {
    const query = campaignRunsQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query');
    res.json(await campaigns.listRuns(id(req.params.id), query.data.cursor, query.data.limit));
  });
  router.get('/campaigns/:id/runs/:runId', async (req, res) => {
    res.json(await campaigns.getRun(id(req.params.id), runId(req.params.runId)));
  });
  router.post('/campaigns/:id/runs/:runId/cancel', async (req, res) => {
    res.json(await campaigns.cancelRun(id(req.params.id), runId(req.params.runId)));
  });
  return router;
}
