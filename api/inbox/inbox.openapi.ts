/** The in-app inbox in /openapi.json: token minting (API key) and the feed (user token). */
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorSchema, idSchema } from '../../contract/schemas';
import { INBOX_ACTIONS } from '../../contract/inbox';
import {
  inboxBulkSchema,
  inboxChangeSchema,
  inboxClickInputSchema,
  inboxCountsSchema,
  inboxItemSchema,
  inboxListQuerySchema,
  inboxPageSchema,
  inboxTokenInputSchema,
  inboxTokenSchema,
} from './inbox.schemas';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

export function registerInboxPaths(
  registry: OpenAPIRegistry,
  apiKeyRoute: (config: Omit<RouteConfig, 'security'>) => void,
  apiKeyErrors: RouteConfig['responses'],
) {
  const token = registry.registerComponent('securitySchemes', 'inboxToken', {
    type: 'http',
    scheme: 'bearer',
    description: "A user's inbox token from POST /v1/inbox/tokens (or `?token=` on the stream)",
  });
  const route = (config: Omit<RouteConfig, 'security'>) =>
    registry.registerPath({
      ...config,
      responses: { ...(config.request?.body ? bodyErrors : {}), ...config.responses },
      security: [{ [token.name]: [] }],
    } as RouteConfig);
  const errors = {
    400: json(errorSchema, 'Invalid input (validation_error names the field in details[].field)'),
    401: json(
      errorSchema,
      'No valid user token: inbox_token_missing, inbox_token_invalid (forged, malformed, unknown key), inbox_token_expired',
    ),
    403: json(errorSchema, 'The request names another user than the token (inbox_user_mismatch)'),
  };
  const bodyErrors = {
    413: json(errorSchema, 'Request body too large (payload_too_large)'),
    415: json(errorSchema, 'Request body encoding not supported (unsupported_encoding)'),
  };
  const notFound = { 404: json(errorSchema, 'No such item in this user\u2019s feed (inbox_item_not_found)') };
  const id = z.object({ id: idSchema });
  const body = (schema: z.ZodType) => ({ body: { content: { 'application/json': { schema } }, required: true } });

  apiKeyRoute({
    method: 'post',
    path: '/v1/inbox/tokens',
    summary: "Mint a short-lived token for one user's inbox (for that user's app)",
    request: body(inboxTokenInputSchema),
    responses: { 201: json(inboxTokenSchema, 'The token and when it expires'), ...apiKeyErrors },
  });
  route({
    method: 'get',
    path: '/v1/inbox/items',
    summary: "The user's feed, newest first, with the counts from the same snapshot",
    request: { query: inboxListQuerySchema },
    responses: { 200: json(inboxPageSchema, 'A page'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/inbox/counts',
    summary: 'Unread, unseen and total (archived items are not counted)',
    responses: {
      200: json(z.object({ counts: inboxCountsSchema, lastEventId: z.string() }), 'The counts'),
      ...errors,
    },
  });
  route({
    method: 'get',
    path: '/v1/inbox/stream',
    summary:
      'Server-Sent Events: ready, item.created, items.updated, reset; each with id: (resume with Last-Event-ID) and the counts',
    request: {
      query: z.object({
        token: z.string().max(2000).optional(),
        lastEventId: z
          .string()
          .regex(/^\d{1,15}$/)
          .optional(),
      }),
      headers: z.object({
        'last-event-id': z
          .string()
          .regex(/^\d{1,15}$/)
          .optional(),
      }),
    },
    responses: {
      200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
      ...errors,
    },
  });
  for (const action of INBOX_ACTIONS) {
    route({
      method: 'post',
      path: `/v1/inbox/items/${action}`,
      summary: `Bulk ${action}: the items named by ids, or all items matching the filter`,
      request: body(inboxBulkSchema),
      responses: { 200: json(inboxChangeSchema, 'What changed and the counts after'), ...errors },
    });
  }
  const itemChange = inboxChangeSchema.extend({ item: z.union([inboxItemSchema, z.null()]) });
  for (const action of ['read', 'unread', 'seen', 'archive', 'unarchive'] as const) {
    route({
      method: 'post',
      path: `/v1/inbox/items/{id}/${action}`,
      request: { params: id },
      responses: { 200: json(itemChange, 'The item and the counts after'), ...errors, ...notFound },
    });
  }
  route({
    method: 'delete',
    path: '/v1/inbox/items/{id}',
    request: { params: id },
    responses: { 200: json(itemChange, 'Deleted; the counts after'), ...errors, ...notFound },
  });
  route({
    method: 'post',
    path: '/v1/inbox/items/{id}/click',
    summary: 'The item (or one of its actions) was clicked: recorded as a click, the item read; answers its URL',
    request: { params: id, body: { content: { 'application/json': { schema: inboxClickInputSchema } } } },
    responses: {
      200: json(inboxChangeSchema.extend({ url: z.string() }), 'Where it leads'),
      422: json(errorSchema, 'The item has no URL, or no such action (inbox_action_not_found)'),
      ...errors,
      ...notFound,
    },
  });
}
