import { z } from 'zod';

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
