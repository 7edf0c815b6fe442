/**
 * An email as it leaves Herald: the rendered body inside the operator's layout, a text part (the template's, or one
 * derived from the HTML), links rewritten to tracked redirects, an open pixel, and List-Unsubscribe with RFC 8058
 * one-click unsubscribe pointing at Herald.
 */
import { Liquid } from 'liquidjs';
import type { TrackingUrls } from '../tracking/tokens';
import { LinkTable, rewriteHtmlLinks, rewriteTextLinks } from '../tracking/rewrite-links';
import { htmlToText } from './html-to-text';

/** The layout is the operator's own HTML: it writes `{{ content }}` unescaped and may use the variables below. */
const layoutLiquid = new Liquid({ cache: 50 });

export interface ComposedEmail {
  subject: string;
  html?: string;
  text?: string;
  headers?: Record<string, string>;
  /** Original URLs of the tracked links, by index (what /t/<token> redirects to). */
  links?: string[];
}

export interface ComposeOptions {
  deliveryId: string;
  /** Liquid HTML with `{{ content }}`; variables: content, subject, unsubscribe_url, locale. */
  layout?: string;
  /** Absent: no tracking and no unsubscribe link (Herald's tracking is not set up for this caller). */
  urls?: TrackingUrls;
  trackClicks?: boolean;
  trackOpens?: boolean;
  unsubscribeMailto?: string;
  locale?: string | null;
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export async function composeEmail(
  rendered: { subject: string; html?: string; text?: string },
  options: ComposeOptions,
): Promise<ComposedEmail> {
  const { urls, deliveryId } = options;
  const unsubscribeUrl = urls?.unsubscribe(deliveryId);
  let html = rendered.html;
  if (html !== undefined && options.layout) {
    html = await layoutLiquid.parseAndRender(options.layout, {
      content: html,
      subject: escapeHtml(rendered.subject),
      unsubscribe_url: unsubscribeUrl ?? '',
      locale: options.locale ?? '',
    });
  }
  let text = rendered.text ?? (html !== undefined ? htmlToText(html) : undefined);

  let links: string[] | undefined;
  if (urls && options.trackClicks) {
    const table = new LinkTable(
      (index) => urls.click(deliveryId, index),
      (url) => urls.isUnsubscribeUrl(url),
    );
    const excluded = new Set<string>();
    if (html !== undefined) html = rewriteHtmlLinks(html, table, excluded);
    if (text !== undefined) text = rewriteTextLinks(text, table, excluded);
    if (table.links.length > 0) links = table.links;
  }
  if (urls && options.trackOpens && html !== undefined) html = withPixel(html, urls.open(deliveryId));

  let headers: Record<string, string> | undefined;
  if (unsubscribeUrl) {
    const mailto = options.unsubscribeMailto
      ? `, <mailto:${options.unsubscribeMailto}?subject=${encodeURIComponent(`unsubscribe ${deliveryId}`)}>`
      : '';
    headers = {
      'List-Unsubscribe': `<${unsubscribeUrl}>${mailto}`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    };
  }
  return {
    subject: rendered.subject,
    ...(html !== undefined ? { html } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(headers ? { headers } : {}),
    ...(links ? { links } : {}),
  };
}

function withPixel(html: string, src: string): string {
  const pixel = `<img src="${src}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
  const close = html.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i);
  return close >= 0 ? `${html.slice(0, close)}${pixel}${html.slice(close)}` : `${html}${pixel}`;
}
