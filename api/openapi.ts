import { OpenApiGeneratorV31, OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  idempotencyKeySchema,
  acceptedSchema,
  bulkRetrySchema,
  bulkUsersSchema,
  categoryInputSchema,
  categorySchema,
  deviceInputSchema,
  deviceSchema,
  errorSchema,
  idSchema,
  listNotificationsQuerySchema,
  notificationPageSchema,
  notificationSchema,
  preferencesSchema,
  redriveResultSchema,
  sendNotificationSchema,
  statsQuerySchema,
  statsSchema,
  templateInputSchema,
  templatePreviewInputSchema,
  templatePreviewSchema,
  templateSchema,
  templateVersionsSchema,
  trackingEventInputSchema,
  userInputSchema,
  userSchema,
} from '../contract/schemas';
import { outboxQuerySchema } from './routes/notifications.routes';
import { TRACKING_TOKEN } from './routes/tracking.routes';
import { registerOperationsPaths } from './openapi-ops';
import { registerCampaignRoutes } from './openapi-campaigns';

/** Generated from the same zod schemas that validate requests, so the document cannot drift from the code. */
export function buildOpenApiDocument(publicUrl: string) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer' });
  const json = (schema: z.ZodType, description: string) => ({
    description,
    content: { 'application/json': { schema } },
  });
  const errors = {
    400: json(errorSchema, 'Invalid input (validation_error names the field in details[].field)'),
    401: json(errorSchema, 'Missing or invalid API key'),
    403: json(errorSchema, 'The API key lacks the scope this route needs (insufficient_scope)'),
    404: json(errorSchema, 'Not found'),
    429: json(errorSchema, "Over the API key's rate limit (rate_limited); see Retry-After"),
  };
  registry.registerComponent('responses', 'MethodNotAllowed', {
    description: 'The path exists but not with this method; the Allow header lists the methods it has',
    headers: { Allow: { schema: { type: 'string' }, description: 'e.g. GET, HEAD, PUT, DELETE' } },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  const path = (name: string) => z.object({ [name]: idSchema });
  const route = (config: Omit<RouteConfig, 'security'>) =>
    registry.registerPath({ security: [{ [bearer.name]: [] }], ...withBody(config) } as RouteConfig);

  route({
    method: 'put',
    path: '/v1/users/{userId}',
    summary: 'Create or update a user',
    request: { params: path('userId'), body: { content: { 'application/json': { schema: userInputSchema } } } },
    responses: { 200: json(userSchema, 'Updated'), 201: json(userSchema, 'Created'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/users/bulk',
    summary: 'Create or update up to 1,000 users; per-item results (207 when some failed)',
    request: { body: { content: { 'application/json': { schema: bulkUsersSchema } } } },
    responses: { 200: { description: 'All succeeded' }, 207: { description: 'Some failed; see results' }, ...errors },
  });
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
  route({
    method: 'get',
    path: '/v1/users/{userId}',
    request: { params: path('userId') },
    responses: { 200: json(userSchema, 'The user'), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/users/{userId}',
    summary: 'Erase the user, their devices, preferences and personal data in the log',
    request: { params: path('userId') },
    responses: { 200: json(z.object({ erased: z.record(z.string(), z.number()) }), 'What was erased'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/users/{userId}/devices',
    summary: 'Register a device (the same token again updates it)',
    request: { params: path('userId'), body: { content: { 'application/json': { schema: deviceInputSchema } } } },
    responses: { 201: json(deviceSchema, 'Registered'), 200: json(deviceSchema, 'Already registered'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/users/{userId}/devices',
    request: { params: path('userId') },
    responses: { 200: json(z.object({ devices: z.array(deviceSchema) }), 'Devices with their state'), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/users/{userId}/devices/{deviceId}',
    request: { params: z.object({ userId: idSchema, deviceId: idSchema }) },
    responses: { 204: { description: 'Unregistered' }, ...errors },
  });
  for (const method of ['get', 'put'] as const) {
    route({
      method,
      path: '/v1/users/{userId}/preferences',
      request: {
        params: path('userId'),
        ...(method === 'put' ? { body: { content: { 'application/json': { schema: preferencesSchema } } } } : {}),
      },
      responses: { 200: json(preferencesSchema, 'Preferences'), ...errors },
    });
  }
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
  route({
    method: 'post',
    path: '/v1/events',
    summary: 'Report an open, click or conversion (push opens from apps, conversions from the backend)',
    request: { body: { content: { 'application/json': { schema: trackingEventInputSchema } } } },
    responses: {
      201: json(z.object({ stored: z.boolean(), counted: z.boolean() }).loose(), 'Recorded'),
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/stats',
    summary: 'Sent, delivered, failed, opened, clicked, converted and their rates over a time range',
    description: '`from` must be before `to` (otherwise 400).',
    request: { query: statsQuerySchema },
    responses: { 200: json(statsSchema, 'Counts and rates'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/notifications',
    summary: 'Send a notification (202 once its workflow has durably started)',
    request: {
      headers: z.object({ 'Idempotency-Key': idempotencyKeySchema.optional() }),
      body: { content: { 'application/json': { schema: sendNotificationSchema } } },
    },
    responses: {
      202: json(acceptedSchema, 'Accepted'),
      503: json(errorSchema, 'Temporal unavailable; retry with the same key'),
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/notifications/{id}',
    request: { params: path('id') },
    responses: { 200: json(notificationSchema, 'The notification and its deliveries'), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/notifications/{id}',
    summary: 'Cancel a notification that has not started sending',
    request: { params: path('id') },
    responses: {
      200: json(notificationSchema, 'Canceled'),
      409: json(errorSchema, 'Already sending or finished'),
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/notifications',
    summary: 'List notifications, newest first (e.g. ?status=failed,partially_delivered), keyset-paginated',
    request: { query: listNotificationsQuerySchema },
    responses: { 200: json(notificationPageSchema, 'A page; pass nextCursor as cursor for the next'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/notifications/{id}/retry',
    summary:
      'Re-drive the failed targets of a failed or partially delivered notification (delivered ones are not re-sent)',
    request: { params: path('id') },
    responses: { 202: { description: 'Re-drive started' }, 409: json(errorSchema, 'Not failed'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/notifications/retry',
    summary: 'Re-drive the failed targets of many notifications (after an outage)',
    request: { body: { required: false, content: { 'application/json': { schema: bulkRetrySchema } } } },
    responses: { 202: json(redriveResultSchema, 'Re-drives started'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/notifications/{id}/opened',
    summary: 'Record that the user opened the notification (ends a pending escalation)',
    request: { params: path('id') },
    responses: { 200: { description: 'Recorded' }, ...errors },
  });
  route({
    method: 'get',
    path: '/v1/outbox',
    summary: 'Messages delivered to the local outbox (channels without provider credentials)',
    request: { query: outboxQuerySchema },
    responses: { 200: { description: 'Newest first' }, ...errors },
  });
  registerCampaignRoutes(route, json, errors);
  registry.registerPath({ method: 'get', path: '/healthz', responses: { 200: { description: 'Alive' } } });
  const token = z.object({ token: z.string().regex(TRACKING_TOKEN) });
  const gone = { 410: { description: 'The user was erased: nothing is left behind the link (HTML)' } };
  const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
  registry.registerPath({
    method: 'get',
    path: '/t/{token}',
    summary: 'Tracked link: records the click and redirects to the original URL (signed; anything else is a 404)',
    request: { params: token },
    responses: { 302: { description: 'To the original URL' }, 404: html('Not a valid link'), ...gone },
  });
  registry.registerPath({
    method: 'get',
    path: '/o/{token}.gif',
    summary: 'Open pixel',
    request: { params: token },
    responses: {
      200: { description: '1×1 GIF', content: { 'image/gif': { schema: z.string() } } },
      404: json(errorSchema, 'Not a valid pixel'),
      ...gone,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/u/{token}',
    summary: 'Unsubscribe confirmation page (a GET never unsubscribes: it shows a button that POSTs)',
    request: { params: token },
    responses: { 200: html('The confirmation page'), 404: html('Not a valid link'), ...gone },
  });
  registry.registerPath({
    method: 'post',
    path: '/u/{token}',
    summary: 'One-click unsubscribe (RFC 8058); GET shows a confirmation page',
    request: { params: token },
    responses: { 200: html('Unsubscribed'), 404: html('Not a valid link'), ...gone },
  });
  registry.registerPath({
    method: 'post',
    path: '/webhooks/sendgrid',
    summary: 'SendGrid Event Webhook (signed: X-Twilio-Email-Event-Webhook-Signature / -Timestamp)',
    responses: {
      200: { description: 'Accepted' },
      400: json(errorSchema, 'Signed, but not a JSON array of events'),
      401: json(errorSchema, 'Unsigned (missing_signature)'),
      403: json(errorSchema, 'Bad signature (invalid_signature)'),
      413: json(errorSchema, 'Larger than 5 MB'),
      503: json(errorSchema, 'SENDGRID_WEBHOOK_PUBLIC_KEY is not set (webhook_not_configured)'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/webhooks/twilio',
    summary: 'Twilio status callback (signed: X-Twilio-Signature)',
    responses: {
      200: { description: 'Accepted' },
      401: json(errorSchema, 'Unsigned (missing_signature)'),
      403: json(errorSchema, 'Bad signature (invalid_signature)'),
      413: json(errorSchema, 'Larger than 64 KB'),
      503: json(errorSchema, 'Twilio is not configured (webhook_not_configured)'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    responses: {
      200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.object({}).loose() } } },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    responses: { 200: { description: 'Database and Temporal reachable' }, 503: { description: 'Not ready' } },
  });

  registerOperationsPaths(registry, route, errors);

  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version: '1.0.0',
      description:
        'Notifications by push, SMS and email, on Temporal. No string may contain NUL (U+0000): 400 validation_error. ' +
        'A method a path does not have answers 405 with an Allow header (components.responses.MethodNotAllowed).',
    },
    servers: [{ url: publicUrl }],
  });
  return refuseNulInStrings(mayBeUnavailable(document));
}

/**
 * Every /v1 route reads or writes the database (and several talk to Temporal): while either is down it answers 503
 * with `Retry-After` (database_unavailable, temporal_unavailable), never 500.
 */
function mayBeUnavailable<T extends { paths?: Record<string, unknown> }>(document: T): T {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    if (!path.startsWith('/v1/')) continue;
    for (const operation of Object.values(item as Record<string, { responses?: Record<string, unknown> }>)) {
      if (!operation || typeof operation !== 'object' || !operation.responses) continue;
      operation.responses['503'] ??= {
        description:
          'The database or Temporal is unavailable (database_unavailable, temporal_unavailable): retry after Retry-After',
        headers: { 'Retry-After': { schema: { type: 'integer', minimum: 1 }, description: 'seconds' } },
        content: errorContent,
      };
    }
  }
  return document;
}

/**
 * Bodies are required unless a route says otherwise, and a route that reads one can also answer 413 (too large) and
 * 415 (a charset other than UTF-8).
 */
function withBody<T extends Omit<RouteConfig, 'security'>>(config: T): T {
  const body = config.request?.body;
  if (!body) return config;
  return {
    ...config,
    request: { ...config.request, body: { required: true, ...body } },
    responses: {
      413: { description: 'Request body too large (payload_too_large)', content: errorContent },
      415: { description: 'Request body encoding not supported (unsupported_encoding)', content: errorContent },
      ...config.responses,
    },
  };
}
const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

/**
 * No text Herald stores may contain U+0000 (PostgreSQL cannot), and api/validate.ts refuses it anywhere in a body or
 * query: every string and every object key says so, and every free-form value (`data`, extra fields, error details)
 * is a `JsonValue` — any JSON without NUL — rather than `{}`, which would promise that NUL is accepted there too.
 */
const NO_NUL = '^[^\\u0000]*$';
const JSON_VALUE = { $ref: '#/components/schemas/JsonValue' };
const isFreeForm = (schema: unknown) =>
  schema !== null && typeof schema === 'object' && !Array.isArray(schema) && Object.keys(schema).length === 0;
function refuseNulInStrings<T extends { components?: { schemas?: Record<string, unknown> } }>(document: T): T {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const schema = node as Record<string, unknown>;
    const types = [schema.type].flat();
    if (types.includes('string') && schema.pattern === undefined && schema.enum === undefined) {
      schema.pattern = NO_NUL;
    }
    if (types.includes('object') && schema.additionalProperties !== false) {
      const names = (schema.propertyNames ?? {}) as Record<string, unknown>;
      if (names.pattern === undefined) schema.propertyNames = { ...names, pattern: NO_NUL };
      // Unlisted fields of an object that allows them (passthrough) are free-form values too.
      if (schema.additionalProperties === undefined) schema.additionalProperties = JSON_VALUE;
    }
    if (isFreeForm(schema.additionalProperties)) schema.additionalProperties = JSON_VALUE;
    if (isFreeForm(schema.items)) schema.items = JSON_VALUE;
    const properties = schema.properties as Record<string, unknown> | undefined;
    if (types.includes('object') && properties) {
      for (const [name, property] of Object.entries(properties))
        if (isFreeForm(property)) properties[name] = JSON_VALUE;
    }
    Object.values(schema).forEach(visit);
  };
  visit(document);
  const components = (document.components ??= {});
  (components.schemas ??= {}).JsonValue = {
    description: 'Any JSON value; no string or key in it may contain NUL (U+0000)',
    type: ['null', 'boolean', 'number', 'string', 'array', 'object'],
    pattern: NO_NUL,
    items: JSON_VALUE,
    propertyNames: { pattern: NO_NUL },
    additionalProperties: JSON_VALUE,
  };
  return document;
}
