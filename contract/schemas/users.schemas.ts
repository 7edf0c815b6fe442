import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { z } from 'zod';
import { digestPreferenceSchema } from './digest.schemas';
import { channelSwitches, checked, hhmm, ianaTimeZone, idKeys, idSchema, isBcp47, jsonObject } from './common.schemas';

export const userInputSchema = z
  .object({
    // `format: email` alone admits addresses zod refuses (e.g. `a!b@c.dev`): the document states zod's own pattern.
    email: z.email().max(254).meta({ pattern: z.regexes.email.source }).nullish(),
    phone: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'must be E.164, e.g. +14155550100')
      .refine((value) => isValidPhoneNumber(value), 'is not a valid phone number for its country')
      .meta(checked('phone', 'E.164, and a number that exists in its country (libphonenumber); otherwise 400'))
      .nullish(),
    locale: z
      .string()
      .max(35)
      .refine(isBcp47, 'must be a BCP 47 tag, e.g. en-US')
      .meta(checked('bcp47', 'A well-formed BCP 47 language tag, e.g. en-US; otherwise 400'))
      .nullish(),
    timezone: ianaTimeZone('must be an IANA time zone, e.g. Europe/Paris').nullish(),
    name: z.string().max(200).nullish(),
    data: jsonObject.nullish(),
  })
  .strict()
  .meta({ id: 'UserInput' });
export type UserInput = z.infer<typeof userInputSchema>;

export const bulkUsersSchema = z
  .object({
    users: z
      .array(
        z
          .object({ id: z.unknown() })
          .passthrough()
          .meta({ required: ['id'] }),
      )
      .min(1)
      .max(1000, 'at most 1,000 users per request'),
  })
  .strict()
  .meta({ id: 'BulkUsersInput' });

/** One item of POST /v1/users/bulk: each succeeds or fails on its own, and says which by its index in the request. */
export const bulkUserResultSchema = z.discriminatedUnion('status', [
  z.object({ index: z.number().int(), id: z.string(), status: z.enum(['created', 'updated']) }),
  z.object({
    index: z.number().int(),
    /** Null when the item's id was not a string. */
    id: z.string().nullable(),
    status: z.literal('error'),
    error: z.object({ code: z.string(), field: z.string(), message: z.string() }),
  }),
]);
export type BulkUserResult = z.infer<typeof bulkUserResultSchema>;

/** 200 when every item succeeded, 207 when some failed. */
export const bulkUsersResultSchema = z.object({
  succeeded: z.number().int(),
  failed: z.number().int(),
  results: z.array(bulkUserResultSchema),
});
export type BulkUsersResult = z.infer<typeof bulkUsersResultSchema>;

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    locale: z.string().nullable(),
    timezone: z.string().nullable(),
    name: z.string().nullable(),
    data: jsonObject.nullable(),
    /** Set when the address hard-bounced (or was refused as invalid); cleared when the email changes. */
    emailInvalidAt: z.string().nullable(),
    emailInvalidReason: z.string().nullable(),
    /** Set when the number proved undeliverable; cleared when the phone changes. */
    phoneInvalidAt: z.string().nullable(),
    phoneInvalidReason: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'User' });

export const deviceInputSchema = z
  .object({
    platform: z.enum(['ios', 'android', 'web']),
    token: z.string().min(8).max(4096),
    provider: z.enum(['apns', 'fcm']).optional(),
  })
  .strict()
  .meta({ id: 'DeviceInput' });

export const deviceSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    platform: z.enum(['ios', 'android', 'web']),
    provider: z.enum(['apns', 'fcm']),
    active: z.boolean(),
    deactivatedAt: z.string().nullable(),
    deactivationReason: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Device' });

export const preferencesSchema = z
  .object({
    channels: channelSwitches.default({}),
    categories: z
      .record(
        idSchema,
        z
          .object({ enabled: z.boolean(), digest: digestPreferenceSchema })
          .partial()
          .extend(channelSwitches.shape)
          .strict(),
      )
      .meta(idKeys)
      .default({}),
    quietHours: z.object({ start: hhmm, end: hhmm }).strict().nullish(),
  })
  .strict()
  .meta({ id: 'Preferences' });
export type Preferences = z.infer<typeof preferencesSchema>;
