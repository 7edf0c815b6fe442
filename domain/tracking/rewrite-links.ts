/**
 * Click tracking: every http(s) link of a message is replaced by Herald's signed redirect for (delivery, index);
 * `links[index]` keeps the original, which is what the redirect will answer with. The same URL gets the same index
 * wherever it appears (HTML and text parts alike). `<a data-herald-no-track href=…>` is left alone, and so is the
 * unsubscribe link.
 */
import { decodeEntities } from '../templates/html-to-text';

/** More than this many distinct links in one message are left untracked (an index stays at two characters). */
export const MAX_TRACKED_LINKS = 100;

export class LinkTable {
  readonly links: string[] = [];

  constructor(
    private readonly trackedUrl: (index: number) => string,
    private readonly skip: (url: string) => boolean = () => false,
  ) {}

  /** The tracked URL for `url`, or undefined when it is not to be tracked. */
  track(url: string): string | undefined {
    if (!/^https?:\/\/[^\s]+$/i.test(url) || this.skip(url)) return undefined;
    let index = this.links.indexOf(url);
    if (index < 0) {
      if (this.links.length >= MAX_TRACKED_LINKS) return undefined;
      index = this.links.push(url) - 1;
    }
    return this.trackedUrl(index);
  }
}

const ANCHOR = /<a\b[^>]*>/gi;
const HREF = /(\shref\s*=\s*)("([^"]*)"|'([^']*)'|([^\s>"']+))/i;

export function rewriteHtmlLinks(html: string, table: LinkTable, excluded: Set<string> = new Set()): string {
  return html.replace(ANCHOR, (tag) => {
    const match = HREF.exec(tag);
    if (!match) return tag;
    const url = decodeEntities((match[3] ?? match[4] ?? match[5] ?? '').trim());
    if (/\sdata-herald-no-track\b/i.test(tag)) {
      excluded.add(url);
      return tag;
    }
    const tracked = table.track(url);
    return tracked ? tag.replace(HREF, `$1"${tracked}"`) : tag;
  });
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;

export function rewriteTextLinks(text: string, table: LinkTable, excluded: Set<string> = new Set()): string {
  return text.replace(URL_IN_TEXT, (found) => {
    // Sentence punctuation after a URL is not part of it.
    const url = found.replace(/[.,;:!?)\]]+$/, '');
    const tail = found.slice(url.length);
    if (excluded.has(url)) return found;
    const tracked = table.track(url);
    return tracked ? `${tracked}${tail}` : found;
  });
}
