/**
 * The inbox's configuration (read by platform/config/index.ts, so a bad value stops start-up with a message naming the variable):
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
export interface InboxConfig {
  secrets?: string[];
  tokenTtlSeconds: number;
  userHmac: boolean;
  corsOrigins: string[];
  retentionDays: number;
  heartbeatSeconds: number;
}

export const MAX_TOKEN_TTL_SECONDS = 86_400;

export function loadInboxConfig(
  read: (name: string) => string | undefined,
  fail: (message: string) => Error,
): InboxConfig {
  const int = (name: string, fallback: number, min: number, max: number) => {
    const value = read(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw fail(`${name}: must be an integer from ${min} to ${max}`);
    return n;
  };
  const secretList = read('HERALD_INBOX_SECRET');
  const secrets = secretList?.split(',').map((key) => key.trim());
  if (secrets?.some((key) => key.length < 32)) {
    throw fail('HERALD_INBOX_SECRET: each key must be at least 32 characters');
  }
  const hmac = read('HERALD_INBOX_USER_HMAC')?.toLowerCase();
  if (hmac !== undefined && !['true', 'false', '1', '0'].includes(hmac)) {
    throw fail('HERALD_INBOX_USER_HMAC: must be true or false');
  }
  const corsOrigins = (read('HERALD_INBOX_CORS_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .map((origin) => {
      if (origin === '*') return origin;
      try {
        const url = new URL(origin);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
        return url.origin;
      } catch {
        throw fail(`HERALD_INBOX_CORS_ORIGINS: ${JSON.stringify(origin)} is not an http(s) origin`);
      }
    });
  return {
    ...(secrets ? { secrets } : {}),
    tokenTtlSeconds: int('HERALD_INBOX_TOKEN_TTL', 3600, 30, MAX_TOKEN_TTL_SECONDS),
    userHmac: hmac === 'true' || hmac === '1',
    corsOrigins,
    retentionDays: int('HERALD_INBOX_RETENTION_DAYS', 90, 0, 36_500),
    heartbeatSeconds: int('HERALD_INBOX_HEARTBEAT_SECONDS', 15, 1, 300),
  };
}

export const defaultInboxConfig = (): InboxConfig =>
  loadInboxConfig(
    () => undefined,
    (m) => new Error(m),
  );
