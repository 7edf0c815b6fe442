/** Listing, re-driving and moving notifications: /v1/notifications beyond send, get and cancel. */
import { bulkRetrySchema, listNotificationsQuerySchema, rescheduleNotificationSchema } from '../contract/schemas';
import { enc, type NeedHttp } from './http.transport';
import type {
  BulkRetryInput,
  Notification,
  NotificationFilter,
  NotificationPage,
  RedriveResult,
  RedriveStarted,
} from './types';
import { parse, parseId } from './validate';

export interface NotificationCalls {
  /**
   * Notifications newest first, a page at a time: pass `nextCursor` as `cursor` for the next page (null on the last).
   * Each has its deliveries; its tracking `events` are only read by `get`.
   */
  listNotifications(filter?: NotificationFilter): Promise<NotificationPage>;
  /**
   * Re-drives the failed targets of a failed or partially delivered notification (delivered ones are not sent again);
   * ConflictError `not_retryable` otherwise.
   */
  retryNotification(notificationId: string): Promise<RedriveStarted>;
  /** Re-drives the failed targets of every matching notification (at most `limit`, default 500; `more` says if any are left). */
  retryNotifications(input: BulkRetryInput): Promise<RedriveResult>;
  /** Moves a notification still waiting for its `sendAt`; ConflictError `not_reschedulable` once it is sending. */
  rescheduleNotification(notificationId: string, sendAt: string): Promise<Notification>;
}

export function notificationCalls(http: NeedHttp): NotificationCalls {
  return {
    async listNotifications(filter = {}) {
      const { status, limit, ...rest } = filter;
      const query = {
        ...rest,
        status: status === undefined ? undefined : [status].flat().join(','),
        limit: limit === undefined ? undefined : String(limit),
      };
      parse(listNotificationsQuerySchema, query);
      return (await http('listNotifications').request<NotificationPage>('GET', '/v1/notifications', { query })).body;
    },
    async retryNotification(notificationId) {
      const id = parseId(notificationId, 'notificationId');
      const path = `/v1/notifications/${enc(id)}/retry`;
      return (await http('retryNotification').request<RedriveStarted>('POST', path, { id })).body;
    },
    async retryNotifications(input) {
      const body = parse(bulkRetrySchema, input);
      return (await http('retryNotifications').request<RedriveResult>('POST', '/v1/notifications/retry', { body }))
        .body;
    },
    async rescheduleNotification(notificationId, sendAt) {
      const id = parseId(notificationId, 'notificationId');
      const body = parse(rescheduleNotificationSchema, { sendAt });
      const path = `/v1/notifications/${enc(id)}`;
      return (await http('rescheduleNotification').request<Notification>('PATCH', path, { body, id })).body;
    },
  };
}
