import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  apiKeyCreatedSchema,
  apiKeyInputSchema,
  apiKeySchema,
  errorSchema,
  idSchema,
  taskQueueStatsSchema,
} from '../../contract/schemas';
import { providerHealthSchema, SERIES_BUCKETS, statsSeriesSchema } from '../../contract/schemas/insights.schemas';
import { codecPayloadsSchema } from './codec.routes';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const codecPayloads = codecPayloadsSchema.meta({ id: 'CodecPayloads' });

/** The operations surface in /openapi.json: API keys, queue backlogs, the codec server and /metrics. */
export function registerOperationsPaths(
  registry: OpenAPIRegistry,
  route: (config: Omit<RouteConfig, 'security'>) => void,
  errors: RouteConfig['responses'],
) {
  const id = z.object({ id: idSchema });
  route({
    method: 'post',
    path: '/v1/api-keys',
    summary: 'Create an API key (admin). The secret is in this answer only; Herald keeps its SHA-256',
    request: { body: { content: { 'application/json': { schema: apiKeyInputSchema } } } },
    responses: { 201: json(apiKeyCreatedSchema, 'Created'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/api-keys',
    summary: 'List API keys, without their secrets (admin)',
    responses: { 200: json(z.object({ apiKeys: z.array(apiKeySchema) }), 'Newest first'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/api-keys/{id}',
    summary: 'One API key, without its secret; 404 once revoked (GET /v1/api-keys still lists it as revoked)',
    request: { params: id },
    responses: { 200: json(apiKeySchema, 'The key, without its secret'), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/api-keys/{id}',
    summary: 'Revoke an API key for good (admin)',
    request: { params: id },
    responses: { 200: json(apiKeySchema, 'Revoked'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/ops/queues',
    summary: "Each task queue's backlog, its age and its pollers, from Temporal (admin)",
    responses: {
      200: json(z.object({ taskQueues: z.array(taskQueueStatsSchema), at: z.string() }), 'Per queue and task type'),
      503: json(errorSchema, 'Temporal unavailable'),
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/ops/providers',
    summary:
      "Each provider's calls and its own failures over the last minutes, as failover and alerts count them (admin)",
    request: { query: z.object({ windowMinutes: z.number().int().min(1).max(1440).optional() }) },
    responses: { 200: json(providerHealthSchema, 'Per provider'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/stats/series',
    summary: 'Sent, delivered and failed per channel per hour or day over a time range (the dashboard charts)',
    description:
      '`from` must be before `to`, and the range at most 2,232 buckets (93 days by the hour); otherwise 400 validation_error.',
    request: {
      query: z.object({
        from: z.string().meta({ format: 'date-time' }),
        to: z.string().meta({ format: 'date-time' }),
        bucket: z.enum(SERIES_BUCKETS).optional(),
      }),
    },
    responses: { 200: json(statsSeriesSchema, 'Oldest first'), ...errors },
  });
  for (const direction of ['encode', 'decode'] as const) {
    route({
      method: 'post',
      path: `/codec/${direction}`,
      summary: `Temporal remote codec: ${direction} payloads (Bearer key or /codec/login session; notifications:read)`,
      request: { body: { content: { 'application/json': { schema: codecPayloads } } } },
      responses: {
        200: json(codecPayloads, direction === 'encode' ? 'Encrypted' : 'Decrypted'),
        415: json(errorSchema, 'Not application/json (unsupported_media_type)'),
        422: json(errorSchema, 'A payload cannot be decrypted with the configured keys'),
        ...errors,
      },
    });
  }
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (Herald and the Temporal SDK); unauthenticated, keep it off the public internet',
    responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } },
  });
}
