import { Router } from 'express';
import { templateInputSchema, templatePreviewInputSchema, templateVersionParamSchema } from '../../contract/schemas';
import { validationError } from '../errors';
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
  router.get('/templates/:templateId/versions', async (req, res) => {
    res.json(await templates.versions(parseId(req.params.templateId, 'templateId')));
  });
  router.get('/templates/:templateId/versions/:version', async (req, res) => {
    const version = templateVersionParamSchema.safeParse(req.params.version);
    if (!version.success) throw validationError(version.error, 'path.version');
    res.json(await templates.get(parseId(req.params.templateId, 'templateId'), version.data));
  });
  router.post('/templates/:templateId/preview', async (req, res) => {
    res.json(
      await templates.preview(
        parseId(req.params.templateId, 'templateId'),
        parseBody(templatePreviewInputSchema, req.body ?? {}),
      ),
    );
  });
  return router;
}
