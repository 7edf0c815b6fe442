import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createTracking, type Tracking } from '../lib/tracking/tracking';
import { requireApiKey } from './auth';
import { errorHandler, HttpError } from './errors';
import { campaignsRoutes } from './routes/campaigns.routes';
import { categoriesRoutes } from './routes/categories.routes';
import { buildOpenApiDocument } from './openapi';
import { eventsRoutes } from './routes/events.routes';
import { notificationsRoutes, outboxRoutes } from './routes/notifications.routes';
import { templatesRoutes } from './routes/templates.routes';
import { topicsRoutes } from './routes/topics.routes';
import { trackingRoutes } from './routes/tracking.routes';
import { usersRoutes } from './routes/users.routes';
import { webhooksRoutes } from './routes/webhooks.routes';
import { createCampaignService } from './services/campaigns.service';
import { createCategoryService } from './services/categories.service';
import { createNotificationService, notifySettingsChanged } from './services/notifications.service';
import { createStatsService } from './services/stats.service';
import { createTemplateService } from './services/templates.service';
import { createTopicService } from './services/topics.service';
import { createTrackingService } from './services/tracking.service';
import { createUserService } from './services/users.service';
import { createWebhookService } from './services/webhooks.service';

export interface AppDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  apiKey: string;
  publicUrl: string;
  logger: Logger;
  /** Readiness of the dependencies (database and Temporal). */
  ready: () => Promise<{ database: boolean; temporal: boolean }>;
  /** Tracking links, webhooks' keys, email layout (default: tracking on, generated key, no webhooks). */
  tracking?: Tracking;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const tracking =
    deps.tracking ??
    createTracking({ publicUrl: deps.publicUrl, tracking: { opens: true, clicks: true, smsLinks: false } }, deps.db);
  // Before the JSON parser: webhook signatures cover the bytes exactly as the provider sent them.
  app.use(
    webhooksRoutes(
      createWebhookService(deps.db, {
        publicUrl: deps.publicUrl,
        sendgridPublicKey: tracking.config.sendgridWebhookPublicKey,
        twilioAuthToken: tracking.twilioAuthToken,
      }),
      deps.publicUrl,
    ),
  );
  app.use(express.json({ limit: '256kb', strict: true }));

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.ready();
    const ok = checks.database && checks.temporal;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks });
  });
  const openapi = buildOpenApiDocument(deps.publicUrl);
  app.get('/openapi.json', (_req, res) => void res.json(openapi));
  const trackingService = createTrackingService(deps.db, tracking);
  app.use(trackingRoutes(trackingService));

  const v1 = express.Router();
  v1.use(requireApiKey(deps.apiKey));
  v1.use(
    usersRoutes(createUserService({ db: deps.db, settingsChanged: (userId) => notifySettingsChanged(deps, userId) })),
  );
  v1.use(categoriesRoutes(createCategoryService(deps.db)));
  v1.use(
    templatesRoutes(
      createTemplateService(deps.db, { emailLayout: tracking.config.emailLayout, publicUrl: deps.publicUrl }),
    ),
  );
  v1.use(eventsRoutes(trackingService, createStatsService(deps.db)));
  v1.use(notificationsRoutes(createNotificationService(deps)));
  v1.use(outboxRoutes(deps.db));
  v1.use(topicsRoutes(createTopicService(deps.db)));
  v1.use(campaignsRoutes(createCampaignService(deps)));
  app.use('/v1', v1);

  app.use((req, _res, next) => next(new HttpError(404, 'route_not_found', `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
