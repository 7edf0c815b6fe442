/** Read-only series for the dashboard's overview: volume per channel over time, and the providers' health. */
import { Router } from 'express';
import type { Db } from '../../platform/db';
import { Prisma } from '../../platform/db';
import {
  providerHealthQuerySchema,
  statsSeriesQuerySchema,
  type ProviderHealthView,
  type StatsSeries,
} from '../../contract/schemas/insights.schemas';
import { validationError } from '../errors';
import { statsQuerySchema, statsSchema } from '../../contract/schemas';
import type { OpenApiKit } from '../openapi-kit';

type SeriesRow = { at: Date; channel: string | null; sent: bigint; delivered: bigint; failed: bigint };

export function insightsRoutes(db: Db): Router {
  const router = Router();
  router.get('/stats/series', async (req, res) => {
    const query = statsSeriesQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query');
    const { bucket } = query.data;
    const from = new Date(query.data.from).toISOString();
    const to = new Date(query.data.to).toISOString();
    // The same counted events and index range as GET /v1/stats, one more group key.
    const rows = await db.$queryRaw<SeriesRow[]>(Prisma.sql`
      SELECT date_trunc(${bucket}, at) AS at, channel,
             count(*) FILTER (WHERE type = 'sent') AS sent,
             count(*) FILTER (WHERE type = 'delivered') AS delivered,
             count(*) FILTER (WHERE type = 'failed') AS failed
        FROM tracking_events
       WHERE counted
         AND type IN ('sent', 'delivered', 'failed')
         AND at >= (${from}::timestamptz AT TIME ZONE 'UTC')
         AND at < (${to}::timestamptz AT TIME ZONE 'UTC')
       GROUP BY 1, 2
       ORDER BY 1, 2 NULLS LAST`);
    const body: StatsSeries = {
      from,
      to,
      bucket,
      points: rows.map((row) => ({
        at: row.at.toISOString(),
        channel: row.channel,
        sent: Number(row.sent),
        delivered: Number(row.delivered),
        failed: Number(row.failed),
      })),
    };
    res.json(body);
  });

  router.get('/ops/providers', async (req, res) => {
    const query = providerHealthQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query');
    const now = Date.now();
    // Rows are per provider per minute (activities/provider-health.ts): the window starts at a minute boundary.
    const since = new Date(Math.floor((now - query.data.windowMinutes * 60_000) / 60_000) * 60_000);
    const rows = await db.providerCallStat.groupBy({
      by: ['provider'],
      where: { bucket: { gte: since } },
      _sum: { calls: true, failures: true },
      orderBy: { provider: 'asc' },
    });
    const body: ProviderHealthView = {
      windowMinutes: query.data.windowMinutes,
      providers: rows.map((row) => {
        const calls = row._sum.calls ?? 0;
        const failures = row._sum.failures ?? 0;
        return {
          provider: row.provider,
          calls,
          failures,
          failureRate: calls > 0 ? Math.round((failures / calls) * 10_000) / 10_000 : null,
        };
      }),
      at: new Date(now).toISOString(),
    };
    res.json(body);
  });
  return router;
}

/** This router's operations in /openapi.json (api/openapi.ts assembles the document). */
export function registerInsightsOpenApi({ route, json, errors }: OpenApiKit): void {
  route({
    method: 'get',
    path: '/v1/stats',
    summary: 'Sent, delivered, failed, opened, clicked, converted and their rates over a time range',
    description: '`from` must be before `to` (otherwise 400).',
    request: { query: statsQuerySchema },
    responses: { 200: json(statsSchema, 'Counts and rates'), ...errors },
  });
}
