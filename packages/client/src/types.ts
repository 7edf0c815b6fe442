/**
 * The client's types, inferred from the schemas the API validates with (contract/schemas): what the server accepts is
 * what the compiler accepts, so the client cannot drift from the server.
 */
import type { z } from 'zod';
import type {
  audiencePreviewResultSchema,
  audiencePreviewSchema,
  audienceSchema,
  bulkRetrySchema,
  bulkUserResultSchema,
  bulkUsersResultSchema,
  campaignInputSchema,
  campaignPageSchema,
  campaignRunPageSchema,
  campaignRunSchema,
  campaignSchema,
  CampaignStatus,
  campaignTriggeredSchema,
  categoryInputSchema,
  categorySchema,
  deviceInputSchema,
  deviceSchema,
  listCampaignsQuerySchema,
  listNotificationsQuerySchema,
  notificationPageSchema,
  notificationSchema,
  NotificationStatus,
  pageQuerySchema,
  preferencesSchema,
  redriveResultSchema,
  redriveStartedSchema,
  sendNotificationSchema,
  statsQuerySchema,
  statsSchema,
  subscriberResultSchema,
  templateInputSchema,
  templatePreviewInputSchema,
  templatePreviewSchema,
  templateSchema,
  templateVersionsSchema,
  topicInputSchema,
  topicSchema,
  topicSubscribeResultSchema,
  topicSubscribersPageSchema,
  topicUnsubscribeResultSchema,
  trackingEventInputSchema,
  trackingEventResultSchema,
  userInputSchema,
  userSchema,
} from '@herald/contract/schemas';

export type { CampaignStatus, NotificationStatus };

/** `eventId` is optional: the client adds one when you give none, and reuses it on its retries. */
export type SendNotificationInput = z.input<typeof sendNotificationSchema>;
export type Notification = z.output<typeof notificationSchema>;
/** A notification in a list page: no tracking timeline (`get` has it). */
export type NotificationSummary = Omit<Notification, 'events'>;
export type Delivery = Notification['deliveries'][number];
export type UserInput = z.input<typeof userInputSchema>;
export type User = z.output<typeof userSchema>;
export type DeviceInput = z.input<typeof deviceInputSchema>;
export type Device = z.output<typeof deviceSchema>;
export type PreferencesInput = z.input<typeof preferencesSchema>;
export type Preferences = z.output<typeof preferencesSchema>;
export type TemplateInput = z.input<typeof templateInputSchema>;
export type Template = z.output<typeof templateSchema>;

export interface SendResult {
  /** The notification's id: the same for the same event id, whichever transport sent it. */
  id: string;
  status: NotificationStatus;
  /** The event id the notification is idempotent by: yours, or the one the client generated. */
  eventId: string;
  /** True when this event id had already been accepted: nothing new was sent. */
  replayed: boolean;
}

export interface CancelResult {
  id: string;
  status: 'canceled';
}

/** What DELETE /v1/users/{userId} erased. */
export interface UserErasure {
  erased: {
    user: number;
    devices: number;
    preferences: number;
    deliveries: number;
    notifications: number;
    outboxMessages: number;
    /** Their in-app inbox items (with the feed's stream events). */
    inboxItems: number;
  };
}

/** One user of `bulkUpsertUsers`: its id and the fields of `upsertUser`. */
export type BulkUserInput = UserInput & { id: string };
export type BulkUserResult = z.output<typeof bulkUserResultSchema>;
export type BulkUsersResult = z.output<typeof bulkUsersResultSchema>;

/** `cursor` (a previous page's `nextCursor`) and `limit` of a paged list. */
export type PageOptions = Omit<z.input<typeof pageQuerySchema>, 'limit'> & { limit?: number };

/** GET /v1/notifications: every condition given must hold. */
export type NotificationFilter = Omit<z.input<typeof listNotificationsQuerySchema>, 'status' | 'limit'> & {
  /** One status or several (any of them). */
  status?: NotificationStatus | NotificationStatus[];
  /** 1 to 200 (default 50). */
  limit?: number;
};
export type NotificationPage = z.output<typeof notificationPageSchema>;
export type BulkRetryInput = z.input<typeof bulkRetrySchema>;
export type RedriveResult = z.output<typeof redriveResultSchema>;
export type RedriveStarted = z.output<typeof redriveStartedSchema>;

export type TemplatePreviewInput = z.input<typeof templatePreviewInputSchema>;
export type TemplatePreview = z.output<typeof templatePreviewSchema>;
export type TemplateVersions = z.output<typeof templateVersionsSchema>;

export type TrackingEventInput = z.input<typeof trackingEventInputSchema>;
export type TrackingEventResult = z.output<typeof trackingEventResultSchema>;
export type StatsQuery = z.input<typeof statsQuerySchema>;
export type Stats = z.output<typeof statsSchema>;

export type CategoryInput = z.input<typeof categoryInputSchema>;
export type Category = z.output<typeof categorySchema>;

export type TopicInput = z.input<typeof topicInputSchema>;
export type Topic = z.output<typeof topicSchema>;
export type SubscriberResult = z.output<typeof subscriberResultSchema>;
export type TopicSubscribeResult = z.output<typeof topicSubscribeResultSchema>;
export type TopicUnsubscribeResult = z.output<typeof topicUnsubscribeResultSchema>;
export type TopicSubscribersPage = z.output<typeof topicSubscribersPageSchema>;

export type Audience = z.input<typeof audienceSchema>;
export type AudiencePreviewInput = z.input<typeof audiencePreviewSchema>;
export type AudiencePreviewResult = z.output<typeof audiencePreviewResultSchema>;

export type CampaignInput = z.input<typeof campaignInputSchema>;
export type Campaign = z.output<typeof campaignSchema>;
export type CampaignTriggered = z.output<typeof campaignTriggeredSchema>;
export type CampaignRun = z.output<typeof campaignRunSchema>;
export type CampaignRunPage = z.output<typeof campaignRunPageSchema>;
export type CampaignPage = z.output<typeof campaignPageSchema>;

/** GET /v1/campaigns: newest first; deleted campaigns only when `status` names `deleted`. */
export type CampaignFilter = Omit<z.input<typeof listCampaignsQuerySchema>, 'status' | 'limit'> & {
  /** One status or several (any of them); default `active` and `paused`. */
  status?: CampaignStatus | CampaignStatus[];
  /** 1 to 200 (default 50). */
  limit?: number;
};

export interface CreateCampaignOptions {
  /**
   * The Idempotency-Key: the same key is the same campaign (and schedule), however often it is sent. The client
   * generates one when you give none and reuses it on its retries; a failed call carries it as `error.idempotencyKey`.
   * 1 to 255 characters.
   */
  idempotencyKey?: string;
}

/** A send after the client's validation: the event id is always set. */
export type KeyedSendInput = z.output<typeof sendNotificationSchema> & { eventId: string };

/** What a transport does for the notification calls; the HTTP transport also serves every other call. */
export interface NotificationTransport {
  readonly kind: 'http' | 'temporal';
  send(input: KeyedSendInput): Promise<SendResult>;
  cancel(id: string): Promise<CancelResult>;
}
