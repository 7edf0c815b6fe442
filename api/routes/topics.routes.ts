import { Router } from 'express';
import {
  audiencePreviewSchema,
  pageQuerySchema,
  topicInputSchema,
  topicSubscribersInputSchema,
} from '../../contract/schemas';
import { validationError } from '../errors';
import type { TopicService } from '../services/topics.service';
import { parseBody, parseId } from '../validate';

function parseQuery(query: unknown) {
  const result = pageQuerySchema.safeParse(query);
  if (!result.success) throw validationError(result.error, 'query');
  return result.data;
}

export function topicsRoutes(topics: TopicService): Router {
  const router = Router();
  const key = (value: unknown) => parseId(value, 'key');

  router.put('/topics/:key', async (req, res) => {
    const { topic, created } = await topics.upsert(key(req.params.key), parseBody(topicInputSchema, req.body ?? {}));
    res.status(created ? 201 : 200).json(topic);
  });
  router.get('/topics/:key', async (req, res) => {
    res.json(await topics.get(key(req.params.key)));
  });
  router.delete('/topics/:key', async (req, res) => {
    await topics.remove(key(req.params.key));
    res.status(204).end();
  });

  router.put('/topics/:key/subscribers', async (req, res) => {
    const { userIds } = parseBody(topicSubscribersInputSchema, req.body);
    res.json(await topics.subscribe(key(req.params.key), userIds));
  });
  router.delete('/topics/:key/subscribers', async (req, res) => {
    const { userIds } = parseBody(topicSubscribersInputSchema, req.body);
    res.json(await topics.unsubscribe(key(req.params.key), userIds));
  });
  router.get('/topics/:key/subscribers', async (req, res) => {
    const { cursor, limit } = parseQuery(req.query);
    res.json(await topics.listSubscribers(key(req.params.key), cursor, limit));
  });

  router.post('/audiences/preview', async (req, res) => {
    const { audience, cursor, limit } = parseBody(audiencePreviewSchema, req.body);
    res.json(await topics.previewAudience(audience, cursor, limit));
  });
  return router;
}
