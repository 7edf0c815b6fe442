/** The inbox routes' requests and answers: they validate requests and feed /openapi.json (api/inbox/inbox.openapi.ts). */
import { z } from 'zod';
import { idSchema } from '../../contract/schemas';
import { MAX_TOKEN_TTL_SECONDS } from '../../platform/config/inbox';
import { INBOX_ACTIONS, INBOX_ARCHIVED, INBOX_STATUSES } from '../../contract/inbox';

export const inboxTokenInputSchema = z
  .object({
    userId: idSchema,
    /** Shorter than the configured lifetime if asked (never longer). */
    expiresIn: z.number().int().min(30).max(MAX_TOKEN_TTL_SECONDS).optional(),
  })
  .strict()
  .meta({ id: 'InboxTokenInput' });

export const inboxTokenSchema = z
  .object({ token: z.string(), expiresAt: z.string(), userId: z.string(), keyId: z.string() })
  .meta({ id: 'InboxToken' });

export const inboxCountsSchema = z
  .object({ unread: z.number().int(), unseen: z.number().int(), total: z.number().int() })
  .meta({ id: 'InboxCounts' });

export const inboxItemSchema = z
  .object({
    id: z.string(),
    notificationId: z.string(),
    category: z.string().nullable(),
    templateId: z.string().nullable(),
    title: z.string(),
    body: z.string(),
    url: z.string().nullable(),
    actions: z.array(z.object({ label: z.string(), url: z.string() })),
    data: z.record(z.string(), z.string()),
    readAt: z.string().nullable(),
    seenAt: z.string().nullable(),
    archivedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'InboxItem' });

const filterShape = {
  status: z.enum(INBOX_STATUSES).optional(),
  archived: z.enum(INBOX_ARCHIVED).optional(),
  category: idSchema.optional(),
};

export const inboxListQuerySchema = z
  .object({
    ...filterShape,
    cursor: z
      .string()
      .max(300)
      .meta({ format: 'cursor', description: 'The nextCursor of a previous page; anything else is 400 invalid_cursor' })
      .optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
  })
  .strict();

export const inboxPageSchema = z
  .object({
    items: z.array(inboxItemSchema),
    pageInfo: z.object({ nextCursor: z.string().nullable(), hasMore: z.boolean() }),
    counts: inboxCountsSchema,
    /** The feed's last event number when the page was read: open the stream with it as Last-Event-ID. */
    lastEventId: z.string(),
  })
  .meta({ id: 'InboxPage' });

export const inboxBulkSchema = z
  .union([
    z.object({ ids: z.array(idSchema).min(1).max(1000) }).strict(),
    z.object({ all: z.literal(true), ...filterShape }).strict(),
  ])
  .meta({ id: 'InboxBulkInput' });

export const inboxActionSchema = z.enum(INBOX_ACTIONS);

export const inboxChangeSchema = z
  .object({ changed: z.number().int(), ids: z.array(z.string()), counts: inboxCountsSchema, lastEventId: z.string() })
  .meta({ id: 'InboxChange' });

export const inboxClickInputSchema = z
  .object({ action: z.number().int().min(0).max(4).optional() })
  .strict()
  .meta({ id: 'InboxClickInput' });

export const inboxStreamQuerySchema = z
  .object({
    token: z.string().max(2000).optional(),
    lastEventId: z
      .string()
      .regex(/^\d{1,15}$/)
      .optional(),
  })
  .strict();
