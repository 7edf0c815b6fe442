/** Twilio's part of the configuration: account, token and sender, all or none. */
import { z } from 'zod';
import { endpoint, group, parse, type Env } from '../../../../platform/config/env';

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  /** E.164 number, short code or alphanumeric sender id owned by the account. */
  from: string;
  /** REST base URL (a proxy, a regional host or a local fake); defaults to https://api.twilio.com. */
  endpoint?: string;
}

export function loadTwilioConfig(env: Env): TwilioConfig | undefined {
  const vars = group(env, ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const);
  if (!vars) return undefined;
  return {
    accountSid: parse(
      'TWILIO_ACCOUNT_SID',
      z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC + 32 hex digits'),
      vars.TWILIO_ACCOUNT_SID,
    ),
    authToken: vars.TWILIO_AUTH_TOKEN!,
    from: parse(
      'TWILIO_FROM',
      z
        .string()
        .regex(
          /^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32}|[A-Za-z0-9 ]{1,11})$/,
          'must be an E.164 number, a messaging service SID or an alphanumeric sender',
        ),
      vars.TWILIO_FROM,
    ),
    endpoint: endpoint(env, 'TWILIO_ENDPOINT'),
  };
}
