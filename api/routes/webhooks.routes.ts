/**
 * Provider webhooks. Mounted before the app's JSON parser: SendGrid's signature covers the exact bytes it sent, and
 * Twilio posts a form.
 */
import express, { Router } from 'express';
import { HttpError } from '../errors';
import type { WebhookService } from '../services/webhooks.service';

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
