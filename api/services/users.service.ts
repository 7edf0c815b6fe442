import type { Db } from '../../platform/db';
import { Prisma } from '../../platform/db';
import { newDeviceId } from '../../contract/ids';
import {
  idSchema,
  preferencesSchema,
  userInputSchema,
  type BulkUserResult,
  type Preferences,
  type UserInput,
} from '../../contract/schemas';
import { notFound } from '../errors';

type UserRow = Prisma.UserGetPayload<object>;
type DeviceRow = Prisma.DeviceGetPayload<object>;

export const toUserView = (u: UserRow) => ({
  id: u.id,
  email: u.email,
  phone: u.phone,
  locale: u.locale,
  timezone: u.timezone,
  name: u.name,
  data: (u.data ?? null) as Record<string, unknown> | null,
  emailInvalidAt: u.emailInvalidAt?.toISOString() ?? null,
  emailInvalidReason: u.emailInvalidReason,
  phoneInvalidAt: u.phoneInvalidAt?.toISOString() ?? null,
  phoneInvalidReason: u.phoneInvalidReason,
  createdAt: u.createdAt.toISOString(),
  updatedAt: u.updatedAt.toISOString(),
});

export const toDeviceView = (d: DeviceRow) => ({
  id: d.id,
  userId: d.userId,
  platform: d.platform as 'ios' | 'android' | 'web',
  provider: d.provider as 'apns' | 'fcm',
  active: d.active,
  deactivatedAt: d.deactivatedAt?.toISOString() ?? null,
  deactivationReason: d.deactivationReason,
  createdAt: d.createdAt.toISOString(),
});

const json = (value: unknown) => (value === null ? Prisma.JsonNull : (value as Prisma.InputJsonValue));

export interface UserServiceDeps {
  db: Db;
  /** Tells a user's waiting notifications that their quiet hours or time zone changed. */
  settingsChanged?: (userId: string) => Promise<void>;
}

export function createUserService({ db, settingsChanged = async () => undefined }: UserServiceDeps) {
  async function requireUser(userId: string) {
    const user = await db.user.findUnique({ where: { id: userId } });
    if (!user) throw notFound('user', userId);
    return user;
  }

  return {
    requireUser,

    /** Upsert: fields present in the body are set (null clears them), absent ones are left as they are. */
    async upsert(userId: string, input: UserInput) {
      const fields = Object.fromEntries(
        Object.entries(input)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, k === 'data' ? json(v) : v]),
      );
      const existed = await db.user.findUnique({
        where: { id: userId },
        select: { id: true, email: true, phone: true, timezone: true },
      });
      // A contact flagged invalid (hard bounce, undeliverable number) is usable again once it is a different one.
      const cleared = {
        ...(input.email !== undefined && input.email !== existed?.email
          ? { emailInvalidAt: null, emailInvalidReason: null }
          : {}),
        ...(input.phone !== undefined && input.phone !== existed?.phone
          ? { phoneInvalidAt: null, phoneInvalidReason: null }
          : {}),
      };
      const user = await db.user.upsert({
        where: { id: userId },
        create: { id: userId, ...fields },
        update: { ...fields, ...cleared },
      });
      if (existed && input.timezone !== undefined && existed.timezone !== user.timezone) await settingsChanged(userId);
      return { user: toUserView(user), created: !existed };
    },

    /** Up to 1,000 users in one request; each item succeeds or fails on its own. */
    async bulkUpsert(items: Record<string, unknown>[]): Promise<BulkUserResult[]> {
      const results: BulkUserResult[] = [];
      for (const [index, item] of items.entries()) {
        const { id, ...rest } = item;
        const idResult = idSchema.safeParse(id);
        const input = userInputSchema.safeParse(rest);
        if (!idResult.success || !input.success) {
          const issues = [
            ...(idResult.success ? [] : idResult.error.issues.map((i) => ({ ...i, path: ['id', ...i.path] }))),
            ...(input.success ? [] : input.error.issues),
          ];
          const first = issues[0]!;
          results.push({
            index,
            id: typeof id === 'string' ? id : null,
            status: 'error' as const,
            error: { code: 'validation_error', field: first.path.map(String).join('.'), message: first.message },
          });
          continue;
        }
        const { created } = await this.upsert(idResult.data, input.data);
        results.push({ index, id: idResult.data, status: created ? ('created' as const) : ('updated' as const) });
      }
      return results;
    },

    /** Erases the user and their personal data: contacts, devices, preferences, rendered content in the log. */
    async erase(userId: string) {
      await requireUser(userId);
      return db.$transaction(async (tx) => {
        const devices = await tx.device.deleteMany({ where: { userId } });
        const preferences = await tx.preference.deleteMany({ where: { userId } });
        const deliveries = await tx.delivery.findMany({ where: { notification: { userId } }, select: { id: true } });
        const outbox = await tx.outboxMessage.deleteMany({
          where: { deliveryId: { in: deliveries.map((d) => d.id) } },
        });
        // Each target becomes "[erased]:<delivery id>": deliveries are unique per (notification, channel, target), so
        // one constant for all would collide as soon as a notification went to two devices or re-sent to a new number.
        const erasedDeliveries = await tx.$executeRaw`
          UPDATE deliveries d
             SET target = '[erased]:' || d.id, content = NULL, error = NULL, updated_at = now()
            FROM notifications n
           WHERE n.id = d.notification_id AND n.user_id = ${userId}`;
        const notifications = await tx.notification.updateMany({ where: { userId }, data: { data: {} } });
        // Tracking events stay for the statistics, without their details (clicked URLs, bounce reasons).
        await tx.trackingEvent.updateMany({ where: { notification: { userId } }, data: { metadata: Prisma.DbNull } });
        // Their in-app inbox: items, stream events and the feed's counter (domain/inbox).
        const inboxItems = await tx.$executeRaw`DELETE FROM inbox_items WHERE user_id = ${userId}`;
        await tx.$executeRaw`DELETE FROM inbox_events WHERE user_id = ${userId}`;
        await tx.$executeRaw`DELETE FROM inbox_feeds WHERE user_id = ${userId}`;
        await tx.user.delete({ where: { id: userId } });
        return {
          erased: {
            user: 1,
            devices: devices.count,
            preferences: preferences.count,
            deliveries: erasedDeliveries,
            notifications: notifications.count,
            outboxMessages: outbox.count,
            inboxItems,
          },
        };
      });
    },

    /** The same token again updates its device (and moves it to this user) instead of adding a second one. */
    async registerDevice(
      userId: string,
      input: { platform: 'ios' | 'android' | 'web'; token: string; provider?: 'apns' | 'fcm' },
    ) {
      await requireUser(userId);
      const provider = input.provider ?? (input.platform === 'ios' ? 'apns' : 'fcm');
      const existing = await db.device.findUnique({ where: { provider_token: { provider, token: input.token } } });
      const reactivate = { active: true, deactivatedAt: null, deactivationReason: null };
      const device = existing
        ? await db.device.update({
            where: { id: existing.id },
            data: { userId, platform: input.platform, ...reactivate },
          })
        : await db.device.create({
            data: { id: newDeviceId(), userId, platform: input.platform, provider, token: input.token },
          });
      return { device: toDeviceView(device), created: !existing };
    },

    async listDevices(userId: string) {
      await requireUser(userId);
      const devices = await db.device.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
      return devices.map(toDeviceView);
    },

    async removeDevice(userId: string, deviceId: string) {
      const { count } = await db.device.deleteMany({ where: { id: deviceId, userId } });
      if (count === 0) throw notFound('device', deviceId);
    },

    async getPreferences(userId: string): Promise<Preferences> {
      await requireUser(userId);
      const row = await db.preference.findUnique({ where: { userId } });
      return preferencesSchema.parse(
        row ? { channels: row.channels, categories: row.categories, quietHours: row.quietHours } : {},
      );
    },

    async putPreferences(userId: string, preferences: Preferences): Promise<Preferences> {
      await requireUser(userId);
      const data = {
        channels: preferences.channels as Prisma.InputJsonValue,
        categories: preferences.categories as Prisma.InputJsonValue,
        quietHours: json(preferences.quietHours ?? null),
      };
      await db.preference.upsert({ where: { userId }, create: { userId, ...data }, update: data });
      await settingsChanged(userId);
      return preferences;
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
