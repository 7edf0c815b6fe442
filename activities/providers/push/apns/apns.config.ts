/** APNs' part of the configuration: all four variables or none (then push to iOS goes to the outbox). */
import { ConfigError, endpoint, group, read, readFile, type Env } from '../../../../platform/config/env';

export interface ApnsConfig {
  /** Contents of the `.p8` token-signing key (PKCS#8 PEM, P-256). */
  keyPem: string;
  keyId: string;
  teamId: string;
  /** The app's bundle id (`apns-topic`). */
  topic: string;
  /** `https://host:port`; Apple's production host when absent. */
  endpoint?: string;
  /** A CA to trust for the endpoint in addition to the public roots (a proxy's or a local fake's). */
  caPem?: string;
}

export function loadApnsConfig(env: Env): ApnsConfig | undefined {
  const vars = group(env, ['APNS_KEY_FILE', 'APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC'] as const);
  if (!vars) return undefined;
  const caFile = read(env, 'APNS_CA_FILE');
  const apns: ApnsConfig = {
    keyPem: readFile('APNS_KEY_FILE', vars.APNS_KEY_FILE!),
    keyId: vars.APNS_KEY_ID!,
    teamId: vars.APNS_TEAM_ID!,
    topic: vars.APNS_TOPIC!,
    endpoint: endpoint(env, 'APNS_ENDPOINT'),
    caPem: caFile ? readFile('APNS_CA_FILE', caFile) : undefined,
  };
  if (!apns.keyPem.includes('PRIVATE KEY')) throw new ConfigError('APNS_KEY_FILE: not a .p8 private key');
  return apns;
}
