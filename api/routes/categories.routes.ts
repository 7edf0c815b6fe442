import { Router } from 'express';
import { categoryInputSchema } from '../../contract/schemas';
import type { createCategoryService } from '../services/categories.service';
import { parseBody, parseId } from '../validate';

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
