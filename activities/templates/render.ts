import { Liquid } from 'liquidjs';
import type { TemplateChannels, TemplateContent } from '../../lib/schemas';

/** Strict: an undefined variable or filter is an error, never an empty string in a customer's message. */
const liquid = new Liquid({ strictVariables: true, strictFilters: true, cache: 500 });

export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
}

/** The locale's content, falling back `ko-KR` → `ko` → the template's default channels. */
export function pickLocale(content: TemplateContent, locale: string | null | undefined): TemplateChannels {
  if (!locale || !content.locales) return content.channels;
  const byLowerCase = new Map(Object.entries(content.locales).map(([key, value]) => [key.toLowerCase(), value]));
  const parts = locale.toLowerCase().split('-');
  for (let length = parts.length; length > 0; length--) {
    const match = byLowerCase.get(parts.slice(0, length).join('-'));
    if (match) return { ...content.channels, ...match };
  }
  return content.channels;
}

async function render(source: string, data: Record<string, unknown>, where: string): Promise<string> {
  try {
    return await liquid.parseAndRender(source, data);
  } catch (error) {
    throw new TemplateRenderError(`${where}: ${(error as Error).message.split('\n')[0]}`);
  }
}

export type RenderedChannels = {
  push?: { title: string; body: string; data?: Record<string, string> };
  sms?: { body: string };
  email?: { subject: string; html?: string; text?: string };
};

/** Renders only the channels asked for, so an unused channel's variables need not be supplied. */
export async function renderChannels(
  channels: TemplateChannels,
  wanted: readonly (keyof TemplateChannels)[],
  data: Record<string, unknown>,
): Promise<RenderedChannels> {
  const out: RenderedChannels = {};
  if (wanted.includes('push') && channels.push) {
    const { title, body, data: extra } = channels.push;
    const renderedData = extra
      ? Object.fromEntries(
          await Promise.all(
            Object.entries(extra).map(async ([k, v]) => [k, await render(v, data, `push.data.${k}`)] as const),
          ),
        )
      : undefined;
    out.push = {
      title: await render(title, data, 'push.title'),
      body: await render(body, data, 'push.body'),
      ...(renderedData ? { data: renderedData } : {}),
    };
  }
  if (wanted.includes('sms') && channels.sms) out.sms = { body: await render(channels.sms.body, data, 'sms.body') };
  if (wanted.includes('email') && channels.email) {
    const { subject, html, text } = channels.email;
    out.email = {
      subject: await render(subject, data, 'email.subject'),
      ...(html !== undefined ? { html: await render(html, data, 'email.html') } : {}),
      ...(text !== undefined ? { text: await render(text, data, 'email.text') } : {}),
    };
  }
  return out;
}

/** Parses every source of a template; returns the first syntax error with its location, or undefined. */
export function checkTemplateSyntax(content: TemplateContent): string | undefined {
  const sources: [string, string][] = [];
  const collect = (prefix: string, channels: TemplateChannels) => {
    if (channels.push) {
      sources.push([`${prefix}push.title`, channels.push.title], [`${prefix}push.body`, channels.push.body]);
      for (const [k, v] of Object.entries(channels.push.data ?? {})) sources.push([`${prefix}push.data.${k}`, v]);
    }
    if (channels.sms) sources.push([`${prefix}sms.body`, channels.sms.body]);
    if (channels.email) {
      sources.push([`${prefix}email.subject`, channels.email.subject]);
      if (channels.email.html !== undefined) sources.push([`${prefix}email.html`, channels.email.html]);
      if (channels.email.text !== undefined) sources.push([`${prefix}email.text`, channels.email.text]);
    }
  };
  collect('channels.', content.channels);
  for (const [locale, channels] of Object.entries(content.locales ?? {})) collect(`locales.${locale}.`, channels);
  for (const [where, source] of sources) {
    try {
      liquid.parse(source);
    } catch (error) {
      return `${where}: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  return undefined;
}
