import { z } from 'zod';
import {
  channelSchema,
  checked,
  commaList,
  cursor,
  ianaTimeZone,
  idSchema,
  jsonObject,
  localeTag,
  pageQuerySchema,
} from './common.schemas';

/**
 * A filter over user attributes; every condition given must hold (AND). Executed in SQL, page by page.
 * - `locale`: a tag or a list of tags; `ko` matches `ko` and `ko-KR` (case-insensitive).
 * - `timezone`: an IANA zone or a list of them, exact.
 * - `hasEmail`, `hasPhone`, `hasDevice` (an active push device): true or false.
 * - `data`: JSON containment on the user's `data` (`{plan: "pro"}` matches users whose data has plan "pro").
 * - `subscribedTo`: a topic key.
 * - `createdAfter`, `createdBefore`: ISO times (the user record's creation).
 */
export const audienceFilterSchema = z
  .object({
    locale: z.union([localeTag, z.array(localeTag).min(1).max(50)]),
    timezone: z.union([z.string().min(1).max(64), z.array(z.string().min(1).max(64)).min(1).max(50)]),
    hasEmail: z.boolean(),
    hasPhone: z.boolean(),
    hasDevice: z.boolean(),
    data: z
      .record(z.string().min(1).max(64), z.unknown())
      .meta({ propertyNames: { minLength: 1, maxLength: 64 }, minProperties: 1 })
      .refine((value) => Object.keys(value).length > 0, 'data needs at least one key')
      .refine((value) => JSON.stringify(value).length <= 4096, 'data filter is larger than 4 KB'),
    subscribedTo: idSchema,
    createdAfter: z.iso.datetime({ offset: true }),
    createdBefore: z.iso.datetime({ offset: true }),
  })
  .partial()
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'a filter needs at least one condition')
  .meta({ id: 'AudienceFilter', minProperties: 1 });
export type AudienceFilter = z.infer<typeof audienceFilterSchema>;

export const MAX_AUDIENCE_USER_IDS = 10_000;
/** Who a campaign goes to: the subscribers of a topic, a list of user ids, or a filter over user attributes. */
export const audienceSchema = z
  .union([
    z.object({ topic: idSchema }).strict(),
    z.object({ userIds: z.array(idSchema).min(1).max(MAX_AUDIENCE_USER_IDS) }).strict(),
    z.object({ filter: audienceFilterSchema }).strict(),
  ])
  .meta({ id: 'Audience' });
export type Audience = z.infer<typeof audienceSchema>;

export const audiencePreviewSchema = z
  .object({
    audience: audienceSchema,
    cursor: cursor(512).optional(),
    limit: z.number().int().min(1).max(1000).default(100),
  })
  .strict()
  .meta({ id: 'AudiencePreview' });

export const audiencePreviewResultSchema = z.object({
  size: z.number().int(),
  userIds: z.array(z.string()),
  nextCursor: z.string().nullable(),
});
export type AudiencePreviewResult = z.infer<typeof audiencePreviewResultSchema>;

/** Five fields (minute hour day-of-month month day-of-week), six (+ year) or seven (second first, + year). */
const cronSchema = z
  .string()
  .trim()
  .refine((value) => {
    if (/^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(value)) return true;
    const fields = value.split(/\s+/);
    return fields.length >= 5 && fields.length <= 7 && fields.every((f) => /^[A-Za-z0-9*?/,#LW-]+$/.test(f));
  }, 'must be a cron expression such as "0 9 * * MON" (5 fields; 7 with seconds first and a year last)')
  .meta(checked('cron', 'A cron expression such as "0 9 * * MON", or @daily, @weekly...; otherwise 400'));

export const campaignScheduleSchema = z
  .union([
    z
      .object({
        at: z.iso
          .datetime({ offset: true })
          .meta({ description: 'Once, at this time, which must be in the future (otherwise 400 schedule_in_past)' }),
      })
      .strict(),
    z
      .object({
        cron: cronSchema,
        timezone: ianaTimeZone('must be an IANA time zone, e.g. Asia/Seoul').default('UTC'),
      })
      .strict(),
  ])
  .meta({ id: 'CampaignSchedule' });
export type CampaignSchedule = z.infer<typeof campaignScheduleSchema>;

/** How hard a run pushes: recipients per page, and the most notifications of the run in flight at once. */
export const campaignPacingSchema = z
  .object({
    pageSize: z.number().int().min(10).max(1000),
    maxInFlight: z.number().int().min(10).max(1000),
  })
  .partial()
  .strict()
  .refine((p) => p.pageSize === undefined || p.maxInFlight === undefined || p.pageSize <= p.maxInFlight, {
    message: 'pageSize cannot exceed maxInFlight',
  })
  .meta({ id: 'CampaignPacing' });
export type CampaignPacing = z.infer<typeof campaignPacingSchema>;

export const campaignInputSchema = z
  .object({
    name: z.string().min(1).max(200),
    template: idSchema,
    category: idSchema.optional(),
    audience: audienceSchema,
    data: jsonObject.optional(),
    channels: z.array(channelSchema).min(1).optional(),
    schedule: campaignScheduleSchema,
    pacing: campaignPacingSchema.optional(),
  })
  .strict()
  .meta({ id: 'CampaignInput' });
export type CampaignInput = z.infer<typeof campaignInputSchema>;

export const CAMPAIGN_STATUSES = ['active', 'paused', 'deleted'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
export const campaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    template: z.string(),
    category: z.string().nullable(),
    audience: audienceSchema,
    data: jsonObject,
    channels: z.array(channelSchema),
    schedule: campaignScheduleSchema,
    pacing: campaignPacingSchema,
    status: z.enum(CAMPAIGN_STATUSES),
    scheduleId: z.string(),
    nextRunAt: z.array(z.string()).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Campaign' });

export const CAMPAIGN_RUN_STATUSES = ['running', 'canceling', 'completed', 'canceled', 'failed'] as const;
export type CampaignRunStatus = (typeof CAMPAIGN_RUN_STATUSES)[number];
export const campaignRunSchema = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    status: z.enum(CAMPAIGN_RUN_STATUSES),
    audienceSize: z.number().int(),
    started: z.number().int(),
    delivered: z.number().int(),
    failed: z.number().int(),
    suppressed: z.number().int(),
    canceled: z.number().int(),
    skipped: z.number().int(),
    inFlight: z.number().int(),
    percentComplete: z.number(),
    recipientsPerSecond: z.number().nullable(),
    estimatedSecondsRemaining: z.number().nullable(),
    error: z.string().nullable(),
    startedAt: z.string(),
    dispatchedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'CampaignRun' });
export type CampaignRunView = z.infer<typeof campaignRunSchema>;

export const campaignTriggeredSchema = z.object({ campaignId: z.string(), triggered: z.boolean() });
export type CampaignTriggered = z.infer<typeof campaignTriggeredSchema>;

/**
 * GET /v1/campaigns: newest first, keyset-paginated like GET /v1/notifications. Deleted campaigns are left out unless
 * `status` names `deleted`.
 */
export const listCampaignsQuerySchema = z
  .object({
    status: commaList(CAMPAIGN_STATUSES).optional(),
    cursor: cursor(200).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/** Newest first; `nextCursor` is null on the last page. Items leave out `nextRunAt` (GET /v1/campaigns/{id} has it). */
export const campaignPageSchema = z
  .object({ campaigns: z.array(campaignSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'CampaignPage' });
export type CampaignPage = z.infer<typeof campaignPageSchema>;

export const MAX_CAMPAIGN_RUNS_PER_PAGE = 100;
/** GET /v1/campaigns/{id}/runs: a run's progress sums its counter rows, so pages are smaller than other lists'. */
export const campaignRunsQuerySchema = pageQuerySchema.extend({
  limit: z.coerce.number().int().min(1).max(MAX_CAMPAIGN_RUNS_PER_PAGE).default(MAX_CAMPAIGN_RUNS_PER_PAGE),
});

/** Newest first; `nextCursor` is null on the last page. */
export const campaignRunPageSchema = z.object({ runs: z.array(campaignRunSchema), nextCursor: z.string().nullable() });
export type CampaignRunPage = z.infer<typeof campaignRunPageSchema>;
