/**
 * The platform's part of the one configuration object (server/config.ts adds each provider folder's part): ports,
 * database, Temporal, tracking, delivery control, payload encryption. Built at start-up from the environment; a bad
 * value stops the process with a ConfigError naming the variable (platform/config/env.ts).
 */
import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import { Liquid } from 'liquidjs';
import { z } from 'zod';
import { loadInboxConfig, type InboxConfig } from './inbox';
import { loadDeliveryConfig, type DeliveryConfig } from './delivery';
import { ConfigError, flag, keyList, list, origins, parse, read, readFile, url, type Env } from './env';
import { WORKFLOW_STACK_TRACES_VARIABLE } from '../workflow-stack-traces';
import { CodecError, parseEncryptionKeys, type EncryptionKey } from '../../contract/codec';

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

export interface PlatformConfig {
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
  temporal: {
    address?: string;
    namespace: string;
    taskQueue: string;
    devPort: number;
    devUiPort: number;
    /** HERALD_WORKFLOW_STACK_TRACES: the Web UI's stack trace of running workflows (platform/workflow-stack-traces.ts). */
    workflowStackTraces: boolean;
  };
  apiKey?: string;
  logLevel: string;
  tracking: TrackingConfig;
  /** Throttle rules, per-channel task queues and retry policies, failover, alerts (platform/config/delivery.ts). */
  delivery: DeliveryConfig;
  /** HERALD_ENCRYPTION_KEYS(_FILE): payload encryption keys, the first one encrypts (docs/operations.md). */
  encryptionKeys?: EncryptionKey[];
  /** HERALD_CODEC_CORS_ORIGINS: browser origins (the Temporal Web UI) allowed to call /codec. */
  codecCorsOrigins: string[];
  /** The in-app inbox: token keys, CORS origins, retention (platform/config/inbox.ts). */
  inbox: InboxConfig;
  /** HERALD_MONITORED_TASK_QUEUES: task queues watched for backlog besides Herald's own (main and per channel). */
  monitoredTaskQueues: string[];
  /**
   * HERALD_TEMPORAL_UI_URL: the Temporal Web UI the dashboard links workflows to (default: the embedded dev server's
   * UI when TEMPORAL_ADDRESS is unset, none otherwise).
   */
  temporalUiUrl?: string;
}

export function loadPlatformConfig(env: Env = process.env): PlatformConfig {
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
      workflowStackTraces: flag(env, WORKFLOW_STACK_TRACES_VARIABLE, false),
    },
    apiKey,
    logLevel: parse(
      'LOG_LEVEL',
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
      read(env, 'LOG_LEVEL') ?? 'info',
    ),
    tracking: loadTracking(env),
    delivery: loadDeliveryConfig(env),
    encryptionKeys: loadEncryptionKeys(env),
    codecCorsOrigins: origins(env, 'HERALD_CODEC_CORS_ORIGINS'),
    monitoredTaskQueues: [...new Set([taskQueue, ...list(env, 'HERALD_MONITORED_TASK_QUEUES')])],
    temporalUiUrl: temporalUiUrl(env, temporalAddress),
    inbox: loadInboxConfig(env),
  };
}

function temporalUiUrl(env: Env, temporalAddress: string | undefined): string | undefined {
  const value = read(env, 'HERALD_TEMPORAL_UI_URL');
  if (value) return parse('HERALD_TEMPORAL_UI_URL', url(['http:', 'https:']), value).replace(/\/+$/, '');
  if (temporalAddress) return undefined;
  return `http://localhost:${read(env, 'HERALD_TEMPORAL_UI_PORT') ?? '8233'}`;
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
  const secrets = keyList(env, 'HERALD_TRACKING_SECRET');

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
    opens: flag(env, 'HERALD_TRACK_OPENS', true),
    clicks: flag(env, 'HERALD_TRACK_CLICKS', true),
    smsLinks: flag(env, 'HERALD_TRACK_SMS_LINKS', false),
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

/**
 * Every secret value of the platform's configuration, for the logger's value-based redaction: a secret that reaches a
 * log line through an error message (a URL with its password, a key in a stack trace) is blanked out as well.
 */
export function platformSecrets(config: PlatformConfig): (string | Buffer)[] {
  const secrets: (string | undefined)[] = [
    config.apiKey,
    ...(config.tracking.secrets ?? []),
    ...(config.inbox.secrets ?? []),
  ];
  // The payload keys as bytes: the logger then looks for them as base64, hex and byte lists too.
  const keys = (config.encryptionKeys ?? []).map((k) => k.key);
  if (config.databaseUrl) secrets.push(...urlPassword(config.databaseUrl));
  return [...secrets.filter((s): s is string => typeof s === 'string' && s.length >= 8), ...keys];
}

/** A URL with a password, and the password as written and decoded. */
export function urlPassword(value: string): string[] {
  const password = new URL(value).password;
  return password ? [value, password, decodeURIComponent(password)] : [];
}

export { ConfigError, SECRET_VARIABLES } from './env';
