/** Engagement your app or backend reports, and the statistics: POST /v1/events, GET /v1/stats. */
import { statsQuerySchema, trackingEventInputSchema } from '../contract/schemas';
import type { NeedHttp } from './http.transport';
import type { Stats, StatsQuery, TrackingEventInput, TrackingEventResult } from './types';
import { parse } from './validate';

export interface TrackingCalls {
  /**
   * Records that a notification was opened (e.g. a push, from the app), clicked or converted; an open or a click ends
   * a pending escalation. Give `deliveryId` (push data carries it as `herald_delivery_id`) to attribute it to a
   * channel. Only the first of each kind is `counted` in the statistics, so reporting one twice is harmless.
   */
  trackEvent(input: TrackingEventInput): Promise<TrackingEventResult>;
  /** Sent, delivered, failed, opened, clicked, converted and their rates over [from, to), optionally grouped. */
  stats(query: StatsQuery): Promise<Stats>;
}

export function trackingCalls(http: NeedHttp): TrackingCalls {
  return {
    async trackEvent(input) {
      const body = parse(trackingEventInputSchema, input);
      const id = body.notificationId;
      return (await http('trackEvent').request<TrackingEventResult>('POST', '/v1/events', { body, id })).body;
    },
    async stats(query) {
      parse(statsQuerySchema, query);
      const { from, to, groupBy } = query;
      return (await http('stats').request<Stats>('GET', '/v1/stats', { query: { from, to, groupBy } })).body;
    },
  };
}
