import type { PrismaClient } from '../../generated/prisma/client';
import type { ProvidersConfig } from './providers.config';
import { SendgridEmailProvider } from './email/sendgrid/sendgrid.provider';
import { SmtpEmailProvider } from './email/smtp/smtp.provider';
import { OutboxProvider } from './outbox/outbox.provider';
import type { Channel, ProviderChannel, EmailProvider, ProviderId, PushProvider, SmsProvider } from './provider.types';
import { ApnsPushProvider } from './push/apns/apns.provider';
import { FcmPushProvider } from './push/fcm/fcm.provider';
import { TwilioSmsProvider } from './sms/twilio/twilio.provider';
import { VonageSmsProvider } from './sms/vonage/vonage.provider';

type ProviderFor = { push: PushProvider; sms: SmsProvider; email: EmailProvider };

/** Provider id → how to build it from configuration (undefined when its credentials are absent). */
const factories: {
  [K in Exclude<ProviderId, 'outbox'>]: {
    channel: Channel;
    build(config: ProvidersConfig, publicUrl: string): ProviderFor[ProviderChannel] | undefined;
  };
} = {
  apns: { channel: 'push', build: (c) => c.apns && new ApnsPushProvider(c.apns) },
  fcm: { channel: 'push', build: (c) => c.fcm && new FcmPushProvider(c.fcm) },
  twilio: {
    channel: 'sms',
    build: (c, publicUrl) =>
      c.twilio && new TwilioSmsProvider({ ...c.twilio, statusCallbackUrl: twilioStatusCallbackUrl(publicUrl) }),
  },
  vonage: { channel: 'sms', build: (c) => c.vonage && new VonageSmsProvider(c.vonage) },
  sendgrid: { channel: 'email', build: (c) => c.sendgrid && new SendgridEmailProvider(c.sendgrid) },
  smtp: { channel: 'email', build: (c) => c.smtp && new SmtpEmailProvider(c.smtp) },
};

/**
 * Where Twilio posts delivery receipts (api/routes/webhooks.routes.ts). Not on a loopback public URL — the default when
 * HERALD_PUBLIC_URL is unset — which Twilio could never reach.
 */
export function twilioStatusCallbackUrl(publicUrl: string): string | undefined {
  const host = new URL(publicUrl).hostname;
  if (host === 'localhost' || host === '[::1]' || /^127\./.test(host)) return undefined;
  return `${publicUrl}/webhooks/twilio`;
}

/**
 * The providers of one worker, each built once with its long-lived SDK client. A channel (or push provider) with
 * no credentials resolves to the outbox.
 */
export class ProviderRegistry {
  private readonly built = new Map<ProviderId, ProviderFor[ProviderChannel]>();
  readonly outbox: OutboxProvider;

  constructor(
    private readonly config: ProvidersConfig,
    db: PrismaClient,
    publicUrl = 'http://localhost:3000',
  ) {
    this.outbox = new OutboxProvider(db);
    for (const [id, factory] of Object.entries(factories) as [
      Exclude<ProviderId, 'outbox'>,
      (typeof factories)['apns'],
    ][]) {
      const provider = factory.build(config, publicUrl);
      if (provider) this.built.set(id, provider);
    }
  }

  static fromConfig(config: { providers: ProvidersConfig; publicUrl: string }, db: PrismaClient): ProviderRegistry {
    return new ProviderRegistry(config.providers, db, config.publicUrl);
  }

  /** The provider id that a new delivery on this channel will use. */
  providerIdFor(channel: Channel, pushProvider?: 'apns' | 'fcm'): ProviderId {
    const wanted: ProviderId =
      channel === 'push'
        ? (pushProvider ?? 'fcm')
        : channel === 'sms'
          ? this.built.has('twilio') || !this.built.has('vonage')
            ? 'twilio'
            : 'vonage'
          : this.config.email;
    return this.built.has(wanted) ? wanted : 'outbox';
  }

  /**
   * The provider to fail over to from `current` on `channel`: the configured one when it is built here, else the
   * channel's other configured provider (Twilio ↔ Vonage, SendGrid → SMTP). Push has none: an APNs token cannot be
   * sent through FCM. Undefined when there is nowhere else to go.
   */
  failoverFor(channel: Channel, current: string, configured?: string): ProviderId | undefined {
    const candidates: ProviderId[] = configured
      ? [configured as ProviderId]
      : channel === 'sms'
        ? ['twilio', 'vonage']
        : channel === 'email'
          ? ['sendgrid', 'smtp']
          : [];
    return candidates.find(
      (id) =>
        id !== current && this.built.has(id) && factories[id as Exclude<ProviderId, 'outbox'>]?.channel === channel,
    );
  }

  get<C extends ProviderChannel>(channel: C, id: string): ProviderFor[C] {
    if (id === 'outbox') return this.outbox;
    const provider = this.built.get(id as ProviderId);
    if (!provider || factories[id as Exclude<ProviderId, 'outbox'>]?.channel !== channel) {
      throw new Error(`provider ${id} is not configured for ${channel} on this worker`);
    }
    return provider as ProviderFor[C];
  }

  configured(): ProviderId[] {
    return [...this.built.keys()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.built.values()].map((provider) => provider.close?.()));
  }
}
