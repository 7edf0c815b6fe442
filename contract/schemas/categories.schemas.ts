import { z } from 'zod';
import { channelSwitches } from './common.schemas';
import { digestSchema } from './digest.schemas';

export const categoryInputSchema = z
  .object({
    description: z.string().max(500).optional(),
    critical: z.boolean().default(false),
    channels: channelSwitches.default({}),
    quietHours: z.enum(['respect', 'ignore']).default('respect'),
    /** Batch this category's notifications (ignored when critical); see docs/digests.md. */
    digest: z.union([digestSchema, z.null()]).default(null),
    /** Users may choose immediate, hourly or daily for this category in their preferences (never when critical). */
    allowDigestPreference: z.boolean().default(false),
  })
  .strict()
  .meta({ id: 'CategoryInput' });
export type CategoryInput = z.infer<typeof categoryInputSchema>;

export const categorySchema = categoryInputSchema
  .extend({ name: z.string(), updatedAt: z.string() })
  .meta({ id: 'Category' });
