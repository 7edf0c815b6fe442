import { Router } from 'express';
import {
  errorSchema,
  idSchema,
  templateInputSchema,
  templatePreviewInputSchema,
  templatePreviewSchema,
  templateSchema,
  templateVersionParamSchema,
  templateVersionsSchema,
} from '../../contract/schemas';
import { validationError } from '../errors';
import type { createTemplateService } from '../services/templates.service';
import { parseBody, parseId } from '../validate';
import type { OpenApiKit } from '../openapi-kit';
import { z } from 'zod';

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

/** This router's operations in /openapi.json (api/openapi.ts assembles the document). */
export function registerTemplatesOpenApi({ route, json, errors, path }: OpenApiKit): void {
  route({
    method: 'put',
    path: '/v1/templates/{templateId}',
    summary: 'Save a template (a new version)',
    request: { params: path('templateId'), body: { content: { 'application/json': { schema: templateInputSchema } } } },
    responses: {
      200: json(templateSchema, 'New version'),
      201: json(templateSchema, 'Created'),
      422: json(errorSchema, 'Template does not parse'),
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/templates/{templateId}',
    request: { params: path('templateId') },
    responses: { 200: json(templateSchema, 'Current version'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/templates/{templateId}/versions',
    summary: 'The versions of a template, newest first',
    request: { params: path('templateId') },
    responses: { 200: json(templateVersionsSchema, 'Versions'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/templates/{templateId}/versions/{version}',
    summary: 'One stored version of a template',
    request: { params: z.object({ templateId: idSchema, version: z.number().int().min(1).max(2_147_483_647) }) },
    responses: { 200: json(templateSchema, 'That version'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/templates/{templateId}/preview',
    summary: 'Render with sample data: SMS encoding and segments, push payload size, missing variables',
    description:
      'Renders a stored version (`version`, default the current one) or unsaved content (`draft`, an editor’s live ' +
      'preview) — not both (400 validation_error).',
    request: {
      params: path('templateId'),
      body: { required: false, content: { 'application/json': { schema: templatePreviewInputSchema } } },
    },
    responses: { 200: json(templatePreviewSchema, 'The rendered channels and their figures'), ...errors },
  });
}
