/**
 * The in-app inbox in plain SQL (platform/sql.ts, so PostgreSQL and the embedded PGlite alike).
 *
 * Every change to a user's feed — an item delivered, read, archived, deleted — runs in one transaction that first
 * takes the user's `inbox_feeds` row (its lock orders the user's changes), applies the change, counts the feed and
 * appends an event numbered `last_seq + 1` with those counts. So the counts in an event are exactly the feed after
 * that change, events are numbered in commit order with no hole, and a stream that resumes after event N reads
 * N+1, N+2… from the table: nothing is lost, nothing repeated.
 */
import { randomBytes } from 'node:crypto';
import { TS, type Sql, type SqlQueryable } from '../../platform/sql';
import type { InboxAction, InboxCounts, InboxFilter, InboxItem } from '../../contract/inbox';
import { INBOX_CHANNEL, wakeLocalStreams } from './bus';

export interface InboxEvent {
  seq: number;
  type: 'item.created' | 'items.updated';
  /** item.created: `{item}`; items.updated: `{change, ids}`. Both carry the counts after the change. */
  payload: { counts: InboxCounts; item?: InboxItem; change?: InboxAction; ids?: string[] };
}

let sequence = 0;
/** Item ids sort by creation within a process; the feed's order is (created_at, id) anyway. */
export const newInboxItemId = () =>
  `inb_${Date.now().toString(36).padStart(9, '0')}${(sequence = (sequence + 1) % 1296).toString(36).padStart(2, '0')}` +
  randomBytes(6).toString('base64url');

const ITEM_JSON = (t: string) => `json_build_object(
  'id', ${t}.id, 'notificationId', ${t}.notification_id, 'category', ${t}.category, 'templateId', ${t}.template_id,
  'title', ${t}.title, 'body', ${t}.body, 'url', ${t}.url,
  'actions', coalesce(${t}.actions, '[]'::jsonb), 'data', coalesce(${t}.data, '{}'::jsonb),
  'readAt', ${iso(`${t}.read_at`)}, 'seenAt', ${iso(`${t}.seen_at`)}, 'archivedAt', ${iso(`${t}.archived_at`)},
  'createdAt', ${iso(`${t}.created_at`)})`;
function iso(column: string) {
  return `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

const COUNTS = `
SELECT count(*) FILTER (WHERE read_at IS NULL)::int AS unread,
       count(*) FILTER (WHERE seen_at IS NULL)::int AS unseen,
       count(*)::int AS total
  FROM inbox_items WHERE user_id = $1 AND archived_at IS NULL`;

const json = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);

/** The filter as SQL on `inbox_items`, parameters from `$first` on. */
function filterSql(filter: InboxFilter, first: number): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const status = filter.status ?? 'all';
  if (status === 'unread') parts.push('read_at IS NULL');
  else if (status === 'read') parts.push('read_at IS NOT NULL');
  else if (status === 'unseen') parts.push('seen_at IS NULL');
  const archived = filter.archived ?? 'exclude';
  if (archived === 'exclude') parts.push('archived_at IS NULL');
  else if (archived === 'only') parts.push('archived_at IS NOT NULL');
  if (filter.category !== undefined) {
    params.push(filter.category);
    parts.push(`category = $${first + params.length - 1}`);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}

/** One change: the statement for the rows it applies to (only those it really changes), returning their ids. */
function changeSql(action: InboxAction, where: string): string {
  const now = TS('$2');
  switch (action) {
    case 'read':
      return `UPDATE inbox_items SET read_at = ${now}, seen_at = coalesce(seen_at, ${now}), updated_at = ${now}
               WHERE user_id = $1 AND read_at IS NULL ${where} RETURNING id, delivery_id, notification_id`;
    case 'unread':
      return `UPDATE inbox_items SET read_at = NULL, updated_at = ${now}
               WHERE user_id = $1 AND read_at IS NOT NULL ${where} RETURNING id, delivery_id, notification_id`;
    case 'seen':
      return `UPDATE inbox_items SET seen_at = ${now}, updated_at = ${now}
               WHERE user_id = $1 AND seen_at IS NULL ${where} RETURNING id, delivery_id, notification_id`;
    case 'archive':
      return `UPDATE inbox_items SET archived_at = ${now}, updated_at = ${now}
               WHERE user_id = $1 AND archived_at IS NULL ${where} RETURNING id, delivery_id, notification_id`;
    case 'unarchive':
      return `UPDATE inbox_items SET archived_at = NULL, updated_at = ${now}
               WHERE user_id = $1 AND archived_at IS NOT NULL ${where} RETURNING id, delivery_id, notification_id`;
    case 'delete':
      // ($2, the time, typed though a delete does not need it: every statement here takes the same parameters.)
      return `DELETE FROM inbox_items WHERE user_id = $1 AND $2::float8 IS NOT NULL ${where}
              RETURNING id, delivery_id, notification_id`;
  }
}

/** An item read is its notification opened (stats; an escalation waiting for the open ends without sending). */
const RECORD_OPENED = `
WITH read AS (
  SELECT i.id, i.delivery_id, i.notification_id, n.template_id, n.category
    FROM inbox_items i JOIN notifications n ON n.id = i.notification_id
   WHERE i.id = ANY($1::text[]) AND i.delivery_id IS NOT NULL
), opened AS (
  UPDATE notifications SET opened_at = ${TS('$2')} WHERE id IN (SELECT notification_id FROM read) AND opened_at IS NULL
)
INSERT INTO tracking_events (id, notification_id, delivery_id, type, channel, template_id, category, source, at,
                             metadata, counted, dedupe_key, source_event_id)
SELECT 'tev_' || replace(gen_random_uuid()::text, '-', ''), read.notification_id, read.delivery_id, 'opened', 'inbox',
       read.template_id, read.category, 'api', ${TS('$2')}, NULL, true, read.delivery_id || ':opened', NULL
  FROM read
ON CONFLICT DO NOTHING`;

export interface InboxDeliveryInput {
  deliveryId: string;
  at: number;
}

export type InboxDeliveryResult = { outcome: 'delivered'; itemId: string } | { outcome: 'gone'; reason: string };

export function createInboxStore(sql: Sql) {
  /**
   * Runs `change` under the user's feed lock and, when it changed something, appends the event with the counts
   * after it. Wakes this process's streams after the commit; PostgreSQL's NOTIFY (sent at commit) wakes the others.
   */
  async function mutate(
    userId: string,
    at: number,
    change: (
      tx: SqlQueryable,
    ) => Promise<(Omit<InboxEvent['payload'], 'counts'> & { type: InboxEvent['type'] }) | null>,
  ): Promise<{ counts: InboxCounts; seq: number; changed: boolean }> {
    const result = await sql.transaction(async (tx) => {
      const [feed] = await tx.query<{ last_seq: string | number }>(
        `INSERT INTO inbox_feeds (user_id, last_seq, updated_at) VALUES ($1, 0, ${TS('$2')})
         ON CONFLICT (user_id) DO UPDATE SET updated_at = excluded.updated_at
         RETURNING last_seq`,
        [userId, at],
      );
      let seq = Number(feed!.last_seq);
      const event = await change(tx);
      const [counts] = await tx.query<InboxCounts>(COUNTS, [userId]);
      if (!event) return { counts: counts!, seq, changed: false };
      seq += 1;
      const { type, ...payload } = event;
      await tx.query(
        `WITH feed AS (UPDATE inbox_feeds SET last_seq = $2 WHERE user_id = $1)
         INSERT INTO inbox_events (user_id, seq, type, payload, at) VALUES ($1, $2, $3, $4::jsonb, ${TS('$5')})`,
        [userId, seq, type, JSON.stringify({ ...payload, counts }), at],
      );
      await tx.query(`SELECT pg_notify($1, $2)`, [INBOX_CHANNEL, userId]);
      return { counts: counts!, seq, changed: true };
    });
    if (result.changed) wakeLocalStreams(userId);
    return result;
  }

  return {
    /**
     * The `inbox` channel's delivery: the item for this delivery's notification, once (unique per notification: a
     * retried activity, or a second delivery row after a re-drive, finds it there and answers it again).
     */
    async deliver({ deliveryId, at }: InboxDeliveryInput): Promise<InboxDeliveryResult> {
      const [row] = await sql.query<{
        notification_id: string;
        user_id: string;
        template_id: string;
        category: string | null;
        content: unknown;
        user_exists: boolean;
        existing: string | null;
      }>(
        `SELECT d.notification_id, n.user_id, n.template_id, n.category, d.content,
                EXISTS (SELECT 1 FROM users u WHERE u.id = n.user_id) AS user_exists,
                (SELECT i.id FROM inbox_items i WHERE i.notification_id = d.notification_id) AS existing
           FROM deliveries d JOIN notifications n ON n.id = d.notification_id
          WHERE d.id = $1`,
        [deliveryId],
      );
      if (!row) return { outcome: 'gone', reason: `delivery ${deliveryId} not found` };
      if (row.existing) return { outcome: 'delivered', itemId: row.existing };
      if (!row.user_exists) return { outcome: 'gone', reason: 'user was erased' };
      const content = json(row.content) as {
        title: string;
        body: string;
        url?: string;
        actions?: unknown[];
        data?: Record<string, string>;
      } | null;
      if (!content) return { outcome: 'gone', reason: 'delivery content was erased' };
      const id = newInboxItemId();
      let itemId = id;
      await mutate(row.user_id, at, async (tx) => {
        const [item] = await tx.query<{ item: InboxItem | string }>(
          `INSERT INTO inbox_items (id, user_id, notification_id, delivery_id, template_id, category, title, body, url,
                                    actions, data, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, ${TS('$12')}, ${TS('$12')})
           ON CONFLICT (notification_id) DO NOTHING
           RETURNING ${ITEM_JSON('inbox_items')} AS item`,
          [
            id,
            row.user_id,
            row.notification_id,
            deliveryId,
            row.template_id,
            row.category,
            content.title,
            content.body,
            content.url ?? null,
            content.actions ? JSON.stringify(content.actions) : null,
            content.data ? JSON.stringify(content.data) : null,
            at,
          ],
        );
        if (!item) {
          const [other] = await tx.query<{ id: string }>(`SELECT id FROM inbox_items WHERE notification_id = $1`, [
            row.notification_id,
          ]);
          if (other) itemId = other.id;
          return null;
        }
        return { type: 'item.created', item: json(item.item) };
      });
      return { outcome: 'delivered', itemId };
    },

    /** A page of the feed, newest first, with the counts and the feed's last event number from the same snapshot. */
    async list(
      userId: string,
      filter: InboxFilter,
      page: { limit: number; after?: { at: number; id: string } },
    ): Promise<{ items: InboxItem[]; hasMore: boolean; counts: InboxCounts; seq: number }> {
      const f = filterSql(filter, 3);
      const params: unknown[] = [userId, page.limit + 1, ...f.params];
      let keyset = '';
      if (page.after) {
        params.push(page.after.at, page.after.id);
        keyset = ` AND (created_at, id) < (${TS(`$${params.length - 1}`)}, $${params.length}::text)`;
      }
      // One statement, one snapshot: the counts and the page agree.
      const [row] = await sql.query<{ items: InboxItem[] | string; counts: InboxCounts | string; seq: string | null }>(
        `WITH page AS (
           SELECT * FROM inbox_items WHERE user_id = $1${f.sql}${keyset}
            ORDER BY created_at DESC, id DESC LIMIT $2
         ), c AS (${COUNTS})
         SELECT (SELECT coalesce(json_agg(${ITEM_JSON('page')} ORDER BY page.created_at DESC, page.id DESC), '[]'::json)
                   FROM page) AS items,
                (SELECT row_to_json(c) FROM c) AS counts,
                (SELECT last_seq FROM inbox_feeds WHERE user_id = $1) AS seq`,
        params,
      );
      const items = json(row!.items);
      const hasMore = items.length > page.limit;
      return {
        items: hasMore ? items.slice(0, page.limit) : items,
        hasMore,
        counts: json(row!.counts),
        seq: Number(row!.seq ?? 0),
      };
    },

    async counts(userId: string): Promise<{ counts: InboxCounts; seq: number }> {
      const [row] = await sql.query<{ counts: InboxCounts | string; seq: string | null }>(
        `WITH c AS (${COUNTS})
         SELECT (SELECT row_to_json(c) FROM c) AS counts,
                (SELECT last_seq FROM inbox_feeds WHERE user_id = $1) AS seq`,
        [userId],
      );
      return { counts: json(row!.counts), seq: Number(row!.seq ?? 0) };
    },

    async item(userId: string, id: string): Promise<InboxItem | null> {
      const [row] = await sql.query<{ item: InboxItem | string }>(
        `SELECT ${ITEM_JSON('inbox_items')} AS item FROM inbox_items WHERE user_id = $1 AND id = $2`,
        [userId, id],
      );
      return row ? json(row.item) : null;
    },

    /**
     * Applies `action` to the user's items named by `ids`, or to all of them matching `filter`. Answers how many
     * items changed and the counts after the change.
     */
    async apply(
      userId: string,
      action: InboxAction,
      target: { ids: string[] } | { all: true; filter: InboxFilter },
      at: number,
    ): Promise<{ changed: string[]; counts: InboxCounts; seq: number }> {
      let changed: string[] = [];
      const result = await mutate(userId, at, async (tx) => {
        let rows: { id: string; delivery_id: string | null }[];
        if ('ids' in target) {
          rows = await tx.query(changeSql(action, 'AND id = ANY($3::text[])'), [userId, at, target.ids]);
        } else {
          const f = filterSql(target.filter, 3);
          rows = await tx.query(changeSql(action, f.sql), [userId, at, ...f.params]);
        }
        if (rows.length === 0) return null;
        changed = rows.map((r) => r.id);
        if (action === 'read') await tx.query(RECORD_OPENED, [changed, at]);
        return { type: 'items.updated', change: action, ids: changed };
      });
      return { changed, counts: result.counts, seq: result.seq };
    },

    /** An action (or the item itself, `action` undefined) clicked: a `clicked` event; answers where it leads. */
    async click(
      userId: string,
      id: string,
      action: number | undefined,
      at: number,
    ): Promise<{ url: string | null } | null> {
      const item = await this.item(userId, id);
      if (!item) return null;
      const url = action === undefined ? item.url : (item.actions[action]?.url ?? undefined);
      if (url === undefined) return { url: null };
      // The first click of the item is counted (statistics); repeats change nothing.
      await sql.query(
        `INSERT INTO tracking_events (id, notification_id, delivery_id, type, channel, template_id, category, source, at,
                                      metadata, counted, dedupe_key, source_event_id)
         SELECT 'tev_' || replace(gen_random_uuid()::text, '-', ''), i.notification_id, i.delivery_id, 'clicked',
                'inbox', n.template_id, n.category, 'api', ${TS('$3')}, $4::jsonb, true, i.delivery_id || ':clicked', NULL
           FROM inbox_items i JOIN notifications n ON n.id = i.notification_id
          WHERE i.user_id = $1 AND i.id = $2 AND i.delivery_id IS NOT NULL
         ON CONFLICT DO NOTHING`,
        [userId, id, at, JSON.stringify({ url, ...(action !== undefined ? { action } : {}) })],
      );
      return { url };
    },

    /**
     * The events after `seq`, oldest first (at most `limit`); `gap` when events after `seq` were purged (the client
     * reloads the feed).
     */
    async eventsAfter(userId: string, seq: number, limit = 500): Promise<{ events: InboxEvent[]; gap: boolean }> {
      const rows = await sql.query<{ seq: string; type: InboxEvent['type']; payload: InboxEvent['payload'] | string }>(
        `SELECT seq, type, payload FROM inbox_events WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [userId, seq, limit],
      );
      const events = rows.map((r) => ({ seq: Number(r.seq), type: r.type, payload: json(r.payload) }));
      const gap = events.length > 0 && events[0]!.seq !== seq + 1;
      return { events, gap };
    },

    /**
     * Retention: items older than `before` (epoch ms) are deleted — through the feed's own change path, so open
     * streams see them go and the counts stay the server's — and stream events older than it too.
     */
    async purge(before: number, now = Date.now()): Promise<{ items: number; events: number }> {
      let items = 0;
      for (;;) {
        const users = await sql.query<{ user_id: string }>(
          `SELECT DISTINCT user_id FROM inbox_items WHERE created_at < ${TS('$1')} LIMIT 500`,
          [before],
        );
        if (users.length === 0) break;
        for (const { user_id: userId } of users) {
          await mutate(userId, now, async (tx) => {
            const rows = await tx.query<{ id: string }>(
              `DELETE FROM inbox_items WHERE user_id = $1 AND created_at < ${TS('$2')} RETURNING id`,
              [userId, before],
            );
            items += rows.length;
            return rows.length > 0 ? { type: 'items.updated', change: 'delete', ids: rows.map((r) => r.id) } : null;
          });
        }
      }
      const events = await sql.query(`DELETE FROM inbox_events WHERE at < ${TS('$1')} RETURNING 1`, [before]);
      return { items, events: events.length };
    },
  };
}
export type InboxStore = ReturnType<typeof createInboxStore>;
