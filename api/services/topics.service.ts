import { decodeCursor, encodeCursor, fetchAudiencePage, countAudience } from '../../domain/campaigns/audience';
import type { Db } from '../../platform/db';
import type {
  Audience,
  AudiencePreviewResult,
  SubscriberStatus,
  TopicSubscribeResult,
  TopicSubscribersPage,
  TopicUnsubscribeResult,
} from '../../contract/schemas';
import { HttpError, notFound } from '../errors';

type TopicRow = { key: string; name: string | null; createdAt: Date; updatedAt: Date };

const toTopicView = (topic: TopicRow, subscriberCount: number) => ({
  key: topic.key,
  name: topic.name,
  subscriberCount,
  createdAt: topic.createdAt.toISOString(),
  updatedAt: topic.updatedAt.toISOString(),
});

function cursorOf(value: string | undefined): string | null {
  try {
    return decodeCursor(value);
  } catch {
    throw new HttpError(400, 'invalid_cursor', 'cursor is not one this API returned');
  }
}

/** Topics (named lists of users) and audience previews. */
export function createTopicService(db: Db) {
  async function requireTopic(key: string) {
    const topic = await db.topic.findUnique({ where: { key } });
    if (!topic) throw notFound('topic', key);
    return topic;
  }
  const count = (key: string) => db.topicSubscription.count({ where: { topicKey: key } });

  return {
    async upsert(key: string, input: { name?: string | null }) {
      const existed = await db.topic.findUnique({ where: { key }, select: { key: true } });
      const fields = input.name !== undefined ? { name: input.name } : {};
      const topic = await db.topic.upsert({ where: { key }, create: { key, ...fields }, update: fields });
      return { topic: toTopicView(topic, existed ? await count(key) : 0), created: !existed };
    },

    async get(key: string) {
      const topic = await requireTopic(key);
      return toTopicView(topic, await count(key));
    },

    async remove(key: string) {
      await requireTopic(key);
      await db.topic.delete({ where: { key } });
    },

    /** Adds up to 1,000 users in a few statements; one result per distinct user id, in the order given. */
    async subscribe(key: string, userIds: string[]): Promise<TopicSubscribeResult> {
      await requireTopic(key);
      const ids = [...new Set(userIds)];
      const [users, subscribed] = await Promise.all([
        db.user.findMany({ where: { id: { in: ids } }, select: { id: true } }),
        db.topicSubscription.findMany({ where: { topicKey: key, userId: { in: ids } }, select: { userId: true } }),
      ]);
      const known = new Set(users.map((u) => u.id));
      const already = new Set(subscribed.map((s) => s.userId));
      const adding = ids.filter((id) => known.has(id) && !already.has(id));
      // skipDuplicates: a concurrent request adding the same user is not an error.
      await db.topicSubscription.createMany({
        data: adding.map((userId) => ({ topicKey: key, userId })),
        skipDuplicates: true,
      });
      const results = ids.map((userId) => ({
        userId,
        status: (!known.has(userId)
          ? 'user_not_found'
          : already.has(userId)
            ? 'already_subscribed'
            : 'subscribed') as SubscriberStatus,
      }));
      return { results, subscribed: adding.length };
    },

    async unsubscribe(key: string, userIds: string[]): Promise<TopicUnsubscribeResult> {
      await requireTopic(key);
      const ids = [...new Set(userIds)];
      const subscribed = await db.topicSubscription.findMany({
        where: { topicKey: key, userId: { in: ids } },
        select: { userId: true },
      });
      const present = new Set(subscribed.map((s) => s.userId));
      await db.topicSubscription.deleteMany({ where: { topicKey: key, userId: { in: [...present] } } });
      const results = ids.map((userId) => ({
        userId,
        status: (present.has(userId) ? 'unsubscribed' : 'not_subscribed') as SubscriberStatus,
      }));
      return { results, unsubscribed: present.size };
    },

    /** A page of subscribers in user id order; `nextCursor` is null on the last page. */
    async listSubscribers(key: string, cursor: string | undefined, limit: number): Promise<TopicSubscribersPage> {
      await requireTopic(key);
      const after = cursorOf(cursor);
      const rows = await db.topicSubscription.findMany({
        where: { topicKey: key, ...(after !== null ? { userId: { gt: after } } : {}) },
        orderBy: { userId: 'asc' },
        take: limit,
        select: { userId: true, createdAt: true },
      });
      const last = rows.at(-1);
      return {
        subscribers: rows.map((r) => ({ userId: r.userId, subscribedAt: r.createdAt.toISOString() })),
        nextCursor: rows.length === limit && last ? encodeCursor(last.userId) : null,
      };
    },

    /** Who an audience reaches: its size and one page of user ids, with the same keyset the campaign runs use. */
    async previewAudience(
      audience: Audience,
      cursor: string | undefined,
      limit: number,
    ): Promise<AudiencePreviewResult> {
      if ('topic' in audience) await requireTopic(audience.topic);
      const [size, userIds] = await Promise.all([
        countAudience(db, audience),
        fetchAudiencePage(db, audience, cursorOf(cursor), limit),
      ]);
      const last = userIds.at(-1);
      return { size, userIds, nextCursor: userIds.length === limit && last ? encodeCursor(last) : null };
    },
  };
}
export type TopicService = ReturnType<typeof createTopicService>;
