/**
 * The in-app inbox for apps that build their own UI (or use `<herald-inbox>`, served at /inbox/herald-inbox.js).
 *
 * On your server (API key): `const { token } = await mintInboxToken({ url, apiKey }, userId)`, handed to the app.
 * In the app (user token, browser or Node ≥ 20):
 *
 *   const inbox = createInboxClient({ url: 'https://herald.example.com', token: () => fetchTokenFromMyServer() });
 *   const { items, counts, lastEventId } = await inbox.list({ status: 'unread' });
 *   const stop = inbox.subscribe({ lastEventId, onEvent: (e) => render(e.counts) });
 *
 * `subscribe` reads the Server-Sent Events stream with fetch, reconnects after a drop from the last event it saw (so
 * nothing is lost), and asks `token()` again when the token is refused.
 */
import type {
  InboxAction,
  InboxArchived,
  InboxCounts,
  InboxFilter,
  InboxItem,
  InboxStatus,
} from '@herald/contract/inbox';
import { HeraldError } from './errors';

export type { InboxCounts, InboxItem } from '@herald/contract/inbox';
/** The feed's filters: `status` (unread, read, unseen, all), `archived` (exclude, include, only), `category`. */
export type { InboxFilter } from '@herald/contract/inbox';
export type InboxStatusFilter = InboxStatus;
export type InboxArchivedFilter = InboxArchived;
export type { InboxAction };

export interface InboxPage {
  items: InboxItem[];
  pageInfo: { nextCursor: string | null; hasMore: boolean };
  counts: InboxCounts;
  /** Subscribe from here and no change after this page is missed. */
  lastEventId: string;
}

export interface InboxChange {
  changed: number;
  ids: string[];
  counts: InboxCounts;
  lastEventId: string;
}

export type InboxStreamEvent =
  | { id: string; type: 'ready' | 'reset'; counts: InboxCounts }
  | { id: string; type: 'item.created'; item: InboxItem; counts: InboxCounts }
  | { id: string; type: 'items.updated'; change: InboxAction; ids: string[]; counts: InboxCounts };

export interface InboxClientOptions {
  /** Herald's base URL. */
  url: string;
  /** The user's token, or a function that fetches a fresh one (called again when the token expires). */
  token: string | (() => Promise<string>);
  fetch?: typeof fetch;
}

export interface InboxClient {
  list(query?: InboxFilter & { cursor?: string; limit?: number }): Promise<InboxPage>;
  counts(): Promise<{ counts: InboxCounts; lastEventId: string }>;
  /** One item. */
  update(id: string, action: Exclude<InboxAction, 'delete'>): Promise<InboxChange & { item: InboxItem | null }>;
  remove(id: string): Promise<InboxChange>;
  /** Several items by id, or every item matching a filter (`{ all: true, status: 'read' }`). */
  bulk(action: InboxAction, target: { ids: string[] } | ({ all: true } & InboxFilter)): Promise<InboxChange>;
  /** Records a click on the item (or its action number `action`) and answers where it leads. */
  click(id: string, action?: number): Promise<InboxChange & { url: string }>;
  /** Live events until the returned function is called. */
  subscribe(options: {
    lastEventId?: string;
    onEvent: (event: InboxStreamEvent) => void;
    onError?: (error: unknown) => void;
  }): () => void;
}

/** On your server: a short-lived token for one user's inbox (POST /v1/inbox/tokens, `users:write`). */
export async function mintInboxToken(
  options: { url: string; apiKey: string; fetch?: typeof fetch },
  userId: string,
  expiresIn?: number,
): Promise<{ token: string; expiresAt: string; userId: string; keyId: string }> {
  const response = await (options.fetch ?? fetch)(`${options.url.replace(/\/+$/, '')}/v1/inbox/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId, ...(expiresIn !== undefined ? { expiresIn } : {}) }),
  });
  return answer(response);
}

async function answer<T>(response: Response): Promise<T> {
  const text = await response.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (body as { error?: { code: string; message: string; details?: unknown } } | undefined)?.error;
    throw new HeraldError(error?.code ?? 'http_error', error?.message ?? `Herald answered ${response.status}`, {
      status: response.status,
      details: error?.details,
      retryable: response.status >= 500 || response.status === 429,
    });
  }
  return body as T;
}

export function createInboxClient(options: InboxClientOptions): InboxClient {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  let token: string | undefined = typeof options.token === 'string' ? options.token : undefined;
  const currentToken = async (fresh = false) => {
    if (typeof options.token === 'string') return options.token;
    if (!token || fresh) token = await options.token();
    return token;
  };

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const response = await doFetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await currentToken(attempt > 0)}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      // An expired token: once more with a fresh one, when the app can get one.
      if (response.status === 401 && attempt === 0 && typeof options.token === 'function') {
        await response.body?.cancel();
        continue;
      }
      return answer<T>(response);
    }
  }
  const q = (query: Record<string, string | number | undefined>) => {
    const entries = Object.entries(query).filter((e): e is [string, string | number] => e[1] !== undefined);
    return entries.length
      ? `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}`
      : '';
  };
  const item = (id: string) => `/v1/inbox/items/${encodeURIComponent(id)}`;

  return {
    list: (query = {}) => call('GET', `/v1/inbox/items${q({ ...query })}`),
    counts: () => call('GET', '/v1/inbox/counts'),
    update: (id, action) => call('POST', `${item(id)}/${action}`),
    remove: (id) => call('DELETE', item(id)),
    bulk: (action, target) => call('POST', `/v1/inbox/items/${action}`, target),
    click: (id, action) => call('POST', `${item(id)}/click`, action === undefined ? {} : { action }),
    subscribe({ lastEventId, onEvent, onError }) {
      let stopped = false;
      let abort: AbortController | undefined;
      let last = lastEventId;
      const run = async () => {
        let refused = 0;
        while (!stopped) {
          abort = new AbortController();
          try {
            const response = await doFetch(`${base}/v1/inbox/stream`, {
              headers: {
                accept: 'text/event-stream',
                authorization: `Bearer ${await currentToken(refused > 0)}`,
                ...(last !== undefined ? { 'last-event-id': last } : {}),
              },
              signal: abort.signal,
            });
            if (response.status === 401 && typeof options.token === 'function' && refused++ === 0) continue;
            if (!response.ok || !response.body) await answer(response);
            refused = 0;
            const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
            let buffer = '';
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              buffer += value;
              let end: number;
              while ((end = buffer.indexOf('\n\n')) >= 0) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                let id: string | undefined;
                let type = 'message';
                const data: string[] = [];
                for (const line of block.split('\n')) {
                  if (line.startsWith('id: ')) id = line.slice(4);
                  else if (line.startsWith('event: ')) type = line.slice(7);
                  else if (line.startsWith('data: ')) data.push(line.slice(6));
                }
                if (id === undefined || data.length === 0) continue;
                last = id;
                onEvent({ id, type, ...JSON.parse(data.join('\n')) } as InboxStreamEvent);
              }
            }
          } catch (error) {
            if (stopped) return;
            if (error instanceof HeraldError && error.status !== undefined && error.status < 500) {
              onError?.(error);
              return;
            }
            onError?.(error);
          }
          // Dropped: again after a moment, from the last event seen.
          if (!stopped) await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      };
      void run();
      return () => {
        stopped = true;
        abort?.abort();
      };
    },
  };
}
