/** SendGrid's part of the configuration: API key and sender, both or neither. */
import { endpoint, group, type Env } from '../../../../platform/config/env';

export interface SendgridConfig {
  apiKey: string;
  /** A verified sender: `addr@example.com` or `Name <addr@example.com>`. */
  from: string;
  /** Base URL (a proxy, the EU host or a local fake); defaults to https://api.sendgrid.com/. */
  endpoint?: string;
}

export function loadSendgridConfig(env: Env): SendgridConfig | undefined {
  const vars = group(env, ['SENDGRID_API_KEY', 'SENDGRID_FROM'] as const);
  if (!vars) return undefined;
  return { apiKey: vars.SENDGRID_API_KEY!, from: vars.SENDGRID_FROM!, endpoint: endpoint(env, 'SENDGRID_ENDPOINT') };
}
