import { Router } from 'express';
import { categoryInputSchema, categorySchema } from '../../contract/schemas';
import type { createCategoryService } from '../services/categories.service';
import { parseBody, parseId } from '../validate';
import type { OpenApiKit } from '../openapi-kit';
import { z } from 'zod';

export function categoriesRoutes(categories: ReturnType<typeof createCategoryService>): Router {
  const router = Router();
  router.put('/categories/:name', async (req, res) => {
    const { category, created } = await categories.put(
      parseId(req.params.name, 'name'),
      parseBody(categoryInputSchema, req.body),
    );
    res.status(created ? 201 : 200).json(category);
  });
  router.get('/categories', async (_req, res) => {
    res.json({ categories: await categories.list() });
  });
  router.get('/categories/:name', async (req, res) => {
    res.json(await categories.get(parseId(req.params.name, 'name')));
  });
  router.delete('/categories/:name', async (req, res) => {
    await categories.remove(parseId(req.params.name, 'name'));
    res.status(204).end();
  });
  return router;
}

/** This router's operations in /openapi.json (api/openapi.ts assembles the document). */
export function registerCategoriesOpenApi({ route, json, errors, path }: OpenApiKit): void {
  route({
    method: 'put',
    path: '/v1/categories/{name}',
    summary: 'Define a category: default channels, critical (users cannot mute it), quiet-hours policy',
    request: { params: path('name'), body: { content: { 'application/json': { schema: categoryInputSchema } } } },
    responses: { 200: json(categorySchema, 'Updated'), 201: json(categorySchema, 'Created'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/categories',
    responses: { 200: json(z.object({ categories: z.array(categorySchema) }), 'All categories'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/categories/{name}',
    request: { params: path('name') },
    responses: { 200: json(categorySchema, 'The category'), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/categories/{name}',
    request: { params: path('name') },
    responses: { 204: { description: 'Deleted' }, ...errors },
  });
}
