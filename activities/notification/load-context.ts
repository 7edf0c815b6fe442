/**
 * Everything planning a notification reads, in one statement: the notification, the deliveries it already has, its
 * user with active devices and preferences, the pinned template version and the category. Planning runs once per
 * notification (and again only while quiet hours hold it), so this is the read side of the hot path.
 */
import type { SqlQueryable } from '../../platform/sql';

export interface NotificationContext {
  id: string;
  userId: string;
  templateId: string;
  templateVersion: number | null;
  data: Record<string, unknown>;
  channels: string[];
  category: string | null;
  status: string;
  campaignRunId: string | null;
  deliveries: { id: string; channel: string; provider: string; status: string }[];
  user: {
    id: string;
    email: string | null;
    phone: string | null;
    locale: string | null;
    timezone: string | null;
    name: string | null;
    data: unknown;
    emailInvalid: boolean;
    phoneInvalid: boolean;
  } | null;
  devices: { id: string; platform: string; provider: string }[];
  preferences: { channels: unknown; categories: unknown; quietHours: unknown } | null;
  template: unknown;
  categoryRow: { critical: boolean; channels: unknown; quietHours: string } | null;
}

const LOAD = `
SELECT n.id, n.user_id, n.template_id, n.template_version, n.data, n.channels, n.category, n.status,
       n.campaign_run_id,
       (SELECT coalesce(json_agg(json_build_object('id', d.id, 'channel', d.channel, 'provider', d.provider,
                                                   'status', d.status) ORDER BY d.id), '[]'::json)
          FROM deliveries d WHERE d.notification_id = n.id) AS deliveries,
       (SELECT json_build_object('id', u.id, 'email', u.email, 'phone', u.phone, 'locale', u.locale,
                                 'timezone', u.timezone, 'name', u.name, 'data', u.data,
                                 'emailInvalid', u.email_invalid_at IS NOT NULL,
                                 'phoneInvalid', u.phone_invalid_at IS NOT NULL)
          FROM users u WHERE u.id = n.user_id) AS "user",
       (SELECT coalesce(json_agg(json_build_object('id', v.id, 'platform', v.platform, 'provider', v.provider)
                                 ORDER BY v.created_at, v.id), '[]'::json)
          FROM devices v WHERE v.user_id = n.user_id AND v.active) AS devices,
       (SELECT json_build_object('channels', p.channels, 'categories', p.categories, 'quietHours', p.quiet_hours)
          FROM preferences p WHERE p.user_id = n.user_id) AS preferences,
       (SELECT tv.content FROM template_versions tv
         WHERE tv.template_id = n.template_id AND tv.version = n.template_version) AS template,
       (SELECT json_build_object('critical', c.critical, 'channels', c.channels, 'quietHours', c.quiet_hours)
          FROM categories c WHERE c.name = n.category) AS category_row
  FROM notifications n
 WHERE n.id = $1`;

interface Row {
  id: string;
  user_id: string;
  template_id: string;
  template_version: number | null;
  data: Record<string, unknown> | null;
  channels: string[] | null;
  category: string | null;
  status: string;
  campaign_run_id: string | null;
  deliveries: NotificationContext['deliveries'] | string;
  user: NotificationContext['user'] | string;
  devices: NotificationContext['devices'] | string;
  preferences: NotificationContext['preferences'] | string;
  template: unknown;
  category_row: NotificationContext['categoryRow'] | string;
}

/** `json` columns arrive parsed from pg and PGlite alike; parse defensively should a driver hand back text. */
const json = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);

export async function loadNotificationContext(
  db: SqlQueryable,
  notificationId: string,
): Promise<NotificationContext | null> {
  const [row] = await db.query<Row>(LOAD, [notificationId]);
  if (!row) return null;
  return {
    id: row.id,
    userId: row.user_id,
    templateId: row.template_id,
    templateVersion: row.template_version,
    data: row.data ?? {},
    channels: row.channels ?? [],
    category: row.category,
    status: row.status,
    campaignRunId: row.campaign_run_id,
    deliveries: json(row.deliveries) ?? [],
    user: json(row.user),
    devices: json(row.devices) ?? [],
    preferences: json(row.preferences),
    template: json(row.template),
    categoryRow: json(row.category_row),
  };
}
