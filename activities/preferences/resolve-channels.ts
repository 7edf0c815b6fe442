import type { Channel } from '../../contract/channels';
import type { Preferences } from '../../contract/schemas';

export type ChannelDecision =
  { channel: Channel; send: true; reason?: 'critical_category' } | { channel: Channel; send: false; reason: string };

/** The operator's definition of the notification's category (absent when it has none or an unknown one). */
export interface CategoryPolicy {
  name: string;
  critical: boolean;
  /** Default switches for users who have set nothing. */
  channels: Partial<Record<Channel, boolean>>;
}

export interface ResolveInput {
  /** Channels the template has content for. */
  templateChannels: readonly Channel[];
  /** Channels the caller restricted the notification to, if any. */
  requested?: readonly Channel[];
  category?: CategoryPolicy | null;
  preferences?: Preferences | null;
}

/**
 * Which channels a notification goes out on, and why the others do not. One rule per channel, first match wins:
 * 1. the template has no content for it → skipped;
 * 2. a critical category (security, transactional) → sent: users cannot mute it;
 * 3. the user's setting for this channel in this category (`categories.<name>.<channel>`);
 * 4. the user's switch for the whole category (`categories.<name>.enabled: false` → skipped);
 * 5. the user's channel switch (`channels.<channel>`);
 * 6. the category's default for the channel;
 * 7. otherwise sent.
 */
export function resolveChannels(input: ResolveInput): ChannelDecision[] {
  const category = input.category;
  const userCategory = category ? input.preferences?.categories?.[category.name] : undefined;
  return (input.requested ?? input.templateChannels).map((channel): ChannelDecision => {
    if (!input.templateChannels.includes(channel)) {
      return { channel, send: false, reason: 'template_has_no_content_for_channel' };
    }
    if (category?.critical) return { channel, send: true, reason: 'critical_category' };
    const perCategory = userCategory?.[channel];
    if (perCategory !== undefined) {
      return perCategory
        ? { channel, send: true }
        : { channel, send: false, reason: `user_disabled_${channel}_for_category` };
    }
    if (userCategory?.enabled === false) return { channel, send: false, reason: 'user_disabled_category' };
    const userSwitch = input.preferences?.channels?.[channel];
    if (userSwitch !== undefined) {
      return userSwitch ? { channel, send: true } : { channel, send: false, reason: `user_disabled_${channel}` };
    }
    if (category?.channels[channel] === false)
      return { channel, send: false, reason: `category_default_off_${channel}` };
    return { channel, send: true };
  });
}
