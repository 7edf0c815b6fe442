import { Router } from 'express';
import { apiKeyInputSchema } from '../../contract/schemas';
import type { Authenticator } from '../auth';
import type { ApiKeyService } from '../services/api-keys.service';
import { parseBody, parseId } from '../validate';

/** /v1/api-keys (admin scope): create (the secret is shown once), list and read (never the secret), revoke. */
export function apiKeysRoutes(keys: ApiKeyService, authenticator: Authenticator): Router {
  const router = Router();
  router.post('/api-keys', async (req, res) => {
    res.status(201).json(await keys.create(parseBody(apiKeyInputSchema, req.body)));
  });
  router.get('/api-keys', async (_req, res) => {
    res.json({ apiKeys: await keys.list() });
  });
  router.get('/api-keys/:id', async (req, res) => {
    res.json(await keys.get(parseId(req.params.id, 'id')));
  });
  router.delete('/api-keys/:id', async (req, res) => {
    const revoked = await keys.revoke(parseId(req.params.id, 'id'));
    authenticator.forget(revoked.id);
    res.json(revoked);
  });
  return router;
}
