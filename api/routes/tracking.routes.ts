/**
 * Public tracking endpoints (no API key: they are opened from people's mail clients and phones). Anything that does
 * not verify gets a 4xx and a short page — never a redirect.
 */
import { Router, type Response } from 'express';
import { HttpError } from '../errors';
import type { TrackingService } from '../services/tracking.service';
import { errorSchema } from '../../contract/schemas';
import type { OpenApiKit } from '../openapi-kit';
import { z } from 'zod';

/** The smallest transparent GIF (1×1). */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
export const TRACKING_TOKEN = /^[A-Za-z0-9._-]{1,200}$/;
const TOKEN = TRACKING_TOKEN;

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function page(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    .set('Content-Type', 'text/html; charset=utf-8')
    .set('Cache-Control', 'no-store')
    .set('Referrer-Policy', 'no-referrer')
    .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .send(
      `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head>` +
        `<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">` +
        `<h1 style="font-size:1.4rem">${escapeHtml(title)}</h1>${body}</body></html>`,
    );
}

function refused(res: Response, error: unknown): void {
  if (!(error instanceof HttpError) || error.status >= 500) throw error;
  page(res, error.status, error.status === 410 ? 'This link has expired' : 'This link is not valid', '');
}

const scopeText = (category: string | null) =>
  category ? `emails about “${escapeHtml(category)}”` : 'all emails from us';

export function trackingRoutes(tracking: TrackingService): Router {
  const router = Router();

  router.get('/t/:token', async (req, res) => {
    const token = req.params.token;
    try {
      if (!TOKEN.test(token)) throw new HttpError(404, 'invalid_link', 'this link is not valid');
      // Express answers HEAD with the GET route; a HEAD is a scanner probing the link, not a click.
      const url = await tracking.click(token, { record: req.method !== 'HEAD' });
      res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer').redirect(302, url);
    } catch (error) {
      refused(res, error);
    }
  });

  router.get('/o/:file', async (req, res) => {
    const match = /^(.+)\.gif$/.exec(req.params.file);
    if (!match || !TOKEN.test(match[1]!)) throw new HttpError(404, 'invalid_link', 'this link is not valid');
    await tracking.open(match[1]!, { record: req.method !== 'HEAD' });
    res.status(200).set('Content-Type', 'image/gif').set('Cache-Control', 'no-store, max-age=0').send(PIXEL);
  });

  // A GET never unsubscribes (mail scanners follow links); it shows a button that POSTs.
  router.get('/u/:token', async (req, res) => {
    const token = req.params.token;
    try {
      if (!TOKEN.test(token)) throw new HttpError(404, 'invalid_link', 'this link is not valid');
      const { category } = await tracking.describeUnsubscribe(token);
      page(
        res,
        200,
        'Unsubscribe',
        `<p>Stop receiving ${scopeText(category)}?</p>` +
          `<form method="post" action="${escapeHtml(token)}"><button type="submit" name="List-Unsubscribe" ` +
          `value="One-Click" style="font-size:1rem;padding:.5rem 1rem">Unsubscribe</button></form>`,
      );
    } catch (error) {
      refused(res, error);
    }
  });

  // RFC 8058: mail clients POST `List-Unsubscribe=One-Click` here, with no cookies and no further interaction.
  router.post('/u/:token', async (req, res) => {
    const token = req.params.token;
    try {
      if (!TOKEN.test(token)) throw new HttpError(404, 'invalid_link', 'this link is not valid');
      const { category } = await tracking.unsubscribe(token);
      page(res, 200, 'You are unsubscribed', `<p>You will no longer receive ${scopeText(category)}.</p>`);
    } catch (error) {
      refused(res, error);
    }
  });

  return router;
}

/** This router's operations in /openapi.json (api/openapi.ts assembles the document). */
export function registerTrackingOpenApi({ json, registry }: OpenApiKit): void {
  const token = z.object({ token: z.string().regex(TRACKING_TOKEN) });
  const gone = { 410: { description: 'The user was erased: nothing is left behind the link (HTML)' } };
  const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
  registry.registerPath({
    method: 'get',
    path: '/t/{token}',
    summary: 'Tracked link: records the click and redirects to the original URL (signed; anything else is a 404)',
    request: { params: token },
    responses: { 302: { description: 'To the original URL' }, 404: html('Not a valid link'), ...gone },
  });
  registry.registerPath({
    method: 'get',
    path: '/o/{token}.gif',
    summary: 'Open pixel',
    request: { params: token },
    responses: {
      200: { description: '1×1 GIF', content: { 'image/gif': { schema: z.string() } } },
      404: json(errorSchema, 'Not a valid pixel'),
      ...gone,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/u/{token}',
    summary: 'Unsubscribe confirmation page (a GET never unsubscribes: it shows a button that POSTs)',
    request: { params: token },
    responses: { 200: html('The confirmation page'), 404: html('Not a valid link'), ...gone },
  });
  registry.registerPath({
    method: 'post',
    path: '/u/{token}',
    summary: 'One-click unsubscribe (RFC 8058); GET shows a confirmation page',
    request: { params: token },
    responses: { 200: html('Unsubscribed'), 404: html('Not a valid link'), ...gone },
  });
}
