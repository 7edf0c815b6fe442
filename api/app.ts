import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { requireApiKey } from './auth';
import { errorHandler, HttpError } from './errors';
import { categoriesRoutes } from './routes/categories.routes';
import { failedQueueRoutes } from './routes/failed-queue.routes';
import { buildOpenApiDocument } from './openapi';
import { notificationsRoutes, outboxRoutes } from './routes/notifications.routes';
import { templatesRoutes } from './routes/templates.routes';
import { usersRoutes } from './routes/users.routes';
import { createCategoryService } from './services/categories.service';
import { createFailedQueueService } from './services/failed-queue.service';
import { createNotificationService, notifySettingsChanged } from './services/notifications.service';
import { createTemplateService } from './services/templates.service';
import { createUserService } from './services/users.service';

export interface AppDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  apiKey: string;
  publicUrl: string;
  logger: Logger;
  /** Readiness of the dependencies (database and Temporal). */
  ready: () => Promise<{ database: boolean; temporal: boolean }>;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '256kb', strict: true }));

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.ready();
    const ok = checks.database && checks.temporal;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks });
  });
  const openapi = buildOpenApiDocument(deps.publicUrl);
  app.get('/openapi.json', (_req, res) => void res.json(openapi));

  const v1 = express.Router();
  v1.use(requireApiKey(deps.apiKey));
  v1.use(
    usersRoutes(createUserService({ db: deps.db, settingsChanged: (userId) => notifySettingsChanged(deps, userId) })),
  );
  v1.use(categoriesRoutes(createCategoryService(deps.db)));
  v1.use(templatesRoutes(createTemplateService(deps.db)));
  v1.use(failedQueueRoutes(createFailedQueueService(deps)));
  v1.use(notificationsRoutes(createNotificationService(deps)));
  v1.use(outboxRoutes(deps.db));
  app.use('/v1', v1);

  app.use((req, _res, next) => next(new HttpError(404, 'route_not_found', `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
