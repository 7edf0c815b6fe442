/**
 * What a template will produce, before anything is sent: each channel rendered with sample data and a locale, with
 * the figures that decide whether it is fit to send — SMS encoding and segments, push payload size against the
 * APNs/FCM limit, and every variable a real send would fail on.
 */
import type { TemplateContent } from '../../contract/schemas';
import { composeEmail } from './compose-email';
import { pickLocale, renderPreview, resolveLocale, type MissingVariable } from './render';
import { smsSegments, type SmsSegmentInfo } from './sms-segments';

/** APNs rejects a larger alert payload (PayloadTooLarge); FCM's limit for notification + data is the same 4 KB. */
export const PUSH_PAYLOAD_LIMIT_BYTES = 4096;

// Herald adds these to every push's data (see activities/channels/plan-deliveries.ts); ids of the real length keep the figure honest.
const SAMPLE_IDS = { herald_notification_id: 'ntf_AAAAAAAAAAAAAAAA', herald_delivery_id: 'dlv_AAAAAAAAAAAAAAAA' };

export interface TemplatePreview {
  locale: { requested: string | null; used: string | null };
  channels: {
    push?: {
      title: string;
      body: string;
      data?: Record<string, string>;
      payloadBytes: { apns: number; fcm: number };
      limitBytes: number;
      fits: boolean;
      missingVariables: MissingVariable[];
    };
    sms?: { body: string; missingVariables: MissingVariable[] } & SmsSegmentInfo;
    email?: {
      subject: string;
      html?: string;
      text?: string;
      textDerived: boolean;
      missingVariables: MissingVariable[];
    };
  };
  /** Every missing variable, once, whichever channel needs it. */
  missingVariables: string[];
}

export function pushPayloadBytes(push: { title: string; body: string; data?: Record<string, string> }) {
  const data: Record<string, string> = { ...push.data, ...SAMPLE_IDS };
  // As the APNs adapter builds it: custom keys beside `aps`, which Apple owns.
  const { aps: _aps, ...custom } = data;
  const apns = Buffer.byteLength(JSON.stringify({ aps: { alert: { title: push.title, body: push.body } }, ...custom }));
  const fcm = Buffer.byteLength(JSON.stringify({ notification: { title: push.title, body: push.body }, data }));
  return { apns, fcm };
}

export async function previewTemplate(
  content: TemplateContent,
  options: { data: Record<string, unknown>; locale: string | null; layout?: string; unsubscribeUrl: string },
): Promise<TemplatePreview> {
  const channels = pickLocale(content, options.locale);
  const { rendered, missing } = await renderPreview(channels, {
    ...options.data,
    unsubscribe_url: options.unsubscribeUrl,
  });
  const missingIn = (channel: string) => missing.filter((m) => m.field.startsWith(`${channel}.`));
  const out: TemplatePreview['channels'] = {};
  if (rendered.push) {
    const payloadBytes = pushPayloadBytes(rendered.push);
    out.push = {
      ...rendered.push,
      payloadBytes,
      limitBytes: PUSH_PAYLOAD_LIMIT_BYTES,
      fits: Math.max(payloadBytes.apns, payloadBytes.fcm) <= PUSH_PAYLOAD_LIMIT_BYTES,
      missingVariables: missingIn('push'),
    };
  }
  if (rendered.sms)
    out.sms = { body: rendered.sms.body, ...smsSegments(rendered.sms.body), missingVariables: missingIn('sms') };
  if (rendered.email) {
    // Wrapped in the operator's layout, as it will be sent; links and pixel are left out of a preview.
    const email = await composeEmail(rendered.email, { deliveryId: 'preview', layout: options.layout });
    out.email = {
      subject: email.subject,
      ...(email.html !== undefined ? { html: email.html } : {}),
      ...(email.text !== undefined ? { text: email.text } : {}),
      textDerived: rendered.email.text === undefined && email.text !== undefined,
      missingVariables: missingIn('email'),
    };
  }
  return {
    locale: { requested: options.locale, used: resolveLocale(content, options.locale) },
    channels: out,
    missingVariables: [...new Set(missing.map((m) => m.variable))],
  };
}
