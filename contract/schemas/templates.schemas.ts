import { z } from 'zod';
import { idSchema, jsonObject, localeTag } from './common.schemas';

const pushContent = z
  .object({ title: z.string().min(1), body: z.string().min(1), data: z.record(z.string(), z.string()).optional() })
  .strict();
const smsContent = z.object({ body: z.string().min(1) }).strict();
/** The in-app inbox item: Liquid in every string, like the other channels. */
const inboxContentSchema = z
  .object({
    title: z.string().min(1).max(500),
    body: z.string().min(1).max(5000),
    url: z.string().min(1).max(2000).optional(),
    actions: z
      .array(z.object({ label: z.string().min(1).max(100), url: z.string().min(1).max(2000) }).strict())
      .max(5)
      .optional(),
    data: z.record(z.string(), z.string()).optional(),
  })
  .strict();
const emailContent = z
  .object({ subject: z.string().min(1), html: z.string().optional(), text: z.string().optional() })
  .strict()
  .refine((value) => value.html !== undefined || value.text !== undefined, 'email needs html or text')
  .meta({ anyOf: [{ required: ['html'] }, { required: ['text'] }] });

export const templateChannelsSchema = z
  .object({ push: pushContent, sms: smsContent, email: emailContent, inbox: inboxContentSchema })
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
