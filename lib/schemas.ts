/**
 * Herald's input and output shapes, once: the API validates with them, /openapi.json is generated from them, the
 * client SDK infers its types from them, and the activities read stored JSON through them.
 */
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { z } from 'zod';
import { digestPreferenceSchema, digestSchema } from './digest/digest.schemas';

export const CHANNELS = ['push', 'sms', 'email'] as const;
export const channelSchema = z.enum(CHANNELS);

export const NOTIFICATION_STATUSES = [
  'accepted',
  'scheduled',
  'sending',
  'delivered',
  'partially_delivered',
  'failed',
  'suppressed',
  'canceled',
  /** Waiting in an open digest batch (docs/digests.md). */
  'batched',
  /** Sent as part of a digest: `digestId` is the notification that carried it. */
  'digested',
] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];
export const TERMINAL_STATUSES: readonly NotificationStatus[] = [
  'delivered',
  'partially_delivered',
  'failed',
  'suppressed',
  'canceled',
  'digested',
];
export const DELIVERY_STATUSES = ['pending', 'sent', 'failed', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Ids that appear in URLs: letters, digits and a few separators; no spaces, no slashes. */
export const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/, 'may contain letters, digits and . _ : @ + - only');

/** The same rule for the keys of a record, which /openapi.json cannot derive from the key schema by itself. */
const idKeys = { propertyNames: { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:@+-]*$' } };

/**
 * Checks the server makes that a JSON Schema pattern cannot state are declared as a `format` with a description; the
 * contract test (test/contract) gives the fuzzer a generator for each (test/contract/schemathesis_hooks.py).
 */
const checked = (format: string, description: string) => ({ format, description });

const jsonObject = z.record(z.string(), z.unknown());

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

function isBcp47(value: string): boolean {
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
}

function ianaTimeZone(message: string) {
  return z
    .string()
    .refine(isIanaTimeZone, message)
    .meta(checked('iana-time-zone', 'An IANA time zone name, e.g. Europe/Paris, or UTC; otherwise 400'));
}

function isIanaTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value.includes('/') || value === 'UTC';
  } catch {
    return false;
  }
}

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

const channelSwitches = z.object({ push: z.boolean(), sms: z.boolean(), email: z.boolean() }).partial().strict();
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24h)');

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

export const categoryInputSchema = z
  .object({
    description: z.string().max(500).optional(),
    critical: z.boolean().default(false),
    channels: channelSwitches.default({}),
    quietHours: z.enum(['respect', 'ignore']).default('respect'),
    /** Batch this category's notifications (ignored when critical); see docs/digests.md. */
    digest: digestSchema.nullable().default(null),
    /** Users may choose immediate, hourly or daily for this category in their preferences (never when critical). */
    allowDigestPreference: z.boolean().default(false),
  })
  .strict()
  .meta({ id: 'CategoryInput' });
export type CategoryInput = z.infer<typeof categoryInputSchema>;

export const categorySchema = categoryInputSchema
  .extend({ name: z.string(), updatedAt: z.string() })
  .meta({ id: 'Category' });

const pushContent = z
  .object({ title: z.string().min(1), body: z.string().min(1), data: z.record(z.string(), z.string()).optional() })
  .strict();
const smsContent = z.object({ body: z.string().min(1) }).strict();
const emailContent = z
  .object({ subject: z.string().min(1), html: z.string().optional(), text: z.string().optional() })
  .strict()
  .refine((value) => value.html !== undefined || value.text !== undefined, 'email needs html or text')
  .meta({ anyOf: [{ required: ['html'] }, { required: ['text'] }] });

export const templateChannelsSchema = z
  .object({ push: pushContent, sms: smsContent, email: emailContent })
  .partial()
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'a template needs at least one channel')
  .meta({ minProperties: 1 });
export type TemplateChannels = z.infer<typeof templateChannelsSchema>;

export const templateInputSchema = z
  .object({
    channels: templateChannelsSchema,
    locales: z
      .record(
        z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'locale keys must be BCP 47 tags'),
        templateChannelsSchema,
      )
      .meta({ propertyNames: { pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$' } })
      .optional(),
  })
  .strict()
  .meta({ id: 'TemplateInput' });
export type TemplateContent = z.infer<typeof templateInputSchema>;

export const templateSchema = templateInputSchema
  .extend({ id: z.string(), version: z.number().int(), updatedAt: z.string() })
  .meta({ id: 'Template' });

/** `{version}` in /v1/templates/{templateId}/versions/{version}. */
export const templateVersionParamSchema = z.coerce.number().int().min(1).max(2_147_483_647);

/** An Idempotency-Key header or an `eventId`: what makes a create safe to repeat. */
export const idempotencyKeySchema = z.string().min(1).max(255);

export const sendNotificationSchema = z
  .object({
    userId: idSchema,
    template: idSchema,
    data: jsonObject.optional(),
    channels: z.array(channelSchema).min(1).optional(),
    category: idSchema.optional(),
    eventId: idempotencyKeySchema
      .meta({
        description:
          'Makes the send safe to repeat; when the Idempotency-Key header is sent too, both must be equal (otherwise 400 idempotency_key_mismatch)',
      })
      .optional(),
    sendAt: z.iso.datetime({ offset: true }).optional(),
    /** If not opened within `afterMinutes`, send on `channel` too (e.g. a push, then an SMS). */
    escalation: z
      .object({
        afterMinutes: z
          .number()
          .positive()
          .max(7 * 24 * 60),
        channel: channelSchema,
      })
      .strict()
      .optional(),
    /** Batch with the user's other events of this template (and key) into one message; see docs/digests.md. */
    digest: digestSchema.optional(),
  })
  .strict()
  .meta({ id: 'SendNotification' });
export type SendNotificationInput = z.infer<typeof sendNotificationSchema>;

export const deliverySchema = z
  .object({
    id: z.string(),
    channel: channelSchema,
    provider: z.string(),
    target: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    providerMessageId: z.string().optional(),
    error: z.string().optional(),
    at: z.string(),
  })
  .meta({ id: 'Delivery' });

export const TRACKING_EVENT_TYPES = [
  'sent',
  'delivered',
  'failed',
  'opened',
  'clicked',
  'converted',
  'unsubscribed',
] as const;

export const trackingEventSchema = z
  .object({
    id: z.string(),
    type: z.enum(TRACKING_EVENT_TYPES),
    channel: channelSchema.nullable(),
    deliveryId: z.string().nullable(),
    source: z.string(),
    at: z.string(),
    counted: z.boolean(),
    metadata: jsonObject.nullable(),
  })
  .meta({ id: 'TrackingEvent' });
export type TrackingEventView = z.infer<typeof trackingEventSchema>;

export const notificationSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    template: z.string(),
    templateVersion: z.number().int().nullable(),
    category: z.string().nullable(),
    status: z.enum(NOTIFICATION_STATUSES),
    eventId: z.string(),
    sendAt: z.string().nullable(),
    heldUntil: z.string().nullable(),
    holdReason: z.string().nullable(),
    error: z.string().optional(),
    campaignRunId: z.string().optional(),
    /** Set once the notification went out in a digest (status `digested`): the notification that carried it. */
    digestId: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    deliveries: z.array(deliverySchema),
    /** The timeline after sending: sent, delivered, failed, opened, clicked, converted, unsubscribed. */
    events: z.array(trackingEventSchema),
  })
  .meta({ id: 'Notification' });
export type NotificationView = z.infer<typeof notificationSchema>;

export const acceptedSchema = z
  .object({ id: z.string(), status: z.enum(NOTIFICATION_STATUSES) })
  .meta({ id: 'NotificationAccepted' });

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .meta({ id: 'Error' });

const localeTag = z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 tag, e.g. en-US');

export const templatePreviewInputSchema = z
  .object({
    /** Sample data, as `data` of POST /v1/notifications. */
    data: jsonObject.optional(),
    /** Preview for this locale (fallback `ko-KR` → `ko` → default); defaults to the user's. */
    locale: localeTag.optional(),
    /** A stored user whose `user.*` variables (and locale) the preview uses. */
    userId: idSchema.optional(),
    /** A past version; defaults to the current one. */
    version: z.number().int().min(1).max(2_147_483_647).optional(),
    /** Unsaved content to preview instead of a stored version (an editor's live preview); nothing is stored. */
    draft: templateInputSchema.optional(),
    /** Preview a digest: `data` as `count` events (the template sees events, count, omitted, distinct). */
    digest: z
      .object({
        count: z.number().int().min(1).max(100).default(3),
        distinct: z
          .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/))
          .max(10)
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((input) => !(input.draft && input.version), { message: 'give draft or version, not both', path: ['draft'] })
  .meta({ id: 'TemplatePreviewInput' });
export type TemplatePreviewInput = z.infer<typeof templatePreviewInputSchema>;

const missingVariable = z.object({ field: z.string(), variable: z.string() });
export const templatePreviewSchema = z
  .object({
    template: z.string(),
    version: z.number().int(),
    locale: z.object({ requested: z.string().nullable(), used: z.string().nullable() }),
    channels: z.object({
      push: z
        .object({
          title: z.string(),
          body: z.string(),
          data: z.record(z.string(), z.string()).optional(),
          payloadBytes: z.object({ apns: z.number().int(), fcm: z.number().int() }),
          limitBytes: z.number().int(),
          fits: z.boolean(),
          missingVariables: z.array(missingVariable),
        })
        .optional(),
      sms: z
        .object({
          body: z.string(),
          encoding: z.enum(['GSM-7', 'UCS-2']),
          characters: z.number().int(),
          units: z.number().int(),
          segments: z.number().int(),
          perSegment: z.number().int(),
          nonGsmCharacters: z.array(z.string()),
          missingVariables: z.array(missingVariable),
        })
        .optional(),
      email: z
        .object({
          subject: z.string(),
          html: z.string().optional(),
          text: z.string().optional(),
          textDerived: z.boolean(),
          missingVariables: z.array(missingVariable),
        })
        .optional(),
    }),
    missingVariables: z.array(z.string()),
  })
  .meta({ id: 'TemplatePreview' });

export const templateVersionsSchema = z
  .object({
    id: z.string(),
    currentVersion: z.number().int(),
    versions: z.array(z.object({ version: z.number().int(), createdAt: z.string(), current: z.boolean() })),
  })
  .meta({ id: 'TemplateVersions' });

export const trackingEventInputSchema = z
  .object({
    notificationId: idSchema,
    type: z.enum(['opened', 'clicked', 'converted']),
    /** The delivery the event is about (push data carries it as `herald_delivery_id`): attributes it to a channel. */
    deliveryId: idSchema.optional(),
    /** When it happened (default: now). */
    at: z.iso.datetime({ offset: true }).optional(),
    metadata: jsonObject
      .refine((value) => JSON.stringify(value).length <= 2048, 'metadata must be at most 2 KB of JSON')
      .optional(),
  })
  .strict()
  .meta({ id: 'TrackingEventInput' });
export type TrackingEventInput = z.infer<typeof trackingEventInputSchema>;

/** What POST /v1/events recorded: `stored` is false for a replay, `counted` true for the first of its kind. */
export const trackingEventResultSchema = z.object({
  notificationId: z.string(),
  deliveryId: z.string().nullable(),
  channel: channelSchema.nullable(),
  type: trackingEventInputSchema.shape.type,
  stored: z.boolean(),
  counted: z.boolean(),
});
export type TrackingEventResult = z.infer<typeof trackingEventResultSchema>;

export const STATS_GROUPS = ['channel', 'template', 'category', 'day'] as const;
export const statsQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    groupBy: z.enum(STATS_GROUPS).optional(),
  })
  .strict()
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['from'] });
export type StatsQuery = z.infer<typeof statsQuerySchema>;

const statsRow = z.object({
  sent: z.number().int(),
  delivered: z.number().int(),
  failed: z.number().int(),
  opened: z.number().int(),
  clicked: z.number().int(),
  converted: z.number().int(),
  rates: z.object({
    delivery: z.number().nullable(),
    failure: z.number().nullable(),
    open: z.number().nullable(),
    click: z.number().nullable(),
    conversion: z.number().nullable(),
  }),
});
export const statsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    groupBy: z.enum(STATS_GROUPS).nullable(),
    totals: statsRow,
    groups: z.array(statsRow.extend({ key: z.string().nullable() })),
  })
  .meta({ id: 'Stats' });
export type StatsView = z.infer<typeof statsSchema>;

/**
 * `?status=a,b`: a comma-separated list of the values, without spaces, as the document's pattern says; a value that
 * is not one of them is refused naming its position (`status.1`).
 */
function commaList<T extends string>(values: readonly [T, ...T[]]) {
  const one = `(${values.join('|')})`;
  return z
    .string()
    .transform((value) => value.split(','))
    .pipe(z.array(z.enum(values)).min(1))
    .meta({ pattern: `^${one}(,${one})*$` });
}

/** A `nextCursor` from a previous page; anything else is a 400 invalid_cursor. */
const cursor = (max: number) =>
  z
    .string()
    .max(max)
    .meta(checked('cursor', 'The nextCursor of a previous page, as returned; anything else is 400 invalid_cursor'));

/** GET /v1/notifications: newest first, keyset-paginated (`cursor` from the previous page's `nextCursor`). */
export const listNotificationsQuerySchema = z
  .object({
    status: commaList(NOTIFICATION_STATUSES).optional(),
    userId: idSchema.optional(),
    template: idSchema.optional(),
    category: idSchema.optional(),
    eventId: idempotencyKeySchema.optional(),
    /** Created at or after `from` and before `to`. */
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    cursor: cursor(200).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/** A notification in a list page: everything but the tracking timeline (GET /v1/notifications/{id} has it). */
export const notificationSummarySchema = notificationSchema.omit({ events: true }).meta({ id: 'NotificationSummary' });
export type NotificationSummary = z.infer<typeof notificationSummarySchema>;

export const notificationPageSchema = z
  .object({ notifications: z.array(notificationSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'NotificationPage' });

/** POST /v1/notifications/retry: re-drive the failed targets of every matching notification (at most `limit`). */
export const bulkRetrySchema = z
  .object({
    status: z
      .union([z.enum(['failed', 'partially_delivered']), z.array(z.enum(['failed', 'partially_delivered'])).min(1)])
      .optional(),
    ids: z.array(idSchema).min(1).max(1000).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    limit: z.number().int().min(1).max(1000).default(500),
  })
  .strict()
  .meta({ id: 'BulkRetryInput' });
export type BulkRetryInput = z.infer<typeof bulkRetrySchema>;

/**
 * A notification a bulk re-drive did not re-drive. `code`: `notification_not_found` (no such id),
 * `not_retryable` (its status is not one re-driven), `not_selected` (created before `since`, or beyond `limit`),
 * or the error code of a re-drive that could not start (`temporal_unavailable`).
 */
export const redriveSkippedSchema = z.object({ id: z.string(), code: z.string(), reason: z.string() });
export type RedriveSkipped = z.infer<typeof redriveSkippedSchema>;

export const redriveResultSchema = z
  .object({
    redriven: z.array(z.object({ id: z.string(), redrive: z.number().int() })),
    skipped: z.array(redriveSkippedSchema),
    more: z.boolean(),
  })
  .meta({ id: 'RedriveResult' });

/** POST /v1/notifications/{id}/retry: re-drive number `redrive` has started. */
export const redriveStartedSchema = z.object({
  id: z.string(),
  status: z.literal('sending'),
  redrive: z.number().int(),
});
export type RedriveStarted = z.infer<typeof redriveStartedSchema>;

/** What an API key may do. `admin` may do everything, including managing keys and reading operations data. */
export const API_KEY_SCOPES = [
  'notifications:send',
  'notifications:read',
  'users:write',
  'users:read',
  'templates:write',
  'templates:read',
  'admin',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const apiKeyInputSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
    /** Requests per minute this key may make (per API replica); absent → unlimited. */
    rateLimitPerMinute: z.number().int().min(1).max(1_000_000).nullish(),
  })
  .strict()
  .meta({ id: 'ApiKeyInput' });
export type ApiKeyInput = z.infer<typeof apiKeyInputSchema>;

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** The secret's first characters, to recognise it. */
    prefix: z.string(),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    rateLimitPerMinute: z.number().int().nullable(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyView = z.infer<typeof apiKeySchema>;

export const apiKeyCreatedSchema = apiKeySchema
  .extend({ key: z.string().describe('The secret: shown only in this response, store it now') })
  .meta({ id: 'ApiKeyCreated' });

export const taskQueueStatsSchema = z
  .object({
    taskQueue: z.string(),
    type: z.enum(['workflow', 'activity']),
    backlogCount: z.number().int(),
    backlogAgeSeconds: z.number(),
    pollers: z.number().int(),
    addRate: z.number(),
    dispatchRate: z.number(),
    rateLimited: z.boolean(),
  })
  .meta({ id: 'TaskQueueStats' });

// ---- Send-at, topics, audiences and campaigns ----

export const rescheduleNotificationSchema = z
  .object({ sendAt: z.iso.datetime({ offset: true }) })
  .strict()
  .meta({ id: 'RescheduleNotification' });

export const topicInputSchema = z
  .object({ name: z.string().max(200).nullish() })
  .strict()
  .meta({ id: 'TopicInput' });

export const topicSchema = z
  .object({
    key: z.string(),
    name: z.string().nullable(),
    subscriberCount: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Topic' });

export const MAX_SUBSCRIBERS_PER_REQUEST = 1000;
export const topicSubscribersInputSchema = z
  .object({ userIds: z.array(idSchema).min(1).max(MAX_SUBSCRIBERS_PER_REQUEST) })
  .strict()
  .meta({ id: 'TopicSubscribersInput' });

export const subscriberResultSchema = z
  .object({
    userId: z.string(),
    status: z.enum(['subscribed', 'already_subscribed', 'unsubscribed', 'not_subscribed', 'user_not_found']),
  })
  .meta({ id: 'SubscriberResult' });
export type SubscriberStatus = z.infer<typeof subscriberResultSchema>['status'];

/** One result per distinct user id, in the order given. */
export const topicSubscribeResultSchema = z.object({
  results: z.array(subscriberResultSchema),
  subscribed: z.number().int(),
});
export type TopicSubscribeResult = z.infer<typeof topicSubscribeResultSchema>;
export const topicUnsubscribeResultSchema = z.object({
  results: z.array(subscriberResultSchema),
  unsubscribed: z.number().int(),
});
export type TopicUnsubscribeResult = z.infer<typeof topicUnsubscribeResultSchema>;

/** Subscribers in user id order; `nextCursor` is null on the last page. */
export const topicSubscribersPageSchema = z.object({
  subscribers: z.array(z.object({ userId: z.string(), subscribedAt: z.string() })),
  nextCursor: z.string().nullable(),
});
export type TopicSubscribersPage = z.infer<typeof topicSubscribersPageSchema>;

export const pageQuerySchema = z
  .object({
    cursor: cursor(512).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

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
