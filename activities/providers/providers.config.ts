/** The providers' part of the configuration: each provider folder reads its own variables; this picks the email one. */
import { z } from 'zod';
import { urlPassword } from '../../platform/config';
import { ConfigError, parse, read, type Env } from '../../platform/config/env';
import { loadSendgridConfig, type SendgridConfig } from './email/sendgrid/sendgrid.config';
import { loadSmtpConfig, type SmtpConfig } from './email/smtp/smtp.config';
import { loadApnsConfig, type ApnsConfig } from './push/apns/apns.config';
import { loadFcmConfig, type FcmConfig } from './push/fcm/fcm.config';
import { loadTwilioConfig, type TwilioConfig } from './sms/twilio/twilio.config';
import { loadVonageConfig, type VonageConfig } from './sms/vonage/vonage.config';

export interface ProvidersConfig {
  apns?: ApnsConfig;
  fcm?: FcmConfig;
  twilio?: TwilioConfig;
  vonage?: VonageConfig;
  sendgrid?: SendgridConfig;
  smtp?: SmtpConfig;
  /** Which configured email provider is primary (EMAIL_PROVIDER; default SendGrid when both are set). */
  email: 'sendgrid' | 'smtp' | 'outbox';
}

export function loadProvidersConfig(env: Env): ProvidersConfig {
  const sendgrid = loadSendgridConfig(env);
  const smtp = loadSmtpConfig(env);
  const choice = read(env, 'EMAIL_PROVIDER');
  let email: ProvidersConfig['email'] = sendgrid ? 'sendgrid' : smtp ? 'smtp' : 'outbox';
  if (choice) {
    email = parse('EMAIL_PROVIDER', z.enum(['sendgrid', 'smtp', 'outbox']), choice);
    if (email === 'sendgrid' && !sendgrid)
      throw new ConfigError('EMAIL_PROVIDER: sendgrid is chosen but SENDGRID_API_KEY is not set');
    if (email === 'smtp' && !smtp) throw new ConfigError('EMAIL_PROVIDER: smtp is chosen but SMTP_URL is not set');
  }
  return {
    apns: loadApnsConfig(env),
    fcm: loadFcmConfig(env),
    twilio: loadTwilioConfig(env),
    vonage: loadVonageConfig(env),
    sendgrid,
    smtp,
    email,
  };
}

/** Every provider credential, for the logger's value-based redaction. */
export function providerSecrets({ apns, fcm, twilio, vonage, sendgrid, smtp }: ProvidersConfig): string[] {
  return [
    apns?.keyPem,
    fcm?.credentials.private_key,
    fcm?.credentials.private_key_id,
    twilio?.authToken,
    vonage?.apiSecret,
    sendgrid?.apiKey,
    ...(smtp ? urlPassword(smtp.url) : []),
  ].filter((s): s is string => typeof s === 'string' && s.length >= 8);
}
