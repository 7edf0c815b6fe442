import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  idempotencyKeySchema,
  audiencePreviewResultSchema,
  audiencePreviewSchema,
  campaignInputSchema,
  campaignPageSchema,
  campaignRunPageSchema,
  campaignRunsQuerySchema,
  campaignRunSchema,
  campaignSchema,
  campaignTriggeredSchema,
  errorSchema,
  idSchema,
  listCampaignsQuerySchema,
  notificationSchema,
  pageQuerySchema,
  rescheduleNotificationSchema,
  topicInputSchema,
  topicSchema,
  topicSubscribeResultSchema,
  topicSubscribersInputSchema,
  topicSubscribersPageSchema,
  topicUnsubscribeResultSchema,
} from '../../contract/schemas';

type Route = (config: Omit<RouteConfig, 'security'>) => void;
type Json = (schema: z.ZodType, description: string) => { description: string; content: object };

/** Send-at moves, topics, audiences and campaigns in /openapi.json (kept beside, not inside, the core routes). */
export function registerCampaignRoutes(route: Route, json: Json, errors: Record<number, object>) {
  const body = (schema: z.ZodType) => ({ body: { content: { 'application/json': { schema } } } });
  const params = (...names: string[]) => z.object(Object.fromEntries(names.map((n) => [n, idSchema])));
  const conflict = (description: string) => ({ 409: json(errorSchema, description) });
  const unavailable = { 503: json(errorSchema, 'Temporal unavailable; retry') };

  route({
    method: 'patch',
    path: '/v1/notifications/{id}',
    summary: 'Move a scheduled notification to a new send time (earlier, later, or now)',
    request: { params: params('id'), ...body(rescheduleNotificationSchema) },
    responses: {
      200: json(notificationSchema, 'Moved'),
      ...conflict('Already sending, finished or canceled'),
      ...unavailable,
      ...errors,
    },
  });

  route({
    method: 'put',
    path: '/v1/topics/{key}',
    summary: 'Create or rename a topic',
    request: {
      params: params('key'),
      body: { required: false, content: { 'application/json': { schema: topicInputSchema } } },
    },
    responses: { 200: json(topicSchema, 'Updated'), 201: json(topicSchema, 'Created'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/topics/{key}',
    request: { params: params('key') },
    responses: { 200: json(topicSchema, 'The topic'), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/topics/{key}',
    summary: 'Delete a topic and its subscriptions',
    request: { params: params('key') },
    responses: { 204: { description: 'Deleted' }, ...errors },
  });
  const results = (schema: z.ZodType) => json(schema, 'One result per distinct user id, in the order given');
  route({
    method: 'put',
    path: '/v1/topics/{key}/subscribers',
    summary: 'Subscribe up to 1,000 users',
    request: { params: params('key'), ...body(topicSubscribersInputSchema) },
    responses: { 200: results(topicSubscribeResultSchema), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/topics/{key}/subscribers',
    summary: 'Unsubscribe up to 1,000 users',
    request: { params: params('key'), ...body(topicSubscribersInputSchema) },
    responses: { 200: results(topicUnsubscribeResultSchema), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/topics/{key}/subscribers',
    summary: 'Subscribers in user id order, a page at a time',
    request: { params: params('key'), query: pageQuerySchema },
    responses: {
      200: json(topicSubscribersPageSchema, 'A page; nextCursor is null on the last one'),
      ...errors,
    },
  });
  route({
    method: 'post',
    path: '/v1/audiences/preview',
    summary: 'The size of an audience and a page of its user ids',
    request: body(audiencePreviewSchema),
    responses: {
      200: json(audiencePreviewResultSchema, 'Size and a page'),
      ...errors,
    },
  });

  route({
    method: 'post',
    path: '/v1/campaigns',
    summary: 'Create a campaign on a Temporal Schedule: once ({at}) or on a cron in a time zone',
    description:
      'With an Idempotency-Key, the same key again answers the same campaign (201, header Idempotent-Replayed: true) ' +
      'and never creates a second campaign or schedule, even for concurrent requests; the key with a different body ' +
      'is refused (422 idempotency_key_reused).',
    request: {
      headers: z.object({ 'Idempotency-Key': idempotencyKeySchema.optional() }),
      ...body(campaignInputSchema),
    },
    responses: {
      201: json(campaignSchema, 'Created (or, for a replayed Idempotency-Key, the campaign it created)'),
      422: json(errorSchema, 'The Idempotency-Key already created a different campaign (idempotency_key_reused)'),
      503: json(errorSchema, 'Temporal unavailable; retry (with the same Idempotency-Key, if any)'),
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/campaigns',
    summary: 'List campaigns, newest first (deleted ones only when status asks for them), keyset-paginated',
    request: { query: listCampaignsQuerySchema },
    responses: { 200: json(campaignPageSchema, 'A page; pass nextCursor as cursor for the next'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/campaigns/{id}',
    request: { params: params('id') },
    responses: { 200: json(campaignSchema, 'The campaign and its next run times'), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/campaigns/{id}',
    summary: 'Delete the schedule (runs in progress go on; cancel them separately)',
    request: { params: params('id') },
    responses: { 204: { description: 'Deleted' }, ...unavailable, ...errors },
  });
  for (const [action, summary] of [
    ['pause', 'Pause the schedule'],
    ['resume', 'Resume the schedule'],
  ] as const) {
    route({
      method: 'post',
      path: `/v1/campaigns/{id}/${action}`,
      summary,
      request: { params: params('id') },
      responses: { 200: json(campaignSchema, 'The campaign'), ...conflict('Deleted'), ...unavailable, ...errors },
    });
  }
  route({
    method: 'post',
    path: '/v1/campaigns/{id}/trigger',
    summary: 'Run the campaign now (even while paused)',
    request: { params: params('id') },
    responses: {
      202: json(campaignTriggeredSchema, 'A run is starting'),
      ...conflict('Deleted'),
      ...unavailable,
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/campaigns/{id}/runs',
    summary: 'Runs, newest first',
    request: {
      params: params('id'),
      query: campaignRunsQuerySchema,
    },
    responses: {
      200: json(campaignRunPageSchema, 'A page of runs'),
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/campaigns/{id}/runs/{runId}',
    summary: 'Progress of a run: audience size, started, delivered, failed, suppressed, estimated time to finish',
    request: { params: params('id', 'runId') },
    responses: { 200: json(campaignRunSchema, 'The run'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/campaigns/{id}/runs/{runId}/cancel',
    summary: 'Cancel a run: recipients not yet started are not started',
    request: { params: params('id', 'runId') },
    responses: {
      200: json(campaignRunSchema, 'Canceling or canceled'),
      ...conflict('Already completed'),
      ...unavailable,
      ...errors,
    },
  });
}
