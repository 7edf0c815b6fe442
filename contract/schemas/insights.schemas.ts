/**
 * The read-only series behind the dashboard's overview (GET /v1/stats/series, GET /v1/ops/providers): the same
 * counted tracking events as /v1/stats, bucketed by time and channel, and the providers' call and failure counts.
 */
import { z } from 'zod';

export const SERIES_BUCKETS = ['hour', 'day'] as const;
const MAX_BUCKETS = 24 * 93;

export const statsSeriesQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    bucket: z.enum(SERIES_BUCKETS).default('hour'),
  })
  .strict()
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['from'] })
  .refine(
    (q) => (Date.parse(q.to) - Date.parse(q.from)) / (q.bucket === 'hour' ? 3_600_000 : 86_400_000) <= MAX_BUCKETS,
    { message: `at most ${MAX_BUCKETS} buckets: choose a shorter range or a larger bucket`, path: ['to'] },
  );
export type StatsSeriesQuery = z.infer<typeof statsSeriesQuerySchema>;

export const statsSeriesSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    bucket: z.enum(SERIES_BUCKETS),
    /** One point per bucket and channel that had events, oldest first; `at` is the bucket's start (UTC). */
    points: z.array(
      z.object({
        at: z.string(),
        channel: z.string().nullable(),
        sent: z.number().int(),
        delivered: z.number().int(),
        failed: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'StatsSeries' });
export type StatsSeries = z.infer<typeof statsSeriesSchema>;

export const providerHealthQuerySchema = z
  .object({ windowMinutes: z.coerce.number().int().min(1).max(1440).default(15) })
  .strict();

export const providerHealthSchema = z
  .object({
    windowMinutes: z.number().int(),
    /** Every provider called in the window: calls, the provider's own failures, and their share. */
    providers: z.array(
      z.object({
        provider: z.string(),
        calls: z.number().int(),
        failures: z.number().int(),
        failureRate: z.number().nullable(),
      }),
    ),
    at: z.string(),
  })
  .meta({ id: 'ProviderHealth' });
export type ProviderHealthView = z.infer<typeof providerHealthSchema>;
