import type { Client } from '@temporalio/client';
import express, { type Express, type RequestHandler } from 'express';
import type { AesGcmPayloadCodec } from '../contract/codec';
import type { Sql } from '../platform/sql';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import { createTracking, type Tracking } from '../domain/tracking/tracking';
import type { HeraldMetrics } from '../platform/metrics';
import type { QueueStat as QueueStatView } from '../platform/metrics';
import { createAuthenticator, requireApiKey } from './auth';
import { allowedMethods } from './allowed-methods';
import { errorHandler, HttpError } from './errors';
import { refuseNul } from './validate';
import { campaignsRoutes } from './routes/campaigns.routes';
import { categoriesRoutes } from './routes/categories.routes';
import { failedQueueRoutes } from './routes/failed-queue.routes';
import { buildOpenApiDocument } from './openapi';
import { eventsRoutes } from './routes/events.routes';
import { apiKeysRoutes } from './routes/api-keys.routes';
import { codecRoutes } from './routes/codec.routes';
import { notificationsRoutes, outboxRoutes } from './routes/notifications.routes';
import { opsRoutes } from './routes/ops.routes';
import { templatesRoutes } from './routes/templates.routes';
import { topicsRoutes } from './routes/topics.routes';
import { trackingRoutes } from './routes/tracking.routes';
import { usersRoutes } from './routes/users.routes';
import { webhooksRoutes } from './routes/webhooks.routes';
import { dashboardRoutes, type DashboardOptions } from './routes/dashboard.routes';
import { insightsRoutes } from './routes/insights.routes';
import { createCampaignService } from './services/campaigns.service';
import { createCategoryService } from './services/categories.service';
import { createFailedQueueService } from './services/failed-queue.service';
import { createStatsService } from './services/stats.service';
import { createApiKeyService } from './services/api-keys.service';
import { createNotificationService, notifySettingsChanged } from './services/notifications.service';
import { createTemplateService } from './services/templates.service';
import { createTopicService } from './services/topics.service';
import { createTrackingService } from './services/tracking.service';
import { createUserService } from './services/users.service';
import { createWebhookService } from './services/webhooks.service';
import { createInbox, type InboxDeps } from './inbox/inbox.routes';
import { defaultInboxConfig } from '../platform/config/inbox';

export interface AppDeps {
  db: Db;
  /** Plain SQL on the same database: accepting a notification (platform/sql.ts). */
  sql: Sql;
  temporal: Client;
  taskQueue: string;
  /** The bootstrap admin key (HERALD_API_KEY); other keys live in the database (/v1/api-keys). */
  apiKey: string;
  publicUrl: string;
  logger: Logger;
  /**
   * Readiness of the dependencies (database and Temporal), and what the embedded Temporal's supervisor says when it
   * runs one (restarting it, with the restart count).
   */
  ready: () => Promise<{ database: boolean; temporal: boolean; embeddedTemporal?: object }>;
  /** Tracking links, webhooks' keys, email layout (default: tracking on, generated key, no webhooks). */
  tracking?: Tracking;
  /** Served on /metrics, and fed with request counts and latencies. */
  metrics?: HeraldMetrics;
  /** The payload codec: enables /codec/encode and /codec/decode for the Web UI and CLI. */
  codec?: AesGcmPayloadCodec;
  /** Browser origins allowed to call /codec (the Temporal Web UI). */
  codecCorsOrigins?: string[];
  /** Task queue backlogs for GET /v1/ops/queues. */
  queues?: () => Promise<QueueStatView[]>;
  /** The operator dashboard's links out: the Temporal Web UI (none when unknown) and the namespace. */
  dashboard?: DashboardOptions;
  /** The in-app inbox: token keys, CORS, and the database URL its streams LISTEN on (PostgreSQL) — api/inbox. */
  inbox?: Partial<Pick<InboxDeps, 'config' | 'databaseUrl' | 'bus'>>;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const openapi = buildOpenApiDocument(deps.publicUrl);
  const methods = allowedMethods(openapi);
  const authenticator = createAuthenticator(deps.db, deps.apiKey);
  if (deps.metrics) {
    const metrics = deps.metrics;
    app.use(httpMetrics(metrics));
    app.get('/metrics', async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.render());
    });
  }
  // Before the JSON parser: the codec takes larger bodies, and only once the caller is authenticated.
  if (deps.codec) {
    app.use(
      '/codec',
      codecRoutes({
        codec: deps.codec,
        authenticator,
        allowedOrigins: deps.codecCorsOrigins ?? [],
        sessionSecret: deps.codec.deriveSecret('codec session'),
        secureCookies: deps.publicUrl.startsWith('https:'),
      }),
    );
  }
  // The inbox's feed takes a user token, not an API key, and answers its own CORS preflights (before the ones below).
  const inbox = createInbox({
    db: deps.db,
    sql: deps.sql,
    config: deps.inbox?.config ?? defaultInboxConfig(),
    ...deps.inbox,
  });
  app.use(inbox.assets);
  app.locals.closeInboxStreams = inbox.closeStreams;
  app.use(inbox.feed);
  // After /codec, whose CORS preflights are OPTIONS too.
  app.use(methods.options);
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
    const { database, temporal, embeddedTemporal } = await deps.ready();
    const ok = database && temporal;
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ready' : 'not_ready',
      checks: { database, temporal },
      ...(embeddedTemporal && { embeddedTemporal }),
    });
  });
  app.use('/dashboard', dashboardRoutes(authenticator, deps.dashboard ?? { namespace: 'default' }));
  app.get('/openapi.json', (_req, res) => void res.json(openapi));
  const trackingService = createTrackingService(deps.db, tracking);
  app.use(trackingRoutes(trackingService));

  const v1 = express.Router();
  v1.use(requireApiKey(authenticator));
  v1.use(refuseNul());
  v1.use(
    usersRoutes(createUserService({ db: deps.db, settingsChanged: (userId) => notifySettingsChanged(deps, userId) })),
  );
  v1.use(categoriesRoutes(createCategoryService(deps.db)));
  v1.use(
    templatesRoutes(
      createTemplateService(deps.db, { emailLayout: tracking.config.emailLayout, publicUrl: deps.publicUrl }),
    ),
  );
  const failedQueue = createFailedQueueService(deps);
  v1.use(eventsRoutes(trackingService, createStatsService(deps.db), (id) => failedQueue.opened(id)));
  v1.use(failedQueueRoutes(failedQueue));
  v1.use(notificationsRoutes(createNotificationService(deps)));
  v1.use(outboxRoutes(deps.db));
  v1.use(apiKeysRoutes(createApiKeyService(deps.db), authenticator));
  v1.use(opsRoutes(deps.queues));
  v1.use(insightsRoutes(deps.db));
  v1.use(topicsRoutes(createTopicService(deps.db)));
  v1.use(campaignsRoutes(createCampaignService(deps)));
  v1.use(inbox.tokens);
  app.use('/v1', v1);

  app.use(methods.notAllowed);
  app.use((req, _res, next) => next(new HttpError(404, 'route_not_found', `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}

/** Request count and latency by route pattern (never the raw path: ids would explode the label set). */
function httpMetrics(metrics: HeraldMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const route = res.locals.route ?? (req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched');
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      // A new notification (not a replay of an Idempotency-Key) is counted as accepted; workers count the rest.
      if (route === '/v1/notifications' && res.statusCode === 202 && !res.get('Idempotent-Replayed')) {
        metrics.notificationStatus('accepted');
      }
    });
    next();
  };
}
