import { z } from 'zod';

/** What an API key may do. `admin` may do everything, including managing keys and reading operations data. */
export const API_KEY_SCOPES = [
  'notifications:send',
  'notifications:read',
  'users:write',
  'users:read',
  'templates:write',
  'templates:read',
  'admin',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const apiKeyInputSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
    /** Requests per minute this key may make (per API replica); absent → unlimited. */
    rateLimitPerMinute: z.number().int().min(1).max(1_000_000).nullish(),
  })
  .strict()
  .meta({ id: 'ApiKeyInput' });
export type ApiKeyInput = z.infer<typeof apiKeyInputSchema>;

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** The secret's first characters, to recognise it. */
    prefix: z.string(),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    rateLimitPerMinute: z.number().int().nullable(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyView = z.infer<typeof apiKeySchema>;

export const apiKeyCreatedSchema = apiKeySchema
  .extend({ key: z.string().describe('The secret: shown only in this response, store it now') })
  .meta({ id: 'ApiKeyCreated' });
