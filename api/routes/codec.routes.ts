/**
 * Temporal's remote codec protocol, so operators can read encrypted payloads in the Web UI and the CLI:
 *   POST /codec/decode, POST /codec/encode   {"payloads": [{"metadata": {"k": "<base64>"}, "data": "<base64>"}]}
 *
 * Authenticated with an API key that has `notifications:read` (decoded payloads are notification data):
 * - `Authorization: Bearer <key>` — the CLI (`temporal workflow show --codec-endpoint ... --codec-auth "Bearer <key>"`)
 *   and scripts;
 * - a browser session cookie — the Web UI cannot send a Herald key (it only forwards its own OIDC token), so an
 *   operator signs in once at /codec/login and turns on "Include cross-origin credentials" in the UI's codec settings
 *   (TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true in temporal-docker does it for everyone).
 * CORS allows the configured UI origins only, with credentials; requests must be JSON, so a browser always preflights.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import { CodecError, type AesGcmPayloadCodec } from '../../contract/codec';
import { bearerToken, hasScope, type Authenticator, type Principal } from '../auth';
import { HttpError } from '../errors';
import { refuseNul } from '../validate';

const COOKIE = 'herald_codec_session';
const SESSION_SECONDS = 8 * 3600;
const REQUIRED_SCOPE = 'notifications:read' as const;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
/** Temporal's codec protocol: what /codec/encode and /codec/decode take and answer (also in /openapi.json). */
export const codecPayloadsSchema = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string(), base64).nullish(),
        data: base64.nullish(),
      }),
    )
    .max(10_000),
});

type JsonPayload = { metadata?: Record<string, string>; data?: string };
const fromJson = (p: z.infer<typeof codecPayloadsSchema>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export interface CodecRouteDeps {
  codec: AesGcmPayloadCodec;
  authenticator: Authenticator;
  /** Browser origins allowed to call (the Temporal Web UI's). */
  allowedOrigins: string[];
  /** Signs browser sessions (derived from the encryption keys, so every API replica shares it). */
  sessionSecret: Buffer;
  /** https public URL → Secure; SameSite=None cookies. */
  secureCookies: boolean;
}

function cookies(req: Request): Record<string, string> {
  return Object.fromEntries(
    (req.headers.cookie ?? '')
      .split(';')
      .map((part) => part.trim().split('='))
      .filter((kv): kv is [string, string] => kv.length === 2 && Boolean(kv[0]))
      .map(([k, v]) => [k, decodeURIComponent(v)]),
  );
}

export function codecRoutes(deps: CodecRouteDeps): Router {
  const router = Router();
  const allowed = new Set(deps.allowedOrigins);
  const sign = (value: string) => createHmac('sha256', deps.sessionSecret).update(value).digest('base64url');

  function issueSession(res: Response, principal: Principal) {
    const body = Buffer.from(
      JSON.stringify({ k: deps.authenticator.refOf(principal), e: Math.floor(Date.now() / 1000) + SESSION_SECONDS }),
    ).toString('base64url');
    const attributes = deps.secureCookies ? 'SameSite=None; Secure' : 'SameSite=Lax';
    res.append(
      'Set-Cookie',
      `${COOKIE}=${body}.${sign(body)}; Path=/codec; HttpOnly; Max-Age=${SESSION_SECONDS}; ${attributes}`,
    );
  }

  async function sessionPrincipal(req: Request): Promise<Principal | undefined> {
    const value = cookies(req)[COOKIE];
    const [body, signature] = value?.split('.') ?? [];
    if (!body || !signature) return undefined;
    const expected = Buffer.from(sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const session = JSON.parse(Buffer.from(body, 'base64url').toString()) as { k: string; e: number };
    if (session.e < Date.now() / 1000) return undefined;
    return deps.authenticator.byRef(session.k);
  }

  // CORS: the configured origins only, credentials allowed (the session cookie); preflights answered here.
  router.use((req, res, next) => {
    const origin = req.headers.origin;
    if (origin && allowed.has(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        Vary: 'Origin',
      });
    }
    if (req.method !== 'OPTIONS') return next();
    if (!origin || !allowed.has(origin)) {
      return next(
        new HttpError(403, 'origin_not_allowed', 'this origin may not call the codec (HERALD_CODEC_CORS_ORIGINS)'),
      );
    }
    res.set({
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Namespace',
      'Access-Control-Max-Age': '600',
    });
    res.status(204).end();
  });

  const authenticate = async (req: Request): Promise<Principal> => {
    const secret = bearerToken(req);
    let principal: Principal | undefined;
    if (secret) principal = await deps.authenticator.authenticate(secret);
    else {
      // A cookie rides along on any cross-site request: only the allowed origins (or none, same-origin) may use it.
      const origin = req.headers.origin;
      if (origin && !allowed.has(origin)) throw new HttpError(403, 'origin_not_allowed', 'origin not allowed');
      principal = await sessionPrincipal(req);
    }
    if (!principal) {
      throw new HttpError(
        401,
        'unauthorized',
        'missing or invalid API key (Bearer header, or sign in at /codec/login)',
      );
    }
    if (!hasScope(principal, REQUIRED_SCOPE)) {
      throw new HttpError(403, 'insufficient_scope', `this API key lacks the "${REQUIRED_SCOPE}" scope`, {
        required: REQUIRED_SCOPE,
      });
    }
    return principal;
  };

  const json = express.json({ limit: '8mb', strict: true, type: () => true });
  for (const direction of ['encode', 'decode'] as const) {
    router.post(`/${direction}`, async (req, res, next) => {
      if (!req.is('application/json')) {
        throw new HttpError(415, 'unsupported_media_type', 'send the payloads as application/json');
      }
      await authenticate(req);
      await new Promise<void>((resolve, reject) =>
        json(req, res, (error?: unknown) => (error ? reject(error) : resolve())),
      );
      await new Promise<void>((resolve, reject) =>
        refuseNul()(req, res, (error?: unknown) => (error ? reject(error) : resolve())),
      );
      const parsed = codecPayloadsSchema.safeParse(req.body);
      if (!parsed.success) {
        return next(new HttpError(400, 'validation_error', parsed.error.issues[0]?.message ?? 'invalid payloads'));
      }
      const payloads = parsed.data.payloads.map(fromJson);
      try {
        const result = direction === 'encode' ? await deps.codec.encode(payloads) : await deps.codec.decode(payloads);
        res.json({ payloads: result.map(toJson) });
      } catch (error) {
        if (error instanceof CodecError) throw new HttpError(422, 'codec_error', error.message);
        throw error;
      }
    });
  }

  // Browser sign-in for the Web UI: a form (or a Bearer header) → an HttpOnly session cookie for /codec.
  router.get('/login', (_req, res) => {
    res.type('html').send(loginPage());
  });
  router.post(
    '/login',
    express.urlencoded({ extended: false, limit: '4kb' }),
    express.json({ limit: '4kb' }),
    async (req, res) => {
      const key = bearerToken(req) ?? (typeof req.body?.key === 'string' ? req.body.key.trim() : '');
      const principal = key ? await deps.authenticator.authenticate(key) : undefined;
      const wantsHtml = req.is('application/x-www-form-urlencoded');
      if (!principal || !hasScope(principal, REQUIRED_SCOPE)) {
        const error = !principal
          ? new HttpError(401, 'unauthorized', 'invalid or revoked API key')
          : new HttpError(403, 'insufficient_scope', `this API key lacks the "${REQUIRED_SCOPE}" scope`);
        if (wantsHtml) return void res.status(error.status).type('html').send(loginPage(error.message));
        throw error;
      }
      issueSession(res, principal);
      if (wantsHtml) return void res.type('html').send(signedInPage());
      res.json({ signedIn: true, expiresInSeconds: SESSION_SECONDS });
    },
  );
  router.post('/logout', (_req, res) => {
    res.append('Set-Cookie', `${COOKIE}=; Path=/codec; HttpOnly; Max-Age=0`);
    res.status(204).end();
  });
  return router;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Herald codec</title>
<style>body{font:16px system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;margin:.5rem 0}button{padding:.5rem 1rem}.error{color:#b00}</style>
</head><body>${body}</body></html>`;
}

function loginPage(error?: string): string {
  return page(`<h1>Herald payload codec</h1>
<p>Sign this browser in with an API key that has the <code>notifications:read</code> scope, so the Temporal Web UI can
decode Herald's encrypted payloads through this server. The key is not stored in the browser; a session cookie is.</p>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="login"><label>API key <input type="password" name="key" autocomplete="off" required></label>
<button type="submit">Sign in</button></form>`);
}

function signedInPage(): string {
  return page(`<h1>Signed in</h1>
<p>Go back to the Temporal Web UI. If payloads still show as encrypted, open its codec settings (the "Data Encoder" /
Codec Server dialog) and turn on <em>Include cross-origin credentials</em>. The session lasts 8 hours.</p>`);
}
