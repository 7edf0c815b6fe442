/**
 * GET /v1/stats: sent, delivered, failed, opened, clicked and converted over a time range, optionally grouped, in one
 * aggregate query. It reads only counted events (the first of each type per delivery) through the index
 * `tracking_events_stats_idx (counted, at, type, channel, template_id, category, source)`: the range is one index
 * range and every column it needs is in the index, so PostgreSQL answers with an index-only scan and one hash
 * aggregate however large the table grows. docs/templates-and-tracking.md shows the plan.
 */
import type { Db } from '../../platform/db';
import { Prisma } from '../../platform/db';
import type { StatsQuery, StatsView } from '../../contract/schemas';

const GROUP_KEYS: Record<NonNullable<StatsQuery['groupBy']>, Prisma.Sql> = {
  channel: Prisma.sql`channel`,
  template: Prisma.sql`template_id`,
  category: Prisma.sql`category`,
  // `at` is stored in UTC: days are UTC days. The migration keeps statistics on this very expression, so PostgreSQL
  // knows there are few days and hashes instead of sorting every row.
  day: Prisma.sql`date_trunc('day', at)`,
};

interface Counts {
  sent: number;
  delivered: number;
  failed: number;
  /** Failures Herald recorded itself: deliveries that never reached `sent` (the rest are bounces after sending). */
  failedUnsent: number;
  opened: number;
  clicked: number;
  converted: number;
}

type Row = { key: string | Date | null } & { [K in keyof Counts]: bigint | number };

export function statsQuery(range: { from: string; to: string }, groupBy?: StatsQuery['groupBy']): Prisma.Sql {
  const key = groupBy ? GROUP_KEYS[groupBy] : Prisma.sql`NULL::text`;
  return Prisma.sql`
    SELECT ${key} AS key,
           count(*) FILTER (WHERE type = 'sent') AS sent,
           count(*) FILTER (WHERE type = 'delivered') AS delivered,
           count(*) FILTER (WHERE type = 'failed') AS failed,
           count(*) FILTER (WHERE type = 'failed' AND source = 'herald') AS "failedUnsent",
           count(*) FILTER (WHERE type = 'opened') AS opened,
           count(*) FILTER (WHERE type = 'clicked') AS clicked,
           count(*) FILTER (WHERE type = 'converted') AS converted
      FROM tracking_events
     WHERE counted
       AND at >= (${range.from}::timestamptz AT TIME ZONE 'UTC')
       AND at < (${range.to}::timestamptz AT TIME ZONE 'UTC')
     ${groupBy ? Prisma.sql`GROUP BY 1 ORDER BY 1 NULLS LAST` : Prisma.empty}`;
}

const ratio = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);

function withRates(c: Counts) {
  return {
    sent: c.sent,
    delivered: c.delivered,
    failed: c.failed,
    opened: c.opened,
    clicked: c.clicked,
    converted: c.converted,
    rates: {
      delivery: ratio(c.delivered, c.sent),
      // Out of every delivery Herald attempted: those accepted by a provider plus those that never were.
      failure: ratio(c.failed, c.sent + c.failedUnsent),
      open: ratio(c.opened, c.delivered),
      click: ratio(c.clicked, c.delivered),
      conversion: ratio(c.converted, c.sent),
    },
  };
}

export function createStatsService(db: Db) {
  return {
    async get(query: StatsQuery): Promise<StatsView> {
      const range = { from: new Date(query.from).toISOString(), to: new Date(query.to).toISOString() };
      const rows = await db.$queryRaw<Row[]>(statsQuery(range, query.groupBy));
      const counts = rows.map((row) => ({
        key: row.key instanceof Date ? row.key.toISOString().slice(0, 10) : row.key,
        sent: Number(row.sent),
        delivered: Number(row.delivered),
        failed: Number(row.failed),
        failedUnsent: Number(row.failedUnsent),
        opened: Number(row.opened),
        clicked: Number(row.clicked),
        converted: Number(row.converted),
      }));
      // Every counted event falls in exactly one group, so the totals are the groups' sums.
      const totals = counts.reduce(
        (sum, c) => ({
          sent: sum.sent + c.sent,
          delivered: sum.delivered + c.delivered,
          failed: sum.failed + c.failed,
          failedUnsent: sum.failedUnsent + c.failedUnsent,
          opened: sum.opened + c.opened,
          clicked: sum.clicked + c.clicked,
          converted: sum.converted + c.converted,
        }),
        { sent: 0, delivered: 0, failed: 0, failedUnsent: 0, opened: 0, clicked: 0, converted: 0 },
      );
      return {
        from: range.from,
        to: range.to,
        groupBy: query.groupBy ?? null,
        totals: withRates(totals),
        groups: query.groupBy ? counts.map((c) => ({ key: c.key, ...withRates(c) })) : [],
      };
    },
  };
}
export type StatsService = ReturnType<typeof createStatsService>;
