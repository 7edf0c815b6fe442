/**
 * Each channel's delivery planning, written once: who the targets are, what each one receives (the e-mail inside the
 * operator's layout with List-Unsubscribe and tracked links, tracked links in SMS, the push's tracking data) and which
 * provider sends it. Used for a notification's first plan and for an escalation to one more channel, so both send
 * exactly the same message.
 */
import { newDeliveryId } from '../../contract/ids';
import type { Tracking } from '../../domain/tracking/tracking';
import type { TrackingUrls } from '../../domain/tracking/tokens';
import type { NotificationContext } from '../notification/load-context';
import { composeEmail } from '../../domain/templates/compose-email';
import type { ChannelDecision } from '../preferences/resolve-channels';
import type { Channel } from '../providers/provider.types';
import type { ProviderRegistry } from '../providers/registry';
import type { RenderedChannels } from '../../domain/templates/render';
import { LinkTable, rewriteTextLinks } from '../../domain/tracking/rewrite-links';

export interface DeliveryRow {
  id: string;
  channel: Channel;
  provider: string;
  target: string;
  deviceId: string | null;
  status: 'pending' | 'skipped';
  error: string | null;
  content: object | null;
}

export interface PlanDeps {
  providers: ProviderRegistry;
  tracking?: Tracking;
}

/** The e-mail's delivery id is needed before rendering (the body may link to its own unsubscribe URL). */
export function emailDeliveryId(): string {
  return newDeliveryId();
}

/**
 * One row per target for each decided channel: pending with its content, or skipped with the reason (the user's
 * setting, no device, no phone, a contact flagged invalid). `prefix` marks escalation skips.
 */
export async function planDeliveries(
  { providers, tracking }: PlanDeps,
  ctx: NotificationContext,
  decisions: readonly ChannelDecision[],
  rendered: RenderedChannels,
  options: { emailId: string; urls?: TrackingUrls; skipPrefix?: string },
): Promise<DeliveryRow[]> {
  const user = ctx.user!;
  const { urls } = options;
  const rows: DeliveryRow[] = [];
  const skip = (channel: Channel, reason: string) =>
    rows.push({
      id: newDeliveryId(),
      channel,
      provider: '-',
      target: '-',
      deviceId: null,
      status: 'skipped',
      error: `${options.skipPrefix ?? ''}${reason}`,
      content: null,
    });
  const pending = (row: Omit<DeliveryRow, 'status' | 'error'>) => rows.push({ ...row, status: 'pending', error: null });

  for (const decision of decisions) {
    const channel = decision.channel;
    if (!decision.send) {
      skip(channel, decision.reason);
      continue;
    }
    if (channel === 'push') {
      if (ctx.devices.length === 0) skip(channel, 'no_active_device');
      for (const device of ctx.devices) {
        const id = newDeliveryId();
        const push = rendered.push!;
        pending({
          id,
          channel,
          provider: providers.providerIdFor('push', device.provider as 'apns' | 'fcm'),
          target: device.id,
          deviceId: device.id,
          // The app reports opens with these (POST /v1/events).
          content: { ...push, data: { ...push.data, herald_notification_id: ctx.id, herald_delivery_id: id } },
        });
      }
    } else if (channel === 'sms') {
      if (!user.phone) skip(channel, 'no_phone');
      else if (user.phoneInvalid) skip(channel, 'phone_invalid');
      else {
        const id = newDeliveryId();
        let body = rendered.sms!.body;
        let links: string[] | undefined;
        if (urls && tracking?.config.smsLinks) {
          const table = new LinkTable((index) => urls.click(id, index));
          body = rewriteTextLinks(body, table);
          if (table.links.length > 0) links = table.links;
        }
        pending({
          id,
          channel,
          provider: providers.providerIdFor('sms'),
          target: user.phone,
          deviceId: null,
          content: { body, ...(links ? { links } : {}) },
        });
      }
    } else if (channel === 'inbox') {
      // Herald itself is the destination: one item in the user's feed (domain/inbox), whatever devices they have.
      pending({
        id: newDeliveryId(),
        channel,
        provider: 'inbox',
        target: user.id,
        deviceId: null,
        content: rendered.inbox!,
      });
    } else {
      if (!user.email) skip(channel, 'no_email');
      else if (user.emailInvalid) skip(channel, 'email_invalid');
      else {
        pending({
          id: options.emailId,
          channel,
          provider: providers.providerIdFor('email'),
          target: user.email,
          deviceId: null,
          content: await composeEmail(rendered.email!, {
            deliveryId: options.emailId,
            layout: tracking?.config.emailLayout,
            urls,
            trackClicks: tracking?.config.clicks,
            trackOpens: tracking?.config.opens,
            unsubscribeMailto: tracking?.config.unsubscribeMailto,
            locale: user.locale,
          }),
        });
      }
    }
  }
  return rows;
}
