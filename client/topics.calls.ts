/** Topics (named lists of users) and audience previews: /v1/topics, /v1/audiences/preview. */
import { audiencePreviewSchema, topicInputSchema, topicSubscribersInputSchema } from '../contract/schemas';
import { enc, type NeedHttp } from './http.transport';
import type {
  AudiencePreviewInput,
  AudiencePreviewResult,
  PageOptions,
  Topic,
  TopicInput,
  TopicSubscribeResult,
  TopicSubscribersPage,
  TopicUnsubscribeResult,
} from './types';
import { pageQuery, parse, parseId } from './validate';

export interface TopicCalls {
  /** Creates the topic, or renames it (`name` left out keeps the current one). */
  putTopic(key: string, input?: TopicInput): Promise<Topic>;
  /** The topic and its subscriber count. */
  getTopic(key: string): Promise<Topic>;
  /** Deletes the topic and its subscriptions (a campaign addressed to it then finds no audience). */
  deleteTopic(key: string): Promise<void>;
  /**
   * Subscribes up to 1,000 users: one result per distinct user id, in the order given — `subscribed`,
   * `already_subscribed` or `user_not_found` (unknown users are reported, not thrown).
   */
  subscribeToTopic(key: string, userIds: string[]): Promise<TopicSubscribeResult>;
  /** Unsubscribes up to 1,000 users: `unsubscribed` or `not_subscribed` for each. */
  unsubscribeFromTopic(key: string, userIds: string[]): Promise<TopicUnsubscribeResult>;
  /** Subscribers in user id order, a page at a time (`limit` 1 to 1,000, default 100). */
  listTopicSubscribers(key: string, page?: PageOptions): Promise<TopicSubscribersPage>;
  /**
   * Who an audience (a topic, a list of user ids or a filter over user attributes) reaches: its size and a page of
   * user ids, in the order a campaign run goes through them.
   */
  previewAudience(input: AudiencePreviewInput): Promise<AudiencePreviewResult>;
}

export function topicCalls(http: NeedHttp): TopicCalls {
  const path = (key: string) => `/v1/topics/${enc(key)}`;
  const subscribers = async <T>(call: string, method: string, key: string, userIds: string[]) => {
    const id = parseId(key, 'key');
    const body = parse(topicSubscribersInputSchema, { userIds });
    return (await http(call).request<T>(method, `${path(id)}/subscribers`, { body, id })).body;
  };
  return {
    async putTopic(key, input = {}) {
      const id = parseId(key, 'key');
      const body = parse(topicInputSchema, input);
      return (await http('putTopic').request<Topic>('PUT', path(id), { body, id })).body;
    },
    async getTopic(key) {
      const id = parseId(key, 'key');
      return (await http('getTopic').request<Topic>('GET', path(id), { id })).body;
    },
    async deleteTopic(key) {
      const id = parseId(key, 'key');
      await http('deleteTopic').request('DELETE', path(id), { id });
    },
    subscribeToTopic: (key, userIds) => subscribers<TopicSubscribeResult>('subscribeToTopic', 'PUT', key, userIds),
    unsubscribeFromTopic: (key, userIds) =>
      subscribers<TopicUnsubscribeResult>('unsubscribeFromTopic', 'DELETE', key, userIds),
    async listTopicSubscribers(key, page) {
      const id = parseId(key, 'key');
      const query = pageQuery(page);
      const url = `${path(id)}/subscribers`;
      return (await http('listTopicSubscribers').request<TopicSubscribersPage>('GET', url, { query, id })).body;
    },
    async previewAudience(input) {
      const body = parse(audiencePreviewSchema, input);
      return (await http('previewAudience').request<AudiencePreviewResult>('POST', '/v1/audiences/preview', { body }))
        .body;
    },
  };
}
