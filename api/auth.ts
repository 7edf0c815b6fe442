/**
 * API keys on /v1: who is calling (Bearer key → principal), whether they may call this route (its declared scope),
 * and how often (the key's per-minute limit). HERALD_API_KEY is the bootstrap admin key; every other key is a row
 * made through /v1/api-keys, looked up by the SHA-256 of the secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Db } from '../platform/db';
import type { ApiKeyScope } from '../contract/schemas';
import { HttpError } from './errors';
import { hashApiKey } from './services/api-keys.service';

export interface Principal {
  /** The key's id, or `bootstrap` for HERALD_API_KEY. */
  keyId: string;
  scopes: ApiKeyScope[];
  rateLimitPerMinute: number | null;
}

/**
 * Every /v1 route and the scope it needs. The lookup runs before routing, so a route that is missing here is
 * admin-only (safe by default), and test/ops/api-keys.e2e.test.ts fails until it is declared.
 */
export const ROUTE_SCOPES: readonly { method: string; path: string; scope: ApiKeyScope }[] = [
  { method: 'POST', path: '/users/bulk', scope: 'users:write' },
  { method: 'PUT', path: '/users/:userId', scope: 'users:write' },
  { method: 'GET', path: '/users/:userId', scope: 'users:read' },
  { method: 'DELETE', path: '/users/:userId', scope: 'users:write' },
  { method: 'POST', path: '/users/:userId/devices', scope: 'users:write' },
  { method: 'GET', path: '/users/:userId/devices', scope: 'users:read' },
  { method: 'DELETE', path: '/users/:userId/devices/:deviceId', scope: 'users:write' },
  { method: 'GET', path: '/users/:userId/preferences', scope: 'users:read' },
  { method: 'PUT', path: '/users/:userId/preferences', scope: 'users:write' },
  { method: 'PUT', path: '/templates/:templateId', scope: 'templates:write' },
  { method: 'GET', path: '/templates/:templateId', scope: 'templates:read' },
  { method: 'GET', path: '/templates/:templateId/versions', scope: 'templates:read' },
  { method: 'GET', path: '/templates/:templateId/versions/:version', scope: 'templates:read' },
  { method: 'POST', path: '/templates/:templateId/preview', scope: 'templates:read' },
  // Categories are notification configuration, like templates.
  { method: 'PUT', path: '/categories/:name', scope: 'templates:write' },
  { method: 'DELETE', path: '/categories/:name', scope: 'templates:write' },
  { method: 'GET', path: '/categories', scope: 'templates:read' },
  { method: 'GET', path: '/categories/:name', scope: 'templates:read' },
  { method: 'POST', path: '/notifications', scope: 'notifications:send' },
  { method: 'GET', path: '/notifications', scope: 'notifications:read' },
  // The failed queue: re-driving failed targets sends again; a reported open is like POST /events.
  { method: 'POST', path: '/notifications/retry', scope: 'notifications:send' },
  { method: 'POST', path: '/notifications/:id/retry', scope: 'notifications:send' },
  { method: 'POST', path: '/notifications/:id/opened', scope: 'notifications:send' },
  { method: 'GET', path: '/notifications/:id', scope: 'notifications:read' },
  { method: 'DELETE', path: '/notifications/:id', scope: 'notifications:send' },
  { method: 'PATCH', path: '/notifications/:id', scope: 'notifications:send' },
  // Topics are lists of users; campaigns send notifications to audiences.
  { method: 'PUT', path: '/topics/:key', scope: 'users:write' },
  { method: 'GET', path: '/topics/:key', scope: 'users:read' },
  { method: 'DELETE', path: '/topics/:key', scope: 'users:write' },
  { method: 'PUT', path: '/topics/:key/subscribers', scope: 'users:write' },
  { method: 'DELETE', path: '/topics/:key/subscribers', scope: 'users:write' },
  { method: 'GET', path: '/topics/:key/subscribers', scope: 'users:read' },
  { method: 'POST', path: '/audiences/preview', scope: 'users:read' },
  { method: 'POST', path: '/campaigns', scope: 'notifications:send' },
  { method: 'GET', path: '/campaigns', scope: 'notifications:read' },
  { method: 'GET', path: '/campaigns/:id', scope: 'notifications:read' },
  { method: 'DELETE', path: '/campaigns/:id', scope: 'notifications:send' },
  { method: 'POST', path: '/campaigns/:id/pause', scope: 'notifications:send' },
  { method: 'POST', path: '/campaigns/:id/resume', scope: 'notifications:send' },
  { method: 'POST', path: '/campaigns/:id/trigger', scope: 'notifications:send' },
  { method: 'GET', path: '/campaigns/:id/runs', scope: 'notifications:read' },
  { method: 'GET', path: '/campaigns/:id/runs/:runId', scope: 'notifications:read' },
  { method: 'POST', path: '/campaigns/:id/runs/:runId/cancel', scope: 'notifications:send' },
  { method: 'GET', path: '/outbox', scope: 'notifications:read' },
  // Conversions come from the same backend that sends; statistics are read like notifications.
  { method: 'POST', path: '/events', scope: 'notifications:send' },
  { method: 'GET', path: '/stats', scope: 'notifications:read' },
  { method: 'GET', path: '/stats/series', scope: 'notifications:read' },
  { method: 'POST', path: '/api-keys', scope: 'admin' },
  { method: 'GET', path: '/api-keys', scope: 'admin' },
  { method: 'GET', path: '/api-keys/:id', scope: 'admin' },
  { method: 'DELETE', path: '/api-keys/:id', scope: 'admin' },
  { method: 'GET', path: '/ops/queues', scope: 'admin' },
  { method: 'GET', path: '/ops/providers', scope: 'admin' },
  // The in-app inbox: a server mints a user's token with an API key. The feed routes below take that user token, not
  // an API key (api/inbox/inbox.routes.ts answers them before this gate); they are listed so the table covers /v1.
  { method: 'POST', path: '/inbox/tokens', scope: 'users:write' },
  { method: 'GET', path: '/inbox/items', scope: 'users:read' },
  { method: 'GET', path: '/inbox/counts', scope: 'users:read' },
  { method: 'GET', path: '/inbox/stream', scope: 'users:read' },
  ...['read', 'unread', 'seen', 'archive', 'unarchive', 'delete'].map((action) => ({
    method: 'POST',
    path: `/inbox/items/${action}`,
    scope: 'users:write' as const,
  })),
  { method: 'POST', path: '/inbox/items/:id/read', scope: 'users:write' },
  { method: 'POST', path: '/inbox/items/:id/unread', scope: 'users:write' },
  { method: 'POST', path: '/inbox/items/:id/seen', scope: 'users:write' },
  { method: 'POST', path: '/inbox/items/:id/archive', scope: 'users:write' },
  { method: 'POST', path: '/inbox/items/:id/unarchive', scope: 'users:write' },
  { method: 'POST', path: '/inbox/items/:id/click', scope: 'users:write' },
  { method: 'DELETE', path: '/inbox/items/:id', scope: 'users:write' },
];

const compiled = ROUTE_SCOPES.map((route) => ({
  ...route,
  regex: new RegExp(`^${route.path.replace(/:[A-Za-z]+/g, '[^/]+')}/?$`),
}));

/** The declared route for a /v1 request (path relative to /v1). */
export function routeScope(method: string, path: string) {
  const wanted = method === 'HEAD' ? 'GET' : method;
  return compiled.find((route) => route.method === wanted && route.regex.test(path));
}

export const hasScope = (principal: Principal, scope: ApiKeyScope) =>
  principal.scopes.includes('admin') || principal.scopes.includes(scope);

export function bearerToken(req: Request): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

const digest = (value: string) => createHash('sha256').update(value).digest();
const CACHE_MS = 5_000;

/**
 * Resolves secrets to principals. Rows are cached for a few seconds (a revocation reaches other API replicas within
 * that time; this replica forgets the key at once).
 */
export function createAuthenticator(db: Db, bootstrapKey: string) {
  const bootstrap = digest(bootstrapKey);
  const bootstrapRef = `bootstrap:${bootstrap.toString('hex').slice(0, 16)}`;
  const cache = new Map<string, { principal: Principal | undefined; at: number }>();
  const lastUsed = new Map<string, number>();

  async function load(where: { hash: string } | { id: string }): Promise<Principal | undefined> {
    const row = await db.apiKey.findUnique({ where });
    if (!row || row.revokedAt) return undefined;
    const now = Date.now();
    // At most one write a minute per key, off the request's path.
    if ((lastUsed.get(row.id) ?? 0) < now - 60_000) {
      lastUsed.set(row.id, now);
      db.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } }).catch(() => undefined);
    }
    return { keyId: row.id, scopes: row.scopes as ApiKeyScope[], rateLimitPerMinute: row.rateLimitPerMinute };
  }

  async function cached(cacheKey: string, fetch: () => Promise<Principal | undefined>) {
    const hit = cache.get(cacheKey);
    if (hit && hit.at > Date.now() - CACHE_MS) return hit.principal;
    const principal = await fetch();
    cache.set(cacheKey, { principal, at: Date.now() });
    if (cache.size > 10_000) cache.delete(cache.keys().next().value!);
    return principal;
  }

  return {
    async authenticate(secret: string): Promise<Principal | undefined> {
      // Constant-time for the bootstrap key (hashing first makes the lengths equal); rows are found by hash.
      if (timingSafeEqual(digest(secret), bootstrap)) {
        return { keyId: 'bootstrap', scopes: ['admin'], rateLimitPerMinute: null };
      }
      const hash = hashApiKey(secret);
      return cached(`hash:${hash}`, () => load({ hash }));
    },
    /** A stable reference to a principal (for the codec's browser session), and its reverse. */
    refOf(principal: Principal): string {
      return principal.keyId === 'bootstrap' ? bootstrapRef : principal.keyId;
    },
    async byRef(ref: string): Promise<Principal | undefined> {
      if (ref === bootstrapRef) return { keyId: 'bootstrap', scopes: ['admin'], rateLimitPerMinute: null };
      if (ref.startsWith('bootstrap:')) return undefined;
      return cached(`id:${ref}`, () => load({ id: ref }));
    },
    /** Drops a revoked key from this replica's cache at once. */
    forget(keyId: string): void {
      for (const [key, value] of cache)
        if (value.principal?.keyId === keyId || key === `id:${keyId}`) cache.delete(key);
    },
  };
}
export type Authenticator = ReturnType<typeof createAuthenticator>;

/** Token bucket per key: up to a minute's worth in a burst, refilled continuously. Per API replica. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Undefined when allowed; otherwise the seconds to wait. */
  take(keyId: string, perMinute: number, now = Date.now()): number | undefined {
    const perMs = perMinute / 60_000;
    const bucket = this.buckets.get(keyId) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(keyId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
  }
}

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
    /** Route pattern for metrics labels. */
    route?: string;
  }
}

/** /v1's gate: 401 without a valid key, 429 over the key's rate limit, 403 without the route's scope. */
export function requireApiKey(authenticator: Authenticator, limiter = new RateLimiter()): RequestHandler {
  return async (req, res, next) => {
    const route = routeScope(req.method, req.path);
    if (route) res.locals.route = `${req.baseUrl}${route.path}`;
    const secret = bearerToken(req);
    if (!secret) return next(new HttpError(401, 'unauthorized', 'missing Authorization: Bearer <api key>'));
    let principal: Principal | undefined;
    try {
      principal = await authenticator.authenticate(secret);
    } catch (error) {
      return next(error);
    }
    if (!principal) return next(new HttpError(401, 'unauthorized', 'invalid or revoked API key'));
    res.locals.principal = principal;
    if (principal.rateLimitPerMinute) {
      const wait = limiter.take(principal.keyId, principal.rateLimitPerMinute);
      if (wait !== undefined) {
        res.set('Retry-After', String(wait));
        return next(
          new HttpError(
            429,
            'rate_limited',
            `this API key is limited to ${principal.rateLimitPerMinute} requests a minute`,
            {
              retryAfterSeconds: wait,
            },
          ),
        );
      }
    }
    const scope = route?.scope ?? 'admin';
    if (!hasScope(principal, scope)) {
      return next(
        new HttpError(403, 'insufficient_scope', `this API key lacks the "${scope}" scope`, { required: scope }),
      );
    }
    next();
  };
}
