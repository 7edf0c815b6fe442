import { OpenApiGeneratorV31, OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorSchema, idSchema } from '../contract/schemas';
import type { OpenApiKit } from './openapi-kit';
import { registerCategoriesOpenApi } from './routes/categories.routes';
import { registerEventsOpenApi } from './routes/events.routes';
import { registerInsightsOpenApi } from './routes/insights.routes';
import { registerNotificationsOpenApi } from './routes/notifications.routes';
import { registerTemplatesOpenApi } from './routes/templates.routes';
import { registerTrackingOpenApi } from './routes/tracking.routes';
import { registerUsersOpenApi } from './routes/users.routes';
import { registerWebhooksOpenApi } from './routes/webhooks.routes';
import { registerOperationsPaths } from './routes/ops.openapi';
import { registerCampaignRoutes } from './routes/campaigns.openapi';
import { registerInboxPaths } from './inbox/inbox.openapi';

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
  const route = (config: Omit<RouteConfig, 'security'>) => {
    registry.registerPath({ security: [{ [bearer.name]: [] }], ...withBody(config) } as RouteConfig);
  };
  const kit: OpenApiKit = { registry, route, json, errors, path };

  // Each router declares its own operations, beside its handlers.
  registerUsersOpenApi(kit);
  registerCategoriesOpenApi(kit);
  registerTemplatesOpenApi(kit);
  registerEventsOpenApi(kit);
  registerInsightsOpenApi(kit);
  registerNotificationsOpenApi(kit);
  registerCampaignRoutes(route, json, errors);
  registry.registerPath({ method: 'get', path: '/healthz', responses: { 200: { description: 'Alive' } } });
  registerTrackingOpenApi(kit);
  registerWebhooksOpenApi(kit);
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
  registerInboxPaths(registry, route, errors);

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
