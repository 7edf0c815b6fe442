import type { Preferences } from '../../lib/schemas';

export type ChannelName = 'push' | 'sms' | 'email';
export type ChannelDecision =
  { channel: ChannelName; send: true } | { channel: ChannelName; send: false; reason: string };

export interface ResolveInput {
  /** Channels the template has content for. */
  templateChannels: readonly ChannelName[];
  /** Channels the caller restricted the notification to, if any. */
  requested?: readonly ChannelName[];
  category?: string | null;
  preferences?: Preferences | null;
}

/**
 * Which channels a notification goes out on, and why the others do not. Precedence, most specific first:
 * the user's setting for the category's channel > the user's category switch > the user's channel switch > send.
 * (Operator-defined categories with defaults and critical overrides come on top of this, in the categories issue.)
 */
export function resolveChannels(input: ResolveInput): ChannelDecision[] {
  const decisions: ChannelDecision[] = [];
  const categoryPrefs = input.category ? input.preferences?.categories?.[input.category] : undefined;
  for (const channel of input.requested ?? input.templateChannels) {
    if (!input.templateChannels.includes(channel)) {
      decisions.push({ channel, send: false, reason: 'template_has_no_content_for_channel' });
    } else if (categoryPrefs?.[channel] !== undefined) {
      decisions.push(
        categoryPrefs[channel]
          ? { channel, send: true }
          : { channel, send: false, reason: `user_disabled_${channel}_for_category` },
      );
    } else if (categoryPrefs?.enabled === false) {
      decisions.push({ channel, send: false, reason: 'user_disabled_category' });
    } else if (input.preferences?.channels?.[channel] === false) {
      decisions.push({ channel, send: false, reason: `user_disabled_${channel}` });
    } else {
      decisions.push({ channel, send: true });
    }
  }
  return decisions;
}
