/**
 * Audiences in SQL: a topic's subscribers, a list of user ids, or a filter over user attributes. Read page by page
 * with a keyset cursor (ORDER BY user id, WHERE id > cursor, LIMIT page) so that no caller ever holds a whole
 * audience in memory, however large. Every value reaches the database as a bound parameter.
 */
import { Prisma, type Db } from '../../platform/db';
import type { Audience, AudienceFilter } from '../../contract/schemas';

interface AudienceSql {
  /** The table expression with the user id column aliased as `uid`. */
  from: Prisma.Sql;
  /** The user id column, for the keyset condition and the order. */
  id: Prisma.Sql;
  where: Prisma.Sql[];
}

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

function filterConditions(filter: AudienceFilter): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (filter.locale !== undefined) {
    // `ko` matches `ko` and `ko-KR`. Tags are validated as BCP 47, so they hold no LIKE wildcards.
    const tags = list(filter.locale).map((tag) => tag.toLowerCase());
    where.push(
      Prisma.sql`(${Prisma.join(
        tags.map((tag) => Prisma.sql`(lower(u.locale) = ${tag} OR lower(u.locale) LIKE ${`${tag}-%`})`),
        ' OR ',
      )})`,
    );
  }
  if (filter.timezone !== undefined) where.push(Prisma.sql`u.timezone IN (${Prisma.join(list(filter.timezone))})`);
  if (filter.hasEmail !== undefined) {
    where.push(filter.hasEmail ? Prisma.sql`u.email IS NOT NULL` : Prisma.sql`u.email IS NULL`);
  }
  if (filter.hasPhone !== undefined) {
    where.push(filter.hasPhone ? Prisma.sql`u.phone IS NOT NULL` : Prisma.sql`u.phone IS NULL`);
  }
  if (filter.hasDevice !== undefined) {
    const exists = Prisma.sql`EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.active)`;
    where.push(filter.hasDevice ? exists : Prisma.sql`NOT ${exists}`);
  }
  if (filter.data !== undefined) where.push(Prisma.sql`u.data @> ${JSON.stringify(filter.data)}::jsonb`);
  if (filter.subscribedTo !== undefined) {
    where.push(
      Prisma.sql`EXISTS (SELECT 1 FROM topic_subscriptions s WHERE s.user_id = u.id AND s.topic_key = ${filter.subscribedTo})`,
    );
  }
  if (filter.createdAfter !== undefined) where.push(Prisma.sql`u.created_at > ${new Date(filter.createdAfter)}`);
  if (filter.createdBefore !== undefined) where.push(Prisma.sql`u.created_at < ${new Date(filter.createdBefore)}`);
  return where;
}

function audienceSql(audience: Audience): AudienceSql {
  if ('topic' in audience) {
    // Subscriptions cascade with their user, so every row is a live user; the primary key is the keyset index.
    return {
      from: Prisma.sql`topic_subscriptions s`,
      id: Prisma.sql`s.user_id`,
      where: [Prisma.sql`s.topic_key = ${audience.topic}`],
    };
  }
  if ('userIds' in audience) {
    // One JSON parameter instead of thousands; ids that are not (or no longer) users drop out.
    return {
      from: Prisma.sql`users u`,
      id: Prisma.sql`u.id`,
      where: [Prisma.sql`u.id IN (SELECT jsonb_array_elements_text(${JSON.stringify(audience.userIds)}::jsonb))`],
    };
  }
  return { from: Prisma.sql`users u`, id: Prisma.sql`u.id`, where: filterConditions(audience.filter) };
}

const whereClause = (conditions: Prisma.Sql[]) =>
  conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;

/** The next `limit` user ids after `cursor` (a user id, exclusive), in id order. */
export async function fetchAudiencePage(
  db: Db,
  audience: Audience,
  cursor: string | null,
  limit: number,
): Promise<string[]> {
  const sql = audienceSql(audience);
  const where = cursor === null ? sql.where : [...sql.where, Prisma.sql`${sql.id} > ${cursor}`];
  const rows = await db.$queryRaw<{ uid: string }[]>`
    SELECT ${sql.id} AS uid FROM ${sql.from} ${whereClause(where)} ORDER BY ${sql.id} LIMIT ${limit}`;
  return rows.map((row) => row.uid);
}

/** How many users the audience has right now (one COUNT in SQL). */
export async function countAudience(db: Db, audience: Audience): Promise<number> {
  const sql = audienceSql(audience);
  const rows = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM ${sql.from} ${whereClause(sql.where)}`;
  return Number(rows[0]?.n ?? 0);
}

/** Opaque page cursors for the API: the last id of the page, base64url-encoded. */
export const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
export function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined || cursor === '') return null;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!id || encodeCursor(id) !== cursor) throw new Error('invalid cursor');
  return id;
}
