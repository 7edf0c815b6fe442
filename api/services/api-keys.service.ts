import { createHash } from 'node:crypto';
import type { Db } from '../../platform/db';
import { newApiKeyId, newApiKeySecret } from '../../contract/ids';
import type { ApiKeyInput, ApiKeyScope, ApiKeyView } from '../../contract/schemas';
import { notFound } from '../errors';

export const hashApiKey = (secret: string) => createHash('sha256').update(secret).digest('hex');

type ApiKeyRow = Awaited<ReturnType<Db['apiKey']['findUniqueOrThrow']>>;

export function toApiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as ApiKeyScope[],
    rateLimitPerMinute: row.rateLimitPerMinute,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export function createApiKeyService(db: Db) {
  return {
    /** Creates a key; the secret is in this answer only (the database keeps its SHA-256). */
    async create(input: ApiKeyInput): Promise<ApiKeyView & { key: string }> {
      const key = newApiKeySecret();
      const row = await db.apiKey.create({
        data: {
          id: newApiKeyId(),
          name: input.name,
          prefix: key.slice(0, 10),
          hash: hashApiKey(key),
          scopes: [...new Set(input.scopes)],
          rateLimitPerMinute: input.rateLimitPerMinute ?? null,
        },
      });
      return { ...toApiKeyView(row), key };
    },

    async list(): Promise<ApiKeyView[]> {
      const rows = await db.apiKey.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] });
      return rows.map(toApiKeyView);
    },

    async get(id: string): Promise<ApiKeyView> {
      const row = await db.apiKey.findUnique({ where: { id } });
      // A revoked key is gone, as DELETE says (the list still shows it, as revoked, for the audit trail).
      if (!row || row.revokedAt) throw notFound('api_key', id);
      return toApiKeyView(row);
    },

    /** Revokes a key for good (revoking again keeps the first revocation time). */
    async revoke(id: string): Promise<ApiKeyView> {
      const row = await db.apiKey.findUnique({ where: { id } });
      if (!row) throw notFound('api_key', id);
      if (row.revokedAt) return toApiKeyView(row);
      return toApiKeyView(await db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } }));
    },
  };
}
export type ApiKeyService = ReturnType<typeof createApiKeyService>;
