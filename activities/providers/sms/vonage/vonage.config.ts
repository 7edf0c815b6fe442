/** Vonage's part of the configuration: key, secret and sender, all or none. */
import { z } from 'zod';
import { endpoint, group, parse, type Env } from '../../../../platform/config/env';

export interface VonageConfig {
  apiKey: string;
  apiSecret: string;
  /** E.164 number (with or without +) or alphanumeric sender id. */
  from: string;
  /** REST base URL (a proxy or a local fake); defaults to https://rest.nexmo.com. */
  endpoint?: string;
}

export function loadVonageConfig(env: Env): VonageConfig | undefined {
  const vars = group(env, ['VONAGE_API_KEY', 'VONAGE_API_SECRET', 'VONAGE_FROM'] as const);
  if (!vars) return undefined;
  return {
    apiKey: vars.VONAGE_API_KEY!,
    apiSecret: vars.VONAGE_API_SECRET!,
    from: parse(
      'VONAGE_FROM',
      z.string().regex(/^(\+?[1-9]\d{6,14}|[A-Za-z0-9 ]{1,11})$/, 'must be a phone number or an alphanumeric sender'),
      vars.VONAGE_FROM,
    ),
    endpoint: endpoint(env, 'VONAGE_ENDPOINT'),
  };
}
