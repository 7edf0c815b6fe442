import { z } from 'zod';
import { idSchema } from './common.schemas';

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
