/**
 * The operator dashboard, served by the API process: a static page and its bundle (built into dist/dashboard by
 * `npm run setup`, scripts/build-dashboard.js), under a Content-Security-Policy that allows nothing but this origin's
 * own scripts, styles and calls. The page holds no data of its own: it signs in with an API key and reads everything
 * through /v1, so every view is exactly as wide as the key's scopes. /dashboard/session tells it which scopes those are.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { bearerToken, type Authenticator } from '../auth';
import { HttpError } from '../errors';

export interface DashboardOptions {
  /** The Temporal Web UI's base URL, for links to a notification's workflow (none when unknown). */
  temporalUiUrl?: string;
  namespace: string;
}

export const DASHBOARD_DIR = path.resolve(__dirname, '..', '..', 'dist', 'dashboard');
const ASSETS: Record<string, string> = { 'app.js': 'text/javascript', 'app.css': 'text/css' };

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function dashboardRoutes(authenticator: Authenticator, options: DashboardOptions): Router {
  const router = Router();
  router.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': DASHBOARD_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-store',
    });
    next();
  });
  router.get('/', (_req, res) => {
    const html = path.join(DASHBOARD_DIR, 'index.html');
    if (!fs.existsSync(html)) {
      throw new HttpError(503, 'dashboard_not_built', 'the dashboard is not built: run `npm run setup`');
    }
    res.type('html').sendFile(html);
  });
  router.get('/assets/:file', (req, res) => {
    const type = ASSETS[req.params.file];
    const file = path.join(DASHBOARD_DIR, req.params.file);
    if (!type || !fs.existsSync(file))
      throw new HttpError(404, 'route_not_found', `no dashboard asset ${req.params.file}`);
    res.type(type).sendFile(file);
  });
  // Who the key is: the page shows only the views and actions its scopes allow (the API enforces them anyway).
  router.get('/session', async (req, res) => {
    const secret = bearerToken(req);
    const principal = secret ? await authenticator.authenticate(secret) : undefined;
    if (!principal) throw new HttpError(401, 'unauthorized', 'invalid or revoked API key');
    res.json({
      keyId: principal.keyId,
      scopes: principal.scopes,
      temporalUiUrl: options.temporalUiUrl ?? null,
      namespace: options.namespace,
    });
  });
  return router;
}
