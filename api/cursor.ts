/**
 * Cursors of the lists that are newest first, ordered by (created_at, id): GET /v1/notifications and GET
 * /v1/campaigns. The cursor is the last row's time and id, opaque to callers; the next page is every row strictly
 * after it in that order, so rows created meanwhile never shift a page and rows with the same time are not skipped.
 */
import { HttpError } from './errors';

export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

export function encodeKeysetCursor(row: KeysetPosition): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

export function decodeKeysetCursor(cursor: string): KeysetPosition {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) throw new HttpError(400, 'invalid_cursor', 'cursor is not valid');
  return { createdAt, id };
}

/** The Prisma condition for the rows after `position`, newest first. */
export const olderThan = ({ createdAt, id }: KeysetPosition) => ({
  OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }],
});

/** Newest first, the id breaking ties. */
export const NEWEST_FIRST = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];

/** A page of `limit` rows from a query that asked for `limit + 1`, and the cursor of the next page (null if none). */
export function keysetPage<T extends KeysetPosition>(
  rows: T[],
  limit: number,
): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeKeysetCursor(last) : null };
}
