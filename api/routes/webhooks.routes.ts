/**
 * Provider webhooks. Mounted before the app's JSON parser: SendGrid's signature covers the exact bytes it sent, and
 * Twilio posts a form.
 */
import express, { Router } from 'express';
import { HttpError } from '../errors';
import type { WebhookService } from '../services/webhooks.service';
import { errorSchema } from '../../contract/schemas';
import type { OpenApiKit } from '../openapi-kit';

export function webhooksRoutes(webhooks: WebhookService, publicUrl: string): Router {
  const router = Router();

  router.post('/webhooks/sendgrid', express.raw({ type: () => true, limit: '5mb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    webhooks.verifySendgrid(
      raw,
      req.get('X-Twilio-Email-Event-Webhook-Signature'),
      req.get('X-Twilio-Email-Event-Webhook-Timestamp'),
    );
    let events: unknown;
    try {
      events = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_json', 'request body is not valid JSON');
    }
    res.json(await webhooks.sendgrid(events));
  });

  router.post('/webhooks/twilio', express.urlencoded({ extended: false, limit: '64kb' }), async (req, res) => {
    const params = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string>;
    // Twilio signs the URL it was given: Herald's public URL, path and query (herald_delivery_id) included.
    webhooks.verifyTwilio(req.get('X-Twilio-Signature'), `${publicUrl}${req.originalUrl}`, params);
    const deliveryId = typeof req.query.herald_delivery_id === 'string' ? req.query.herald_delivery_id : undefined;
    res.json(await webhooks.twilio(params, deliveryId));
  });

  return router;
}

/** This router's operations in /openapi.json (api/openapi.ts assembles the document). */
export function registerWebhooksOpenApi({ json, registry }: OpenApiKit): void {
  registry.registerPath({
    method: 'post',
    path: '/webhooks/sendgrid',
    summary: 'SendGrid Event Webhook (signed: X-Twilio-Email-Event-Webhook-Signature / -Timestamp)',
    responses: {
      200: { description: 'Accepted' },
      400: json(errorSchema, 'Signed, but not a JSON array of events'),
      401: json(errorSchema, 'Unsigned (missing_signature)'),
      403: json(errorSchema, 'Bad signature (invalid_signature)'),
      413: json(errorSchema, 'Larger than 5 MB'),
      503: json(errorSchema, 'SENDGRID_WEBHOOK_PUBLIC_KEY is not set (webhook_not_configured)'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/webhooks/twilio',
    summary: 'Twilio status callback (signed: X-Twilio-Signature)',
    responses: {
      200: { description: 'Accepted' },
      401: json(errorSchema, 'Unsigned (missing_signature)'),
      403: json(errorSchema, 'Bad signature (invalid_signature)'),
      413: json(errorSchema, 'Larger than 64 KB'),
      503: json(errorSchema, 'Twilio is not configured (webhook_not_configured)'),
    },
  });
}
