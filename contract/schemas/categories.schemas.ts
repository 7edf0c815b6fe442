import { z } from 'zod';
import { channelSwitches } from './common.schemas';

export const categoryInputSchema = z
  .object({
    description: z.string().max(500).optional(),
    critical: z.boolean().default(false),
    channels: channelSwitches.default({}),
    quietHours: z.enum(['respect', 'ignore']).default('respect'),
  })
  .strict()
  .meta({ id: 'CategoryInput' });
export type CategoryInput = z.infer<typeof categoryInputSchema>;

export const categorySchema = categoryInputSchema
  .extend({ name: z.string(), updatedAt: z.string() })
  .meta({ id: 'Category' });
