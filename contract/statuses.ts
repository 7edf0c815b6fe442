/**
 * A notification's and a delivery's statuses: the API's schemas, the workers and the dashboard (which imports no zod,
 * so this file imports nothing) read them from here.
 */
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
