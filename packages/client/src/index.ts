/**
 * Herald's TypeScript client: `import { createHeraldClient } from '@herald/client'`.
 *
 *   const herald = createHeraldClient({
 *     http: { url: 'https://herald.internal', apiKey: process.env.HERALD_API_KEY! },   // every call
 *     temporal: { client: temporalClient },                // optional: send and cancel go through Temporal
 *   });
 *   const { id, eventId } = await herald.send({ userId: 'u1', template: 'order-shipped', eventId: 'order-42-shipped' });
 *
 * Input is validated with the API's own schemas before anything leaves the process; every failure is a typed
 * HeraldError (see ./errors). See docs/client-sdk.md.
 *
 * The Temporal transport and the data converter are loaded on first use: they need @temporalio/client, an optional
 * peer dependency that HTTP-only services do not install (./temporal-peer.ts).
 */
import type * as CodecModule from '@herald/contract/codec';
import type { DataConverter } from '@temporalio/client';
import { newEventKey, workflowIdOfNotification } from '@herald/contract/ids';
import {
  deviceInputSchema,
  preferencesSchema,
  sendNotificationSchema,
  templateInputSchema,
  userInputSchema,
} from '@herald/contract/schemas';
import { campaignCalls, type CampaignCalls } from './campaigns.calls';
import { categoryCalls, type CategoryCalls } from './categories.calls';
import { HeraldError } from './errors';
import { HttpTransport, type HttpTransportOptions } from './http.transport';
import { notificationCalls, type NotificationCalls } from './notifications.calls';
import { loadTemporalModule } from './temporal-peer';
import type * as TemporalTransportModule from './temporal.transport';
import type { TemporalTransportOptions } from './temporal.transport';
import { templateCalls, type TemplateCalls } from './templates.calls';
import { topicCalls, type TopicCalls } from './topics.calls';
import { trackingCalls, type TrackingCalls } from './tracking.calls';
import { userCalls, type UserCalls } from './users.calls';
import { parse, parseId } from './validate';
import type {
  CancelResult,
  Device,
  DeviceInput,
  Notification,
  NotificationTransport,
  Preferences,
  PreferencesInput,
  SendNotificationInput,
  SendResult,
  Template,
  TemplateInput,
  User,
  UserErasure,
  UserInput,
} from './types';

/**
 * The data converter Herald's workers use (payload encryption, contract/codec.ts), for the Temporal client given to the
 * Temporal transport: `new Client({ connection, dataConverter: heraldDataConverter(process.env.HERALD_ENCRYPTION_KEYS!) })`.
 */
export function heraldDataConverter(encryptionKeys: string): DataConverter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const codec = loadTemporalModule(() => require('@herald/contract/codec') as Codec);
  return codec.heraldClientDataConverter(new codec.AesGcmPayloadCodec(codec.parseEncryptionKeys(encryptionKeys)));
}
type Codec = typeof CodecModule;

export {
  ConflictError,
  HeraldError,
  InvalidInputError,
  NotFoundError,
  TransientError,
  UnauthorizedError,
  type InputIssue,
} from './errors';
export type {
  Audience,
  AudiencePreviewInput,
  AudiencePreviewResult,
  BulkRetryInput,
  BulkUserInput,
  BulkUserResult,
  BulkUsersResult,
  Campaign,
  CampaignFilter,
  CampaignInput,
  CampaignPage,
  CampaignRun,
  CampaignRunPage,
  CampaignStatus,
  CampaignTriggered,
  CancelResult,
  Category,
  CategoryInput,
  CreateCampaignOptions,
  Delivery,
  Device,
  DeviceInput,
  Notification,
  NotificationFilter,
  NotificationPage,
  NotificationSummary,
  NotificationStatus,
  PageOptions,
  Preferences,
  PreferencesInput,
  RedriveResult,
  RedriveStarted,
  SendNotificationInput,
  SendResult,
  Stats,
  StatsQuery,
  SubscriberResult,
  Template,
  TemplateInput,
  TemplatePreview,
  TemplatePreviewInput,
  TemplateVersions,
  Topic,
  TopicInput,
  TopicSubscribeResult,
  TopicSubscribersPage,
  TopicUnsubscribeResult,
  TrackingEventInput,
  TrackingEventResult,
  User,
  UserErasure,
  UserInput,
} from './types';
export type { CampaignCalls } from './campaigns.calls';
export type { CategoryCalls } from './categories.calls';
export type { HttpTransportOptions, RetryOptions } from './http.transport';
export type { NotificationCalls } from './notifications.calls';
export type { TemporalTransportOptions } from './temporal.transport';
export type { TemplateCalls } from './templates.calls';
export type { TopicCalls } from './topics.calls';
export type { TrackingCalls } from './tracking.calls';
export type { UserCalls } from './users.calls';
export * from './inbox.calls';

export interface HeraldClientOptions {
  /** Herald's HTTP API. Needed for every call but `send` and `cancel` when `temporal` is given. */
  http?: HttpTransportOptions;
  /** Temporal directly: when given, `send` and `cancel` go through it instead of HTTP. */
  temporal?: TemporalTransportOptions;
}

/** Every call but `send` and `cancel` goes over HTTP; the areas beyond the core calls are in their *.calls.ts. */
export interface HeraldClient
  extends UserCalls, NotificationCalls, TemplateCalls, TrackingCalls, CategoryCalls, TopicCalls, CampaignCalls {
  /** Which transport `send` and `cancel` use. */
  readonly transport: 'http' | 'temporal';
  /**
   * Accepts a notification, idempotently by `eventId` (one is generated when you give none; it is in the result and
   * on every error). Resolves once Herald has recorded it and durably started its workflow.
   */
  send(input: SendNotificationInput): Promise<SendResult>;
  /** The notification with one delivery per target. Needs `http`. */
  get(notificationId: string): Promise<Notification>;
  /** Cancels a notification that has not started sending (ConflictError once it has). */
  cancel(notificationId: string): Promise<CancelResult>;
  upsertUser(userId: string, input: UserInput): Promise<User>;
  getUser(userId: string): Promise<User>;
  /** Erases the user, their devices, preferences and the personal data in their notifications. */
  deleteUser(userId: string): Promise<UserErasure>;
  /** The same token again is the same device (moved to this user, reactivated). */
  registerDevice(userId: string, input: DeviceInput): Promise<Device>;
  listDevices(userId: string): Promise<Device[]>;
  removeDevice(userId: string, deviceId: string): Promise<void>;
  getPreferences(userId: string): Promise<Preferences>;
  /** Replaces the user's preferences. */
  setPreferences(userId: string, preferences: PreferencesInput): Promise<Preferences>;
  /** Saves a new version of the template. */
  putTemplate(templateId: string, input: TemplateInput): Promise<Template>;
  getTemplate(templateId: string): Promise<Template>;
}

export function createHeraldClient(options: HeraldClientOptions): HeraldClient {
  if (!options?.http && !options?.temporal) {
    throw new HeraldError('invalid_configuration', 'createHeraldClient needs `http`, `temporal`, or both');
  }
  const http = options.http ? new HttpTransport(options.http) : undefined;
  const temporal = options.temporal
    ? new (loadTemporalModule(
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        () => require('./temporal.transport') as typeof TemporalTransportModule,
      ).TemporalTransport)(options.temporal)
    : undefined;
  const notifications: NotificationTransport = (temporal ?? http)!;

  const needHttp = (call: string): HttpTransport => {
    if (http) return http;
    throw new HeraldError(
      'http_transport_required',
      `${call} reads or writes Herald's database: give createHeraldClient an \`http\` transport`,
    );
  };

  return {
    transport: notifications.kind,

    async send(input) {
      const parsed = parse(sendNotificationSchema, input);
      // The event id makes the send idempotent: generated once here, it is the same on every retry, ours or yours.
      const eventId = parsed.eventId ?? newEventKey();
      try {
        return await notifications.send({ ...parsed, eventId });
      } catch (error) {
        if (error instanceof HeraldError) error.eventId = eventId;
        throw error;
      }
    },
    async get(notificationId) {
      return needHttp('get').get(parseId(notificationId, 'notificationId'));
    },
    async cancel(notificationId) {
      const id = parseId(notificationId, 'notificationId');
      // Temporal addresses a notification by its id's digest; an id minted otherwise can still be canceled by HTTP.
      if (notifications.kind === 'temporal' && http && !workflowIdOfNotification(id)) return http.cancel(id);
      return notifications.cancel(id);
    },

    async upsertUser(userId, input) {
      return needHttp('upsertUser').upsertUser(parseId(userId, 'userId'), parse(userInputSchema, input));
    },
    async getUser(userId) {
      return needHttp('getUser').getUser(parseId(userId, 'userId'));
    },
    async deleteUser(userId) {
      return needHttp('deleteUser').deleteUser(parseId(userId, 'userId'));
    },
    async registerDevice(userId, input) {
      return needHttp('registerDevice').registerDevice(parseId(userId, 'userId'), parse(deviceInputSchema, input));
    },
    async listDevices(userId) {
      return needHttp('listDevices').listDevices(parseId(userId, 'userId'));
    },
    async removeDevice(userId, deviceId) {
      return needHttp('removeDevice').removeDevice(parseId(userId, 'userId'), parseId(deviceId, 'deviceId'));
    },
    async getPreferences(userId) {
      return needHttp('getPreferences').getPreferences(parseId(userId, 'userId'));
    },
    async setPreferences(userId, preferences) {
      return needHttp('setPreferences').setPreferences(
        parseId(userId, 'userId'),
        parse(preferencesSchema, preferences),
      );
    },
    async putTemplate(templateId, input) {
      return needHttp('putTemplate').putTemplate(parseId(templateId, 'templateId'), parse(templateInputSchema, input));
    },
    async getTemplate(templateId) {
      return needHttp('getTemplate').getTemplate(parseId(templateId, 'templateId'));
    },

    ...userCalls(needHttp),
    ...notificationCalls(needHttp),
    ...templateCalls(needHttp),
    ...trackingCalls(needHttp),
    ...categoryCalls(needHttp),
    ...topicCalls(needHttp),
    ...campaignCalls(needHttp),
  };
}
