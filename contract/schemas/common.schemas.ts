import { z } from 'zod';
import { isTimeZone } from '../time-zone';
import { CHANNELS } from '../channels';

export const channelSchema = z.enum(CHANNELS);

/** Ids that appear in URLs: letters, digits and a few separators; no spaces, no slashes. */
export const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/, 'may contain letters, digits and . _ : @ + - only');

/** The same rule for the keys of a record, which /openapi.json cannot derive from the key schema by itself. */
export const idKeys = { propertyNames: { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:@+-]*$' } };

/**
 * Checks the server makes that a JSON Schema pattern cannot state are declared as a `format` with a description; the
 * contract test (test/contract) gives the fuzzer a generator for each (test/contract/schemathesis_hooks.py).
 */
export const checked = (format: string, description: string) => ({ format, description });

export const jsonObject = z.record(z.string(), z.unknown());

export function isBcp47(value: string): boolean {
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
}

export function ianaTimeZone(message: string) {
  return z
    .string()
    .refine(isIanaTimeZone, message)
    .meta(checked('iana-time-zone', 'An IANA time zone name, e.g. Europe/Paris, or UTC; otherwise 400'));
}

/** A zone the runtime knows, by its IANA name (Area/City) or UTC: not the abbreviations Intl also takes. */
function isIanaTimeZone(value: string): boolean {
  return isTimeZone(value) && (value.includes('/') || value === 'UTC');
}

export const channelSwitches = z
  .object({ push: z.boolean(), sms: z.boolean(), email: z.boolean(), inbox: z.boolean() })
  .partial()
  .strict();
export const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24h)');

/** An Idempotency-Key header or an `eventId`: what makes a create safe to repeat. */
export const idempotencyKeySchema = z.string().min(1).max(255);

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .meta({ id: 'Error' });

export const localeTag = z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 tag, e.g. en-US');

/**
 * `?status=a,b`: a comma-separated list of the values, without spaces, as the document's pattern says; a value that
 * is not one of them is refused naming its position (`status.1`).
 */
export function commaList<T extends string>(values: readonly [T, ...T[]]) {
  const one = `(${values.join('|')})`;
  return z
    .string()
    .transform((value) => value.split(','))
    .pipe(z.array(z.enum(values)).min(1))
    .meta({ pattern: `^${one}(,${one})*$` });
}

/** A `nextCursor` from a previous page; anything else is a 400 invalid_cursor. */
export const cursor = (max: number) =>
  z
    .string()
    .max(max)
    .meta(checked('cursor', 'The nextCursor of a previous page, as returned; anything else is 400 invalid_cursor'));

export const pageQuerySchema = z
  .object({
    cursor: cursor(512).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
