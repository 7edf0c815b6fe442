/**
 * The client's types, inferred from the schemas the API validates with (lib/schemas.ts): what the server accepts is
 * what the compiler accepts, so the client cannot drift from the server.
 */
import type { z } from 'zod';
import type {
  deviceInputSchema,
  deviceSchema,
  notificationSchema,
  NotificationStatus,
  preferencesSchema,
  sendNotificationSchema,
  templateInputSchema,
  templateSchema,
  userInputSchema,
  userSchema,
} from '../lib/schemas';

export type { NotificationStatus };

/** `eventId` is optional: the client adds one when you give none, and reuses it on its retries. */
export type SendNotificationInput = z.input<typeof sendNotificationSchema>;
export type Notification = z.output<typeof notificationSchema>;
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
  };
}

/** A send after the client's validation: the event id is always set. */
export type KeyedSendInput = z.output<typeof sendNotificationSchema> & { eventId: string };

/** What a transport does for the notification calls; the HTTP transport also serves every other call. */
export interface NotificationTransport {
  readonly kind: 'http' | 'temporal';
  send(input: KeyedSendInput): Promise<SendResult>;
  cancel(id: string): Promise<CancelResult>;
}
