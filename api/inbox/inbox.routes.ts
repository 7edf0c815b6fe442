/**
 * The in-app inbox over HTTP.
 *
 * - `POST /v1/inbox/tokens` (API key, `users:write`): a short-lived token for one user, for that user's app.
 * - The feed (user token): `GET /v1/inbox/items`, per-item and bulk changes, action clicks, `GET /v1/inbox/stream`
 *   (Server-Sent Events). A user's token reads and changes only that user's feed.
 * - `GET /inbox/herald-inbox.js`: the `<herald-inbox>` Web Component.
 */
import { randomBytes } from 'node:crypto';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Db } from '../../platform/db';
import type { InboxConfig } from '../../platform/config/inbox';
import { inboxBus, type InboxBus } from '../../domain/inbox/bus';
import type { InboxCounts, InboxFilter } from '../../contract/inbox';
import { createInboxStore, type InboxEvent } from '../../domain/inbox/store';
import { InboxSigner } from '../../domain/inbox/tokens';
import { registerSecrets } from '../../platform/logger';
import type { Sql } from '../../platform/sql';
import { decodeKeysetCursor, encodeKeysetCursor } from '../cursor';
import { HttpError, notFound, validationError } from '../errors';
import { parseBody, parseId } from '../validate';
import {
  inboxActionSchema,
  inboxBulkSchema,
  inboxClickInputSchema,
  inboxListQuerySchema,
  inboxStreamQuerySchema,
  inboxTokenInputSchema,
} from './inbox.schemas';
import { HERALD_INBOX_JS } from './web-component';

export interface InboxDeps {
  db: Db;
  sql: Sql;
  config: InboxConfig;
  /** PostgreSQL: streams are woken by LISTEN on this database (several API processes). Unset: in-process only. */
  databaseUrl?: string;
  /** A bus of its own (tests run two "API processes" in one). */
  bus?: InboxBus;
}

const SECRET_NAME = 'inbox';

/** The configured keys (the first signs), or the generated one kept in the database (whichever process asks first). */
async function loadSigner(db: Db, configured?: string[]): Promise<InboxSigner> {
  if (configured && configured.length > 0) return new InboxSigner(configured.map((k) => Buffer.from(k, 'utf8')));
  const candidate = randomBytes(32).toString('base64url');
  await db.$executeRaw`INSERT INTO herald_secrets (name, value) VALUES (${SECRET_NAME}, ${candidate}) ON CONFLICT (name) DO NOTHING`;
  const row = await db.heraldSecret.findUniqueOrThrow({ where: { name: SECRET_NAME } });
  registerSecrets([row.value]);
  return new InboxSigner([Buffer.from(row.value, 'utf8')]);
}

declare module 'express-serve-static-core' {
  interface Locals {
    /** The user whose feed an inbox request reads (from their token). */
    inboxUser?: string;
  }
}

export function createInbox(deps: InboxDeps) {
  const store = createInboxStore(deps.sql);
  const open = new Set<Response>();
  /**
   * One read for every stream of a user that waits after the same event (a user's tabs and devices are woken
   * together): the embedded database answers one query at a time, and PostgreSQL's pool is finite.
   */
  const reading = new Map<string, ReturnType<typeof store.eventsAfter>>();
  const eventsAfter = (userId: string, seq: number) => {
    const key = `${seq}:${userId}`;
    let read = reading.get(key);
    if (!read) {
      read = store.eventsAfter(userId, seq).finally(() => reading.delete(key));
      reading.set(key, read);
    }
    return read;
  };
  const bus = deps.bus ?? inboxBus(deps.databaseUrl);
  let signer: Promise<InboxSigner> | undefined;
  const getSigner = () => {
    signer ??= loadSigner(deps.db, deps.config.secrets);
    signer.catch(() => (signer = undefined));
    return signer;
  };

  /** The user of a feed request: their token (header or `?token=`), or — when enabled — the user id and its HMAC. */
  const authenticate: RequestHandler = async (req, res, next) => {
    try {
      const header = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      const query = typeof req.query.token === 'string' ? req.query.token : undefined;
      const token = header ?? query;
      const keys = await getSigner();
      let userId: string | undefined;
      if (token) {
        const result = keys.verify(token);
        if ('problem' in result) {
          const expired = result.problem === 'inbox_token_expired';
          return next(
            new HttpError(
              401,
              result.problem,
              expired ? 'the inbox token has expired' : 'the inbox token is not valid',
            ),
          );
        }
        userId = result.claims.sub;
      } else if (deps.config.userHmac && req.get('x-herald-user-id') && req.get('x-herald-user-hmac')) {
        const claimed = req.get('x-herald-user-id')!;
        if (!keys.verifyUserHmac(claimed, req.get('x-herald-user-hmac')!)) {
          return next(new HttpError(401, 'inbox_hmac_invalid', 'X-Herald-User-Hmac does not match X-Herald-User-Id'));
        }
        userId = claimed;
      } else {
        return next(
          new HttpError(401, 'inbox_token_missing', 'missing Authorization: Bearer <inbox token> (or ?token=)'),
        );
      }
      // A feed request that names a user names the token's user, or it is refused.
      const named =
        req.get('x-herald-user-id') ?? (typeof req.query.userId === 'string' ? req.query.userId : undefined);
      if (named !== undefined && named !== userId) {
        return next(
          new HttpError(403, 'inbox_user_mismatch', "this token gives access to its own user's feed only", {
            required: 'same_user',
          }),
        );
      }
      res.locals.inboxUser = userId;
      next();
    } catch (error) {
      next(error);
    }
  };

  /** CORS for the browser apps the operator named (feed routes only; tokens are minted by servers). */
  const cors: RequestHandler = (req, res, next) => {
    const origin = req.get('origin');
    const allowed = deps.config.corsOrigins;
    if (origin && (allowed.includes('*') || allowed.includes(origin))) {
      res.set('Access-Control-Allow-Origin', allowed.includes('*') ? '*' : origin);
      res.vary('Origin');
      res.set('Access-Control-Expose-Headers', 'Content-Type');
      if (req.method === 'OPTIONS') {
        res.set('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
        res.set(
          'Access-Control-Allow-Headers',
          'Authorization, Content-Type, Last-Event-ID, X-Herald-User-Id, X-Herald-User-Hmac',
        );
        res.set('Access-Control-Max-Age', '600');
        return void res.status(204).end();
      }
    }
    next();
  };

  const user = (res: Response) => res.locals.inboxUser!;
  const change = (counts: InboxCounts, seq: number, ids: string[]) => ({
    changed: ids.length,
    ids,
    counts,
    lastEventId: String(seq),
  });

  /** Feed routes, mounted before /v1's API-key gate (they take a user token instead). */
  const feed = Router();
  feed.use('/v1/inbox', cors);
  const items = Router();
  // Token minting is /v1's (API key): leave this router for it.
  items.use((req, _res, next) => next(req.path === '/tokens' ? 'router' : undefined));
  items.use(authenticate);
  items.get('/items', async (req, res) => {
    const { userId: _named, token: _token, ...rest } = req.query;
    const parsed = inboxListQuerySchema.safeParse(rest);
    if (!parsed.success) throw validationError(parsed.error, 'query');
    const { cursor, limit, ...filter } = parsed.data;
    const after = cursor ? decodeKeysetCursor(cursor) : undefined;
    const page = await store.list(user(res), filter, {
      limit,
      ...(after ? { after: { at: after.createdAt.getTime(), id: after.id } } : {}),
    });
    const last = page.items.at(-1);
    res.json({
      items: page.items,
      pageInfo: {
        hasMore: page.hasMore,
        nextCursor:
          page.hasMore && last ? encodeKeysetCursor({ createdAt: new Date(last.createdAt), id: last.id }) : null,
      },
      counts: page.counts,
      lastEventId: String(page.seq),
    });
  });
  items.get('/counts', async (_req, res) => {
    const { counts, seq } = await store.counts(user(res));
    res.json({ counts, lastEventId: String(seq) });
  });
  // Bulk: POST /v1/inbox/items/<action> with {ids} or {all: true, status?, archived?, category?} (all: the filter).
  const bulk = (action: (typeof inboxActionSchema.options)[number]) =>
    (async (req, res) => {
      const input = parseBody(inboxBulkSchema, req.body);
      const target =
        'ids' in input
          ? { ids: input.ids }
          : {
              all: true as const,
              filter: {
                ...(input.status ? { status: input.status } : {}),
                ...(input.archived ? { archived: input.archived } : {}),
                ...(input.category ? { category: input.category } : {}),
              } satisfies InboxFilter,
            };
      const result = await store.apply(user(res), action, target, Date.now());
      res.json(change(result.counts, result.seq, result.changed));
    }) satisfies RequestHandler;
  for (const action of inboxActionSchema.options) items.post(`/items/${action}`, bulk(action));
  const one = (action: (typeof inboxActionSchema.options)[number]) =>
    (async (req, res) => {
      const id = parseId(req.params.id, 'id');
      const item = await store.item(user(res), id);
      if (!item) throw notFound('inbox_item', id);
      const result = await store.apply(user(res), action, { ids: [id] }, Date.now());
      res.json({
        ...change(result.counts, result.seq, result.changed),
        item: action === 'delete' ? null : await store.item(user(res), id),
      });
    }) satisfies RequestHandler;
  for (const action of ['read', 'unread', 'seen', 'archive', 'unarchive'] as const) {
    items.post(`/items/:id/${action}`, one(action));
  }
  items.delete('/items/:id', one('delete'));
  items.post('/items/:id/click', async (req, res) => {
    const id = parseId(req.params.id, 'id');
    const { action } = parseBody(inboxClickInputSchema, req.body ?? {});
    const clicked = await store.click(user(res), id, action, Date.now());
    if (!clicked) throw notFound('inbox_item', id);
    if (clicked.url === null) {
      throw new HttpError(
        422,
        'inbox_action_not_found',
        `item ${id} has no ${action === undefined ? 'url' : `action ${action}`}`,
      );
    }
    // Clicking an item reads it.
    const result = await store.apply(user(res), 'read', { ids: [id] }, Date.now());
    res.json({ url: clicked.url, ...change(result.counts, result.seq, result.changed) });
  });
  items.get('/stream', (req, res, next) => {
    stream(req, res).catch(next);
  });
  feed.use('/v1/inbox', express.json({ limit: '64kb', strict: true }), items);

  /**
   * Server-Sent Events: the feed's events after Last-Event-ID (or after "now" when none is given, with a `ready`
   * event carrying the counts), then each new one as it is committed. Every message has its `id:` (the user's event
   * number) and the counts after it. Heartbeats keep proxies from closing an idle stream, and re-read the feed, so a
   * lost wake-up delays an event by one heartbeat at most.
   */
  async function stream(req: Request, res: Response) {
    const { userId: _named, ...rest } = req.query;
    const query = inboxStreamQuerySchema.safeParse(rest);
    if (!query.success) throw validationError(query.error, 'query');
    const userId = user(res);
    const header = req.get('last-event-id');
    let lastSent: number;
    if (header !== undefined || query.data.lastEventId !== undefined) {
      const value = header ?? query.data.lastEventId!;
      if (!/^\d{1,15}$/.test(value))
        throw new HttpError(400, 'invalid_last_event_id', 'Last-Event-ID is not an event id');
      lastSent = Number(value);
    } else {
      lastSent = -1;
    }
    res.status(200);
    res.set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    res.write('retry: 2000\n\n');
    const send = (id: number, type: string, data: unknown) =>
      res.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);

    if (lastSent < 0) {
      const { counts, seq } = await store.counts(userId);
      lastSent = seq;
      send(seq, 'ready', { counts });
    }
    let closed = false;
    let running = false;
    let again = false;
    const pump = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          for (;;) {
            const { events, gap } = await eventsAfter(userId, lastSent);
            if (closed) return;
            if (gap) {
              // Events the client missed were purged (older than the retention): it must reload the feed.
              const { counts, seq } = await store.counts(userId);
              lastSent = seq;
              send(seq, 'reset', { counts });
              break;
            }
            if (events.length === 0) break;
            for (const event of events) {
              send(event.seq, event.type, eventData(event));
              lastSent = event.seq;
            }
          }
        } while (again && !closed);
      } catch {
        // The database is briefly away: the next wake-up or heartbeat tries again.
      } finally {
        running = false;
      }
    };
    const unsubscribe = bus.subscribe(userId, () => void pump());
    const heartbeat = setInterval(() => {
      res.write(': heartbeat\n\n');
      void pump();
    }, deps.config.heartbeatSeconds * 1000);
    open.add(res);
    const close = () => {
      open.delete(res);
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
    };
    req.on('close', close);
    res.on('close', close);
    await pump();
  }

  /** Token minting, inside /v1 (API key). */
  const tokens = Router();
  tokens.post('/inbox/tokens', async (req, res) => {
    const input = parseBody(inboxTokenInputSchema, req.body);
    const ttl = Math.min(input.expiresIn ?? deps.config.tokenTtlSeconds, deps.config.tokenTtlSeconds);
    const keys = await getSigner();
    const { token, expiresAt } = keys.sign(input.userId, ttl);
    res.status(201).json({ token, expiresAt, userId: input.userId, keyId: keys.keyId });
  });

  /** The Web Component, for any page that loads it. */
  const assets = Router();
  assets.get('/inbox/herald-inbox.js', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300');
    res.set('Access-Control-Allow-Origin', '*');
    res.type('application/javascript').send(HERALD_INBOX_JS);
  });

  return {
    /** Ends every open stream (shutdown: the server cannot close while they are open). */
    closeStreams: () => {
      for (const res of open) res.end();
    },
    feed,
    tokens,
    assets,
    store,
    /** Retention: run by the API process on a timer (server/herald.ts) when HERALD_INBOX_RETENTION_DAYS > 0. */
    purgeExpired: () =>
      deps.config.retentionDays > 0
        ? store.purge(Date.now() - deps.config.retentionDays * 86_400_000)
        : Promise.resolve({ items: 0, events: 0 }),
  };
}
export type Inbox = ReturnType<typeof createInbox>;

/** What a stream message carries: the event's own data and the counts after it. */
function eventData(event: InboxEvent) {
  return event.type === 'item.created'
    ? { item: event.payload.item, counts: event.payload.counts }
    : { change: event.payload.change, ids: event.payload.ids, counts: event.payload.counts };
}
