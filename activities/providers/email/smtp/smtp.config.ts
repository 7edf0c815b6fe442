/** SMTP's part of the configuration: server URL and sender, both or neither. */
import { group, parse, url, type Env } from '../../../../platform/config/env';

export interface SmtpConfig {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://user:pass@host:465` (implicit TLS). */
  url: string;
  /** `addr@example.com` or `Name <addr@example.com>`; its domain also names our Message-IDs. */
  from: string;
}

export function loadSmtpConfig(env: Env): SmtpConfig | undefined {
  const vars = group(env, ['SMTP_URL', 'SMTP_FROM'] as const);
  if (!vars) return undefined;
  return { url: parse('SMTP_URL', url(['smtp:', 'smtps:']), vars.SMTP_URL), from: vars.SMTP_FROM! };
}
