/**
 * The one validated configuration object, built at start-up from the environment. A bad value stops the process
 * with a message naming the variable. Every secret may also come from a file (`<NAME>_FILE`, for Docker/Kubernetes
 * secrets); an empty variable means "not set".
 */
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Liquid } from 'liquidjs';
import { z } from 'zod';
import { DeliveryConfigError, loadDeliveryConfig, type DeliveryConfig } from './delivery-config';
import { CodecError, parseEncryptionKeys, type EncryptionKey } from '../contract/codec';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export const SECRET_VARIABLES: readonly string[] = [
  'HERALD_API_KEY',
  'HERALD_ENCRYPTION_KEYS',
  'TWILIO_AUTH_TOKEN',
  'SENDGRID_API_KEY',
  'SMTP_URL',
  'DATABASE_URL',
  'HERALD_TRACKING_SECRET',
  'SENDGRID_WEBHOOK_PUBLIC_KEY',
  'VONAGE_API_SECRET',
];

/** Reads NAME, or the file named by NAME_FILE; empty means unset. */
function read(env: Env, name: string): string | undefined {
  const direct = env[name]?.trim();
  if (direct) return direct;
  const file = SECRET_VARIABLES.includes(name) ? env[`${name}_FILE`]?.trim() : undefined;
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch (error) {
    throw new ConfigError(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function readFile(name: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function parse<T>(name: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ConfigError(`${name}: ${result.error.issues[0]?.message ?? 'invalid value'}`);
  return result.data;
}

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL`,
  );

/** All of a group's variables, or none of them: a half-configured provider is a mistake worth stopping for. */
function group<K extends string>(env: Env, names: readonly K[], optional: readonly string[] = []) {
  const values = Object.fromEntries(names.map((n) => [n, read(env, n)])) as Record<K, string | undefined>;
  const present = names.filter((n) => values[n] !== undefined);
  if (present.length === 0) return undefined;
  const missing = names.filter((n) => values[n] === undefined && !optional.includes(n));
  if (missing.length > 0) {
    throw new ConfigError(
      `${missing.join(', ')}: required because ${present.join(', ')} ${present.length > 1 ? 'are' : 'is'} set`,
    );
  }
  return values;
}

export interface ApnsConfig {
  keyPem: string;
  keyId: string;
  teamId: string;
  topic: string;
  endpoint?: string;
  caPem?: string;
}
export interface FcmConfig {
  projectId: string;
  credentials: Record<string, string>;
  endpoint?: string;
}
export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  from: string;
  endpoint?: string;
}
export interface VonageConfig {
  apiKey: string;
  apiSecret: string;
  from: string;
  endpoint?: string;
}
export interface SendgridConfig {
  apiKey: string;
  from: string;
  endpoint?: string;
}
export interface SmtpConfig {
  url: string;
  from: string;
}

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

/** Templates and tracking (docs/templates-and-tracking.md). */
export interface TrackingConfig {
  /**
   * HMAC keys of tracking and unsubscribe links (HERALD_TRACKING_SECRET, comma-separated): the first signs, every one
   * verifies, so a key can be rotated without breaking links already sent. Unset → generated once and kept in
   * Herald's database.
   */
  secrets?: string[];
  /** Open pixel in HTML email (HERALD_TRACK_OPENS, default true). */
  opens: boolean;
  /** Rewrite links in email to tracked redirects (HERALD_TRACK_CLICKS, default true). */
  clicks: boolean;
  /** Rewrite links in SMS too (HERALD_TRACK_SMS_LINKS, default false: it lengthens every message). */
  smsLinks: boolean;
  /** Liquid HTML wrapping every HTML email body (HERALD_EMAIL_LAYOUT_FILE); writes the body with `{{ content }}`. */
  emailLayout?: string;
  /** Address for the `mailto:` List-Unsubscribe alternative (HERALD_UNSUBSCRIBE_MAILTO). */
  unsubscribeMailto?: string;
  /** SendGrid's Event Webhook verification key, as PEM (SENDGRID_WEBHOOK_PUBLIC_KEY, base64 DER or PEM). */
  sendgridWebhookPublicKey?: string;
}

export interface HeraldConfig {
  /** PORT: the API's port. */
  port: number;
  /**
   * HERALD_OPS_PORT: a worker-only process's /healthz and /metrics (default 0: any free port, printed at start, so that
   * several workers run side by side on one host).
   */
  opsPort: number;
  publicUrl: string;
  databaseUrl?: string;
  dataDir: string;
  /** `address` unset → the embedded dev server on devPort (Web UI on devUiPort). */
  temporal: { address?: string; namespace: string; taskQueue: string; devPort: number; devUiPort: number };
  apiKey?: string;
  logLevel: string;
  providers: ProvidersConfig;
  tracking: TrackingConfig;
  /** Throttle rules, per-channel task queues and retry policies, failover, alerts (lib/delivery-config.ts). */
  delivery: DeliveryConfig;
  /** HERALD_ENCRYPTION_KEYS(_FILE): payload encryption keys, the first one encrypts (docs/operations.md). */
  encryptionKeys?: EncryptionKey[];
  /** HERALD_CODEC_CORS_ORIGINS: browser origins (the Temporal Web UI) allowed to call /codec. */
  codecCorsOrigins: string[];
  /** HERALD_MONITORED_TASK_QUEUES: task queues watched for backlog besides Herald's own (main and per channel). */
  monitoredTaskQueues: string[];
  /**
   * HERALD_TEMPORAL_UI_URL: the Temporal Web UI the dashboard links workflows to (default: the embedded dev server's
   * UI when TEMPORAL_ADDRESS is unset, none otherwise).
   */
  temporalUiUrl?: string;
}

export function loadConfig(env: Env = process.env): HeraldConfig {
  const port = parse('PORT', z.coerce.number().int().min(0).max(65535), read(env, 'PORT') ?? '3000');
  const publicUrl = parse(
    'HERALD_PUBLIC_URL',
    url(['http:', 'https:']),
    read(env, 'HERALD_PUBLIC_URL') ?? `http://localhost:${port}`,
  ).replace(/\/+$/, '');
  const databaseUrl = read(env, 'DATABASE_URL');
  if (databaseUrl) parse('DATABASE_URL', url(['postgres:', 'postgresql:']), databaseUrl);
  const temporalAddress = read(env, 'TEMPORAL_ADDRESS');
  if (temporalAddress) {
    parse('TEMPORAL_ADDRESS', z.string().regex(/^[^\s/:]+:\d{1,5}$/, 'must be host:port'), temporalAddress);
  }
  const apiKey = read(env, 'HERALD_API_KEY');
  if (apiKey) parse('HERALD_API_KEY', z.string().min(16, 'must be at least 16 characters'), apiKey);

  const providers = loadProviders(env);
  let delivery: DeliveryConfig;
  try {
    delivery = loadDeliveryConfig(env);
  } catch (error) {
    if (error instanceof DeliveryConfigError) throw new ConfigError(error.message);
    throw error;
  }
  const taskQueue = read(env, 'HERALD_TASK_QUEUE') ?? 'herald';
  return {
    port,
    opsPort: parse('HERALD_OPS_PORT', z.coerce.number().int().min(0).max(65535), read(env, 'HERALD_OPS_PORT') ?? '0'),
    publicUrl,
    databaseUrl,
    dataDir: path.resolve(read(env, 'HERALD_DATA_DIR') ?? '.data'),
    temporal: {
      address: temporalAddress,
      namespace: read(env, 'TEMPORAL_NAMESPACE') ?? 'default',
      taskQueue,
      devPort: parse(
        'HERALD_TEMPORAL_PORT',
        z.coerce.number().int().min(1).max(65535),
        read(env, 'HERALD_TEMPORAL_PORT') ?? '7233',
      ),
      devUiPort: parse(
        'HERALD_TEMPORAL_UI_PORT',
        z.coerce.number().int().min(1).max(65535),
        read(env, 'HERALD_TEMPORAL_UI_PORT') ?? '8233',
      ),
    },
    apiKey,
    logLevel: parse(
      'LOG_LEVEL',
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
      read(env, 'LOG_LEVEL') ?? 'info',
    ),
    providers,
    tracking: loadTracking(env),
    delivery,
    encryptionKeys: loadEncryptionKeys(env),
    codecCorsOrigins: list(env, 'HERALD_CODEC_CORS_ORIGINS').map(
      (origin) => new URL(parse('HERALD_CODEC_CORS_ORIGINS', url(['http:', 'https:']), origin)).origin,
    ),
    monitoredTaskQueues: [...new Set([taskQueue, ...list(env, 'HERALD_MONITORED_TASK_QUEUES')])],
    temporalUiUrl: temporalUiUrl(env, temporalAddress),
  };
}

function temporalUiUrl(env: Env, temporalAddress: string | undefined): string | undefined {
  const value = read(env, 'HERALD_TEMPORAL_UI_URL');
  if (value) return parse('HERALD_TEMPORAL_UI_URL', url(['http:', 'https:']), value).replace(/\/+$/, '');
  if (temporalAddress) return undefined;
  return `http://localhost:${read(env, 'HERALD_TEMPORAL_UI_PORT') ?? '8233'}`;
}

function list(env: Env, name: string): string[] {
  return (read(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function loadEncryptionKeys(env: Env): EncryptionKey[] | undefined {
  const value = read(env, 'HERALD_ENCRYPTION_KEYS');
  if (!value) return undefined;
  try {
    return parseEncryptionKeys(value);
  } catch (error) {
    if (error instanceof CodecError) throw new ConfigError(`HERALD_ENCRYPTION_KEYS: ${error.message}`);
    throw error;
  }
}

function loadTracking(env: Env): TrackingConfig {
  const flag = (name: string, fallback: boolean) => {
    const value = read(env, name);
    if (value === undefined) return fallback;
    const parsed = parse(name, z.enum(['true', 'false', '1', '0'], 'must be true or false'), value.toLowerCase());
    return parsed === 'true' || parsed === '1';
  };
  const secretList = read(env, 'HERALD_TRACKING_SECRET');
  const secrets = secretList
    ? parse(
        'HERALD_TRACKING_SECRET',
        z.array(z.string().min(32, 'each key must be at least 32 characters')).min(1),
        secretList.split(',').map((key) => key.trim()),
      )
    : undefined;

  const layoutFile = read(env, 'HERALD_EMAIL_LAYOUT_FILE');
  let emailLayout: string | undefined;
  if (layoutFile) {
    emailLayout = readFile('HERALD_EMAIL_LAYOUT_FILE', layoutFile);
    try {
      new Liquid().parse(emailLayout);
    } catch (error) {
      throw new ConfigError(`HERALD_EMAIL_LAYOUT_FILE: ${(error as Error).message.split('\n')[0]}`);
    }
    if (!/\{\{-?\s*content\b/.test(emailLayout)) {
      throw new ConfigError('HERALD_EMAIL_LAYOUT_FILE: the layout must write the body with {{ content }}');
    }
  }

  const mailto = read(env, 'HERALD_UNSUBSCRIBE_MAILTO');
  if (mailto) parse('HERALD_UNSUBSCRIBE_MAILTO', z.email('must be an email address'), mailto);

  const sendgridKey = read(env, 'SENDGRID_WEBHOOK_PUBLIC_KEY');
  return {
    secrets,
    opens: flag('HERALD_TRACK_OPENS', true),
    clicks: flag('HERALD_TRACK_CLICKS', true),
    smsLinks: flag('HERALD_TRACK_SMS_LINKS', false),
    emailLayout,
    unsubscribeMailto: mailto,
    sendgridWebhookPublicKey: sendgridKey ? sendgridPublicKeyPem(sendgridKey) : undefined,
  };
}

/** SendGrid shows the key as base64 DER (SubjectPublicKeyInfo); PEM is accepted too. It must be ECDSA P-256. */
function sendgridPublicKeyPem(value: string): string {
  try {
    const key = value.includes('-----BEGIN')
      ? createPublicKey(value)
      : createPublicKey({ key: Buffer.from(value.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error();
    return key.export({ format: 'pem', type: 'spki' }).toString();
  } catch {
    throw new ConfigError('SENDGRID_WEBHOOK_PUBLIC_KEY: not an ECDSA P-256 public key (base64 DER or PEM)');
  }
}

function loadProviders(env: Env): ProvidersConfig {
  const endpoint = (name: string) => {
    const value = read(env, name);
    return value === undefined ? undefined : parse(name, url(['http:', 'https:']), value).replace(/\/+$/, '');
  };

  const apnsVars = group(env, ['APNS_KEY_FILE', 'APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC'] as const);
  const apns: ApnsConfig | undefined = apnsVars && {
    keyPem: readFile('APNS_KEY_FILE', apnsVars.APNS_KEY_FILE!),
    keyId: apnsVars.APNS_KEY_ID!,
    teamId: apnsVars.APNS_TEAM_ID!,
    topic: apnsVars.APNS_TOPIC!,
    endpoint: endpoint('APNS_ENDPOINT'),
    caPem: read(env, 'APNS_CA_FILE') ? readFile('APNS_CA_FILE', read(env, 'APNS_CA_FILE')!) : undefined,
  };
  if (apns && !apns.keyPem.includes('PRIVATE KEY')) throw new ConfigError('APNS_KEY_FILE: not a .p8 private key');

  const fcmVars = group(env, ['FCM_CREDENTIALS_FILE', 'FCM_PROJECT_ID'] as const, ['FCM_PROJECT_ID']);
  let fcm: FcmConfig | undefined;
  if (fcmVars) {
    let credentials: Record<string, string>;
    try {
      credentials = JSON.parse(readFile('FCM_CREDENTIALS_FILE', fcmVars.FCM_CREDENTIALS_FILE!));
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError('FCM_CREDENTIALS_FILE: not valid JSON');
    }
    if (!credentials.private_key || !credentials.client_email) {
      throw new ConfigError('FCM_CREDENTIALS_FILE: not a service account (private_key and client_email are required)');
    }
    const projectId = fcmVars.FCM_PROJECT_ID ?? credentials.project_id;
    if (!projectId) throw new ConfigError('FCM_PROJECT_ID: required (the credentials file has no project_id)');
    fcm = { projectId, credentials, endpoint: endpoint('FCM_ENDPOINT') };
  }

  const twilioVars = group(env, ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const);
  const twilio: TwilioConfig | undefined = twilioVars && {
    accountSid: parse(
      'TWILIO_ACCOUNT_SID',
      z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC + 32 hex digits'),
      twilioVars.TWILIO_ACCOUNT_SID,
    ),
    authToken: twilioVars.TWILIO_AUTH_TOKEN!,
    from: parse(
      'TWILIO_FROM',
      z
        .string()
        .regex(
          /^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32}|[A-Za-z0-9 ]{1,11})$/,
          'must be an E.164 number, a messaging service SID or an alphanumeric sender',
        ),
      twilioVars.TWILIO_FROM,
    ),
    endpoint: endpoint('TWILIO_ENDPOINT'),
  };

  const vonageVars = group(env, ['VONAGE_API_KEY', 'VONAGE_API_SECRET', 'VONAGE_FROM'] as const);
  const vonage: VonageConfig | undefined = vonageVars && {
    apiKey: vonageVars.VONAGE_API_KEY!,
    apiSecret: vonageVars.VONAGE_API_SECRET!,
    from: parse(
      'VONAGE_FROM',
      z.string().regex(/^(\+?[1-9]\d{6,14}|[A-Za-z0-9 ]{1,11})$/, 'must be a phone number or an alphanumeric sender'),
      vonageVars.VONAGE_FROM,
    ),
    endpoint: endpoint('VONAGE_ENDPOINT'),
  };

  const sendgridVars = group(env, ['SENDGRID_API_KEY', 'SENDGRID_FROM'] as const);
  const sendgrid: SendgridConfig | undefined = sendgridVars && {
    apiKey: sendgridVars.SENDGRID_API_KEY!,
    from: sendgridVars.SENDGRID_FROM!,
    endpoint: endpoint('SENDGRID_ENDPOINT'),
  };

  const smtpVars = group(env, ['SMTP_URL', 'SMTP_FROM'] as const);
  const smtp: SmtpConfig | undefined = smtpVars && {
    url: parse('SMTP_URL', url(['smtp:', 'smtps:']), smtpVars.SMTP_URL),
    from: smtpVars.SMTP_FROM!,
  };

  const choice = read(env, 'EMAIL_PROVIDER');
  let email: ProvidersConfig['email'] = sendgrid ? 'sendgrid' : smtp ? 'smtp' : 'outbox';
  if (choice) {
    email = parse('EMAIL_PROVIDER', z.enum(['sendgrid', 'smtp', 'outbox']), choice);
    if (email === 'sendgrid' && !sendgrid)
      throw new ConfigError('EMAIL_PROVIDER: sendgrid is chosen but SENDGRID_API_KEY is not set');
    if (email === 'smtp' && !smtp) throw new ConfigError('EMAIL_PROVIDER: smtp is chosen but SMTP_URL is not set');
  }
  return { apns, fcm, twilio, vonage, sendgrid, smtp, email };
}

/**
 * Every secret value in the configuration, for the logger's value-based redaction: a secret that reaches a log line
 * through an error message (a URL with its password, a key in a stack trace) is blanked out as well.
 */
export function configSecrets(config: HeraldConfig): (string | Buffer)[] {
  const { apns, fcm, twilio, sendgrid, smtp } = config.providers;
  const secrets: (string | undefined)[] = [
    config.apiKey,
    ...(config.tracking.secrets ?? []),
    apns?.keyPem,
    fcm?.credentials.private_key,
    fcm?.credentials.private_key_id,
    twilio?.authToken,
    config.providers.vonage?.apiSecret,
    sendgrid?.apiKey,
  ];
  // The payload keys as bytes: the logger then looks for them as base64, hex and byte lists too.
  const keys = (config.encryptionKeys ?? []).map((k) => k.key);
  for (const value of [smtp?.url, config.databaseUrl]) {
    if (!value) continue;
    const password = new URL(value).password;
    if (password) secrets.push(value, password, decodeURIComponent(password));
  }
  return [...secrets.filter((s): s is string => typeof s === 'string' && s.length >= 8), ...keys];
}
