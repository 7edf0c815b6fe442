import { Drop, Liquid } from 'liquidjs';
import type { TemplateChannels, TemplateContent } from '../../contract/schemas';

/**
 * Strict: an undefined variable or filter is an error, never an empty string in a customer's message. `lenientIf`
 * keeps one door open on purpose: `{% if coupon %}` and `{{ coupon | default: "" }}` may test a variable that is not
 * there, which is how a template says a variable is optional.
 */
const OPTIONS = { strictVariables: true, strictFilters: true, lenientIf: true, cache: 500 } as const;
const liquid = new Liquid(OPTIONS);
/** Email HTML escapes what it writes (`&`, `<`, quotes): data cannot inject markup; `| raw` writes HTML on purpose. */
const liquidHtml = new Liquid({ ...OPTIONS, outputEscape: 'escape' });
/** Previews render what they can and report what is missing instead of failing on it. */
const lenient = new Liquid({ strictFilters: true, cache: 500 });
const lenientHtml = new Liquid({ strictFilters: true, cache: 500, outputEscape: 'escape' });

export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
}

/** The locale entry used for `locale`: `ko-KR` → `ko` → none (the template's default channels). */
export function resolveLocale(content: TemplateContent, locale: string | null | undefined): string | null {
  if (!locale || !content.locales) return null;
  const byLowerCase = new Map(Object.keys(content.locales).map((key) => [key.toLowerCase(), key]));
  const parts = locale.toLowerCase().split('-');
  for (let length = parts.length; length > 0; length--) {
    const match = byLowerCase.get(parts.slice(0, length).join('-'));
    if (match) return match;
  }
  return null;
}

/** The locale's content, falling back `ko-KR` → `ko` → the template's default channels (per channel). */
export function pickLocale(content: TemplateContent, locale: string | null | undefined): TemplateChannels {
  const key = resolveLocale(content, locale);
  const match = key ? content.locales?.[key] : undefined;
  return match ? { ...content.channels, ...match } : content.channels;
}

type Field = { channel: keyof TemplateChannels; path: string; source: string; html: boolean };

/** Every Liquid source of a channel set, with where it sits (`email.html`, `push.data.order`…). */
function fieldsOf(channels: TemplateChannels, wanted?: readonly (keyof TemplateChannels)[]): Field[] {
  const fields: Field[] = [];
  const want = (channel: keyof TemplateChannels) => !wanted || wanted.includes(channel);
  if (channels.push && want('push')) {
    fields.push(
      { channel: 'push', path: 'push.title', source: channels.push.title, html: false },
      { channel: 'push', path: 'push.body', source: channels.push.body, html: false },
    );
    for (const [key, source] of Object.entries(channels.push.data ?? {})) {
      fields.push({ channel: 'push', path: `push.data.${key}`, source, html: false });
    }
  }
  if (channels.sms && want('sms'))
    fields.push({ channel: 'sms', path: 'sms.body', source: channels.sms.body, html: false });
  if (channels.email && want('email')) {
    fields.push({ channel: 'email', path: 'email.subject', source: channels.email.subject, html: false });
    if (channels.email.html !== undefined)
      fields.push({ channel: 'email', path: 'email.html', source: channels.email.html, html: true });
    if (channels.email.text !== undefined)
      fields.push({ channel: 'email', path: 'email.text', source: channels.email.text, html: false });
  }
  if (channels.inbox && want('inbox')) {
    const inbox = channels.inbox;
    fields.push(
      { channel: 'inbox', path: 'inbox.title', source: inbox.title, html: false },
      { channel: 'inbox', path: 'inbox.body', source: inbox.body, html: false },
    );
    if (inbox.url !== undefined) fields.push({ channel: 'inbox', path: 'inbox.url', source: inbox.url, html: false });
    (inbox.actions ?? []).forEach((action, i) =>
      fields.push(
        { channel: 'inbox', path: `inbox.actions.${i}.label`, source: action.label, html: false },
        { channel: 'inbox', path: `inbox.actions.${i}.url`, source: action.url, html: false },
      ),
    );
    for (const [key, source] of Object.entries(inbox.data ?? {})) {
      fields.push({ channel: 'inbox', path: `inbox.data.${key}`, source, html: false });
    }
  }
  return fields;
}

/** Liquid messages end with ", line:3, col:5"; the position is reported separately. */
const withoutPosition = (message: string) => message.split('\n')[0]!.replace(/,? line:\d+, col:\d+$/, '');

async function render(field: Field, data: Record<string, unknown>): Promise<string> {
  try {
    return await (field.html ? liquidHtml : liquid).parseAndRender(field.source, data);
  } catch (error) {
    throw new TemplateRenderError(`${field.path}: ${(error as Error).message.split('\n')[0]}`);
  }
}

export type RenderedChannels = {
  push?: { title: string; body: string; data?: Record<string, string> };
  sms?: { body: string };
  email?: { subject: string; html?: string; text?: string };
  inbox?: RenderedInbox;
};

export interface RenderedInbox {
  title: string;
  body: string;
  url?: string;
  actions?: { label: string; url: string }[];
  data?: Record<string, string>;
}

function assemble(channels: TemplateChannels, fields: Field[], values: string[]): RenderedChannels {
  const value = (path: string) => values[fields.findIndex((f) => f.path === path)];
  const out: RenderedChannels = {};
  if (channels.push && fields.some((f) => f.channel === 'push')) {
    const data = channels.push.data
      ? Object.fromEntries(Object.keys(channels.push.data).map((key) => [key, value(`push.data.${key}`) ?? '']))
      : undefined;
    out.push = { title: value('push.title') ?? '', body: value('push.body') ?? '', ...(data ? { data } : {}) };
  }
  if (channels.sms && fields.some((f) => f.channel === 'sms')) out.sms = { body: value('sms.body') ?? '' };
  if (channels.email && fields.some((f) => f.channel === 'email')) {
    out.email = {
      subject: value('email.subject') ?? '',
      ...(channels.email.html !== undefined ? { html: value('email.html') ?? '' } : {}),
      ...(channels.email.text !== undefined ? { text: value('email.text') ?? '' } : {}),
    };
  }
  if (channels.inbox && fields.some((f) => f.channel === 'inbox')) {
    const inbox = channels.inbox;
    out.inbox = {
      title: value('inbox.title') ?? '',
      body: value('inbox.body') ?? '',
      ...(inbox.url !== undefined ? { url: value('inbox.url') ?? '' } : {}),
      ...(inbox.actions
        ? {
            actions: inbox.actions.map((_, i) => ({
              label: value(`inbox.actions.${i}.label`) ?? '',
              url: value(`inbox.actions.${i}.url`) ?? '',
            })),
          }
        : {}),
      ...(inbox.data
        ? { data: Object.fromEntries(Object.keys(inbox.data).map((key) => [key, value(`inbox.data.${key}`) ?? ''])) }
        : {}),
    };
  }
  return out;
}

/** Renders only the channels asked for, so an unused channel's variables need not be supplied. */
export async function renderChannels(
  channels: TemplateChannels,
  wanted: readonly (keyof TemplateChannels)[],
  data: Record<string, unknown>,
): Promise<RenderedChannels> {
  const fields = fieldsOf(channels, wanted);
  const values: string[] = [];
  for (const field of fields) values.push(await render(field, data));
  return assemble(channels, fields, values);
}

export interface MissingVariable {
  field: string;
  variable: string;
}

/**
 * Renders every channel without failing on undefined variables, and lists each variable a real send would fail on.
 * The list comes from the strict renderer itself (so `{% if x %}` and `| default` count as optional, exactly as when
 * sending): render strictly, note the variable it stops at, stand an empty object in for it, and go again.
 */
export async function renderPreview(
  channels: TemplateChannels,
  data: Record<string, unknown>,
): Promise<{ rendered: RenderedChannels; missing: MissingVariable[] }> {
  const fields = fieldsOf(channels);
  const values: string[] = [];
  const missing: MissingVariable[] = [];
  for (const field of fields) {
    values.push(await (field.html ? lenientHtml : lenient).parseAndRender(field.source, data));
    for (const variable of await undefinedVariables(field, data)) missing.push({ field: field.path, variable });
  }
  return { rendered: assemble(channels, fields, values), missing };
}

const UNDEFINED_VARIABLE = /^undefined variable: (.+?)(, line:\d+, col:\d+)?$/;
const MAX_PASSES = 100;

async function undefinedVariables(field: Field, data: Record<string, unknown>): Promise<string[]> {
  const found: string[] = [];
  const probe = structuredCloneJson(data);
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    try {
      await (field.html ? liquidHtml : liquid).parseAndRender(field.source, probe);
      break;
    } catch (error) {
      const match = UNDEFINED_VARIABLE.exec((error as Error).message.split('\n')[0] ?? '');
      if (!match) break;
      const path = match[1]!;
      // `user` missing, then `user.name` once `user` stands in: report the deepest path only.
      const parent = found.findIndex((f) => path.startsWith(`${f}.`));
      if (parent >= 0) found.splice(parent, 1);
      if (found.includes(path) || !standIn(probe, path.split('.'))) {
        found.push(path);
        break;
      }
      found.push(path);
    }
  }
  return found;
}

/** Puts a placeholder where a variable is missing; false when the path cannot be reached (a scalar in the way). */
function standIn(data: Record<string, unknown>, segments: string[]): boolean {
  let node: unknown = data;
  for (const [i, segment] of segments.entries()) {
    if (node === null || typeof node !== 'object') return false;
    const container = node as Record<string, unknown>;
    if (i === segments.length - 1) {
      container[segment] = new Placeholder();
      return true;
    }
    if (container[segment] === undefined || container[segment] instanceof Placeholder) container[segment] = {};
    node = container[segment];
  }
  return false;
}

/** Renders as an empty string; its properties are undefined (so `user.name` is reported after `user`). */
class Placeholder extends Drop {
  override valueOf(): string {
    return '';
  }
}

function structuredCloneJson(data: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(data ?? {})) as Record<string, unknown>;
}

export interface TemplateSyntaxProblem {
  /** Where: `channels.email.html`, `locales.ko.sms.body`… */
  field: string;
  line: number;
  column: number;
  message: string;
}

/** Parses every source of a template; returns the first syntax error with its field, line and column. */
export function checkTemplateSyntax(content: TemplateContent): TemplateSyntaxProblem | undefined {
  const sources: [string, Field][] = fieldsOf(content.channels).map((f) => [`channels.${f.path}`, f]);
  for (const [locale, channels] of Object.entries(content.locales ?? {})) {
    for (const f of fieldsOf(channels)) sources.push([`locales.${locale}.${f.path}`, f]);
  }
  for (const [where, field] of sources) {
    try {
      (field.html ? liquidHtml : liquid).parse(field.source);
    } catch (error) {
      const position = (error as { token?: { getPosition?: () => [number, number] } }).token?.getPosition?.();
      const [line, column] = position ?? [1, 1];
      return { field: where, line, column, message: withoutPosition((error as Error).message) };
    }
  }
  return undefined;
}
