/**
 * Digests on the wire: the `digest` setting of POST /v1/notifications and PUT /v1/categories/{name}, the per-category
 * user choice, and the resolved settings the digest workflow runs with (plain JSON, durations in milliseconds).
 */
import { z } from 'zod';
import { parseCron } from '../cron';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30s`, `10m`, `2h`, `1d`: one to three digits and a unit, nothing else (the pattern is the whole rule). */
export const DURATION_PATTERN = '^[1-9][0-9]{0,2}[smhd]$';

export function durationMs(value: string): number {
  const unit = value.slice(-1) as keyof typeof UNIT_MS;
  return Number(value.slice(0, -1)) * UNIT_MS[unit];
}

const duration = (description: string) =>
  z.string().regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 30s, 10m, 2h or 1d').meta({ description });

/** Five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly. */
export const digestCronSchema = z
  .string()
  .trim()
  .refine((value) => parseCron(value) !== null, {
    message: 'must be a five-field cron expression such as "0 9 * * *" or "30 8 * * MON-FRI", or @daily, @weekly…',
  })
  .meta({
    format: 'cron',
    description:
      "Send the batch at the next matching minute in the user's time zone (their `timezone`, UTC when unset); five " +
      'fields or @hourly/@daily/@weekly/@monthly/@yearly, otherwise 400',
  });

const common = {
  key: z
    .string()
    .min(1)
    .max(200)
    .meta({ description: 'Events of the same user and template with the same key are batched (default: all of them)' })
    .optional(),
  maxEvents: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .meta({ description: 'Send as soon as this many events are waiting, without waiting for the window' })
    .optional(),
  listed: z
    .number()
    .int()
    .min(1)
    .max(100)
    .meta({ description: 'How many of the first and of the last events the template sees in `events` (default 10)' })
    .optional(),
  distinct: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a field path like actor'))
    .max(10)
    .meta({
      description:
        'Nested fields (e.g. actor.name) whose distinct values the template sees as `distinct["<path>"]`; every ' +
        "top-level field of the events' data is there as `distinct.<field>` without being named",
    })
    .optional(),
};

export const digestSchema = z
  .union([
    z
      .object({
        ...common,
        window: duration('How long a batch collects events, e.g. 10m'),
        mode: z
          .enum(['fixed', 'sliding', 'lookback'])
          .default('fixed')
          .meta({
            description:
              'fixed: the window starts at the first event; sliding: each event restarts it, up to maxWindow from ' +
              'the first; lookback: an event with no digest sent in the last window goes at once, later ones wait ' +
              'for the window',
          }),
        maxWindow: duration(
          'sliding: the longest a batch can be held from its first event (default 10 × window)',
        ).optional(),
      })
      .strict(),
    z.object({ ...common, cron: digestCronSchema }).strict(),
  ])
  .meta({ id: 'Digest' });
export type DigestInput = z.infer<typeof digestSchema>;
/** As a request spells it (mode may be left out). */
export type DigestRequest = z.input<typeof digestSchema>;

/** The per-category choice a user can make where the category allows it (PUT /v1/users/{id}/preferences). */
export const DIGEST_PREFERENCES = ['immediate', 'hourly', 'daily'] as const;
export const digestPreferenceSchema = z.enum(DIGEST_PREFERENCES).meta({
  description:
    'Only where the category has allowDigestPreference: immediate, hourly (a batch an hour) or daily (at 09:00 in ' +
    "the user's time zone). Ignored for critical categories",
});
export type DigestPreference = z.infer<typeof digestPreferenceSchema>;

/** What the digest workflow runs with: plain JSON, durations in ms. */
export interface DigestSettings {
  mode: 'fixed' | 'sliding' | 'lookback' | 'cron';
  windowMs?: number;
  maxWindowMs?: number;
  cron?: string;
  maxEvents?: number;
  listed: number;
  distinct: string[];
}

export const DEFAULT_LISTED = 10;

export function digestSettings(input: DigestInput): { key: string; settings: DigestSettings } {
  const base = { listed: input.listed ?? DEFAULT_LISTED, distinct: input.distinct ?? [] };
  const maxEvents = input.maxEvents !== undefined ? { maxEvents: input.maxEvents } : {};
  if ('cron' in input) {
    return { key: input.key ?? '', settings: { mode: 'cron', cron: input.cron, ...maxEvents, ...base } };
  }
  const windowMs = durationMs(input.window);
  return {
    key: input.key ?? '',
    settings: {
      mode: input.mode,
      windowMs,
      ...(input.mode === 'sliding'
        ? { maxWindowMs: input.maxWindow ? durationMs(input.maxWindow) : windowMs * 10 }
        : {}),
      ...maxEvents,
      ...base,
    },
  };
}

/** A user's choice as a digest: hourly is a fixed hour from the first event, daily is 09:00 in their time zone. */
export function preferenceDigest(choice: DigestPreference): DigestInput | null {
  if (choice === 'hourly') return { window: '1h', mode: 'fixed' };
  if (choice === 'daily') return { cron: '0 9 * * *' };
  return null;
}
