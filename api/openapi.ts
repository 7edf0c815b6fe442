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
  listNotificationsQuerySchema,
  notificationPageSchema,
  notificationSchema,
  preferencesSchema,
  redriveResultSchema,
  sendNotificationSchema,
  statsSchema,
  STATS_GROUPS,
  templateInputSchema,
  templatePreviewInputSchema,
  templatePreviewSchema,
  templateSchema,
  templateVersionsSchema,
  trackingEventInputSchema,
  userInputSchema,
  userSchema,
} from '../lib/schemas';
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
    400: json(errorSchema, 'Invalid input'),
    401: json(errorSchema, 'Missing or invalid API key'),
    403: json(errorSchema, 'The API key lacks the scope this route needs (insufficient_scope)'),
    404: json(errorSchema, 'Not found'),
    429: json(errorSchema, "Over the API key's rate limit (rate_limited); see Retry-After"),
  };
  const path = (name: string) => z.object({ [name]: z.string() });
  const route = (config: Omit<RouteConfig, 'security'>) =>
    registry.registerPath({ security: [{ [bearer.name]: [] }], ...config } as RouteConfig);

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
    request: { params: z.object({ userId: z.string(), deviceId: z.string() }) },
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
    request: { params: z.object({ templateId: z.string(), version: z.string() }) },
    responses: { 200: json(templateSchema, 'That version'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/templates/{templateId}/preview',
    summary: 'Render with sample data: SMS encoding and segments, push payload size, missing variables',
    request: {
      params: path('templateId'),
      body: { content: { 'application/json': { schema: templatePreviewInputSchema } } },
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
    request: {
      query: z.object({
        from: z.string().meta({ format: 'date-time' }),
        to: z.string().meta({ format: 'date-time' }),
        groupBy: z.enum(STATS_GROUPS).optional(),
      }),
    },
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
    request: { body: { content: { 'application/json': { schema: bulkRetrySchema } } } },
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
    request: {
      query: z.object({ limit: z.number().int().optional(), channel: z.enum(['push', 'sms', 'email']).optional() }),
    },
    responses: { 200: { description: 'Newest first' }, ...errors },
  });
  registerCampaignRoutes(route, json, errors);
  registry.registerPath({ method: 'get', path: '/healthz', responses: { 200: { description: 'Alive' } } });
  const token = z.object({ token: z.string() });
  registry.registerPath({
    method: 'get',
    path: '/t/{token}',
    summary: 'Tracked link: records the click and redirects to the original URL (signed; anything else is a 404)',
    request: { params: token },
    responses: { 302: { description: 'To the original URL' }, 404: { description: 'Not a valid link' } },
  });
  registry.registerPath({
    method: 'get',
    path: '/o/{token}.gif',
    summary: 'Open pixel',
    request: { params: token },
    responses: { 200: { description: '1×1 GIF' }, 404: { description: 'Not a valid pixel' } },
  });
  registry.registerPath({
    method: 'post',
    path: '/u/{token}',
    summary: 'One-click unsubscribe (RFC 8058); GET shows a confirmation page',
    request: { params: token },
    responses: { 200: { description: 'Unsubscribed' }, 404: { description: 'Not a valid link' } },
  });
  registry.registerPath({
    method: 'post',
    path: '/webhooks/sendgrid',
    summary: 'SendGrid Event Webhook (signed: X-Twilio-Email-Event-Webhook-Signature / -Timestamp)',
    responses: {
      200: { description: 'Accepted' },
      401: { description: 'Unsigned' },
      403: { description: 'Bad signature' },
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/webhooks/twilio',
    summary: 'Twilio status callback (signed: X-Twilio-Signature)',
    responses: {
      200: { description: 'Accepted' },
      401: { description: 'Unsigned' },
      403: { description: 'Bad signature' },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    responses: { 200: { description: 'Database and Temporal reachable' }, 503: { description: 'Not ready' } },
  });

  registerOperationsPaths(registry, route, errors);

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Herald', version: '1.0.0', description: 'Notifications by push, SMS and email, on Temporal.' },
    servers: [{ url: publicUrl }],
  });
}
