import { Router } from 'express';
import { templateInputSchema } from '../../lib/schemas';
import type { createTemplateService } from '../services/templates.service';
import { parseBody, parseId } from '../validate';

export function templatesRoutes(templates: ReturnType<typeof createTemplateService>): Router {
  const router = Router();
  router.put('/templates/:templateId', async (req, res) => {
    const { created, ...template } = await templates.put(
      parseId(req.params.templateId, 'templateId'),
      parseBody(templateInputSchema, req.body),
    );
    res.status(created ? 201 : 200).json(template);
  });
  router.get('/templates/:templateId', async (req, res) => {
    res.json(await templates.get(parseId(req.params.templateId, 'templateId')));
  });
  return router;
}
