/**
 * The inbox's configuration (part of platform/config, so a bad value stops start-up with a message naming the variable):
 *
 * - HERALD_INBOX_SECRET(_FILE): signing keys of user tokens, comma-separated, at least 32 characters each; the first
 *   signs, every one verifies (rotation: put the new key first, remove the old one once its tokens have expired).
 *   Unset: Herald generates one and keeps it in its database (every process uses the same).
 * - HERALD_INBOX_TOKEN_TTL: how long a minted token lives, in seconds (default 3600; at most 86400). A request may ask
 *   for less.
 * - HERALD_INBOX_USER_HMAC: also accept `X-Herald-User-Id` + `X-Herald-User-Hmac` (default false).
 * - HERALD_INBOX_CORS_ORIGINS: browser origins allowed to call the feed routes (comma-separated; `*` for any).
 * - HERALD_INBOX_RETENTION_DAYS: items older than this are purged (default 90; 0 keeps them forever).
 * - HERALD_INBOX_HEARTBEAT_SECONDS: a comment line on idle streams, and a re-read of the feed (default 15).
 */
import { flag, int, keyList, origins, type Env } from './env';
export interface InboxConfig {
  secrets?: string[];
  tokenTtlSeconds: number;
  userHmac: boolean;
  corsOrigins: string[];
  retentionDays: number;
  heartbeatSeconds: number;
}

export const MAX_TOKEN_TTL_SECONDS = 86_400;

export function loadInboxConfig(env: Env): InboxConfig {
  const secrets = keyList(env, 'HERALD_INBOX_SECRET');
  return {
    ...(secrets ? { secrets } : {}),
    tokenTtlSeconds: int(env, 'HERALD_INBOX_TOKEN_TTL', 3600, 30, MAX_TOKEN_TTL_SECONDS),
    userHmac: flag(env, 'HERALD_INBOX_USER_HMAC', false),
    corsOrigins: origins(env, 'HERALD_INBOX_CORS_ORIGINS', { allowAny: true }),
    retentionDays: int(env, 'HERALD_INBOX_RETENTION_DAYS', 90, 0, 36_500),
    heartbeatSeconds: int(env, 'HERALD_INBOX_HEARTBEAT_SECONDS', 15, 1, 300),
  };
}

export const defaultInboxConfig = (): InboxConfig => loadInboxConfig({});
