/**
 * Delivery control: per-user throttle rules, per-channel task queues (server-enforced rate and concurrency), retry
 * policies, failover and the operator alert. One zod schema with defaults, read from a JSON file
 * (HERALD_DELIVERY_CONFIG_FILE) and/or a few variables that override it (HERALD_THROTTLE_RULES,
 * HERALD_ALERT_WEBHOOK_URL, HERALD_PROVIDERS_DOWN). A bad value stops start-up with a message naming the variable.
 */
import fs from 'node:fs';
import { msToNumber } from '@temporalio/common';
import { z } from 'zod';
import { CHANNELS, type Channel } from '../../contract/channels';
import { ConfigError, type Env } from './env';

/** A duration as Temporal takes it: milliseconds, or a string such as "2s", "5 minutes", "1h". */
const duration = z.union([z.number().int().positive(), z.string().min(1)]).refine((value) => {
  try {
    return msToNumber(value as never) > 0;
  } catch {
    return false;
  }
}, 'must be a duration in ms or like "2s", "5 minutes", "1h"');
const toMs = (value: number | string) => msToNumber(value as never);

const CHANNEL = z.enum(CHANNELS);

export const throttleRuleSchema = z
  .object({
    /** Applies to this channel only (all channels when absent). */
    channel: CHANNEL.optional(),
    /** Applies to this category only (every category, and uncategorized notifications, when absent). */
    category: z.string().min(1).optional(),
    /** At most `limit` sends in any window of `per`. */
    limit: z.number().int().positive(),
    per: duration,
  })
  .strict();
export type ThrottleRuleInput = z.infer<typeof throttleRuleSchema>;

const retrySchema = z
  .object({
    initialInterval: duration.optional(),
    backoffCoefficient: z.number().min(1).max(10).optional(),
    maximumInterval: duration.optional(),
    /** 0: no attempt limit (scheduleToClose bounds it). */
    maximumAttempts: z.number().int().min(0).optional(),
    /** How long a message is still worth sending, all attempts included. */
    scheduleToClose: duration.optional(),
    startToClose: duration.optional(),
  })
  .strict();

const channelSchema = z
  .object({
    retry: retrySchema.prefault({}),
    /** Server-enforced rate of this channel's task queue, shared by every worker (maxTaskQueueActivitiesPerSecond). */
    ratePerSecond: z.number().positive().optional(),
    /** Provider calls at once per worker (maxConcurrentActivityTaskExecutions). */
    concurrency: z.number().int().positive().default(50),
    /** The secondary provider used when the primary has failed past its policy or is marked down. */
    failover: z.enum(['fcm', 'apns', 'twilio', 'vonage', 'sendgrid', 'smtp']).nullish(),
  })
  .strict();

export const deliveryConfigSchema = z
  .object({
    throttle: z
      .object({
        rules: z.array(throttleRuleSchema).default([]),
        /** Over the limit: wait for the next free slot (`defer`) or drop as suppressed (`drop`), per category. */
        categories: z.record(z.string(), z.enum(['defer', 'drop'])).default({}),
        defaultPolicy: z.enum(['defer', 'drop']).default('defer'),
        /** A user's throttle workflow ends after this long without requests (once its windows are empty). */
        quietPeriod: duration.default('1h'),
        /** Continue-as-new after this many requests in one run (or when Temporal suggests it). */
        maxRequestsPerRun: z.number().int().min(1).default(500),
      })
      .strict()
      .prefault({}),
    channels: z
      .object({
        push: channelSchema.prefault({}),
        sms: channelSchema.prefault({}),
        email: channelSchema.prefault({}),
        inbox: channelSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    /** Providers an operator has marked down: deliveries go straight to the channel's failover provider. */
    providersDown: z.array(z.string()).default([]),
    alerts: z
      .object({
        webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
        /** Failure rate over which a provider is reported, in a sliding window of `window`. */
        threshold: z.number().min(0).max(1).default(0.5),
        window: duration.default('5m'),
        /** Fewer provider calls than this in the window prove nothing. */
        minCalls: z.number().int().min(1).default(20),
        /** At most one alert per provider per `cooldown`. */
        cooldown: duration.default('15m'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type DeliveryConfigInput = z.input<typeof deliveryConfigSchema>;
type Parsed = z.infer<typeof deliveryConfigSchema>;

export interface ThrottleRule {
  channel?: Channel;
  category?: string;
  limit: number;
  perMs: number;
}

/** A Temporal retry policy in plain JSON (milliseconds), so it can travel through a workflow's history. */
export interface ChannelPolicy {
  retry: {
    initialInterval: number;
    backoffCoefficient: number;
    maximumInterval?: number;
    maximumAttempts: number;
  };
  startToCloseMs: number;
  scheduleToCloseMs?: number;
  ratePerSecond?: number;
  concurrency: number;
  failover?: string;
}

export interface DeliveryConfig {
  throttle: {
    rules: ThrottleRule[];
    categories: Record<string, 'defer' | 'drop'>;
    defaultPolicy: 'defer' | 'drop';
    quietPeriodMs: number;
    maxRequestsPerRun: number;
  };
  channels: Record<Channel, ChannelPolicy>;
  providersDown: string[];
  alerts: {
    webhookUrl?: string;
    threshold: number;
    windowMs: number;
    minCalls: number;
    cooldownMs: number;
  };
}

/**
 * Per channel: how long a message is still worth sending, and how hard to try. A push older than an hour is noise;
 * an SMS or an email is still useful for hours. A field the operator sets replaces just that field.
 */
const RETRY_DEFAULTS = {
  // A database write in Herald itself: retried until the database is back, for as long as a day.
  inbox: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    scheduleToClose: '24h',
    startToClose: '30s',
  },
  push: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    scheduleToClose: '1h',
    startToClose: '30s',
  },
  sms: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '15m',
    scheduleToClose: '6h',
    startToClose: '30s',
  },
  email: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '30m',
    scheduleToClose: '24h',
    startToClose: '60s',
  },
} as const;

function normalize(parsed: Parsed): DeliveryConfig {
  const channel = (name: Channel, c: Parsed['channels']['push']): ChannelPolicy => {
    const retry = { ...RETRY_DEFAULTS[name], maximumAttempts: 0, ...stripUndefined(c.retry) };
    return {
      retry: {
        initialInterval: toMs(retry.initialInterval),
        backoffCoefficient: retry.backoffCoefficient,
        maximumInterval: toMs(retry.maximumInterval),
        maximumAttempts: retry.maximumAttempts,
      },
      startToCloseMs: toMs(retry.startToClose),
      scheduleToCloseMs: toMs(retry.scheduleToClose),
      ...(c.ratePerSecond !== undefined ? { ratePerSecond: c.ratePerSecond } : {}),
      concurrency: c.concurrency,
      ...(c.failover ? { failover: c.failover } : {}),
    };
  };
  return {
    throttle: {
      rules: parsed.throttle.rules.map((r) => ({
        ...(r.channel ? { channel: r.channel } : {}),
        ...(r.category ? { category: r.category } : {}),
        limit: r.limit,
        perMs: toMs(r.per),
      })),
      categories: parsed.throttle.categories,
      defaultPolicy: parsed.throttle.defaultPolicy,
      quietPeriodMs: toMs(parsed.throttle.quietPeriod),
      maxRequestsPerRun: parsed.throttle.maxRequestsPerRun,
    },
    channels: {
      push: channel('push', parsed.channels.push),
      sms: channel('sms', parsed.channels.sms),
      email: channel('email', parsed.channels.email),
      inbox: channel('inbox', parsed.channels.inbox),
    },
    providersDown: parsed.providersDown,
    alerts: {
      ...(parsed.alerts.webhookUrl ? { webhookUrl: parsed.alerts.webhookUrl } : {}),
      threshold: parsed.alerts.threshold,
      windowMs: toMs(parsed.alerts.window),
      minCalls: parsed.alerts.minCalls,
      cooldownMs: toMs(parsed.alerts.cooldown),
    },
  };
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}

function fail(name: string, error: z.ZodError): never {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new ConfigError(`${name}: ${issue?.message ?? 'invalid value'}${where}`);
}

function json(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(`${name}: not valid JSON`);
  }
}

/** The defaults merged with the file and then the variables; validated as a whole. */
export function loadDeliveryConfig(env: Env): DeliveryConfig {
  const value = (name: string) => env[name]?.trim() || undefined;
  let base: Record<string, unknown> = {};
  const file = value('HERALD_DELIVERY_CONFIG_FILE');
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `HERALD_DELIVERY_CONFIG_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    const parsed = json('HERALD_DELIVERY_CONFIG_FILE', text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError('HERALD_DELIVERY_CONFIG_FILE: must hold a JSON object');
    }
    base = parsed as Record<string, unknown>;
    const check = deliveryConfigSchema.safeParse(base);
    if (!check.success) fail('HERALD_DELIVERY_CONFIG_FILE', check.error);
  }
  const merged = structuredClone(base) as {
    throttle?: Record<string, unknown>;
    alerts?: Record<string, unknown>;
    providersDown?: unknown;
  };
  const rules = value('HERALD_THROTTLE_RULES');
  if (rules) {
    const parsed = z.array(throttleRuleSchema).safeParse(json('HERALD_THROTTLE_RULES', rules));
    if (!parsed.success) fail('HERALD_THROTTLE_RULES', parsed.error);
    merged.throttle = { ...merged.throttle, rules: parsed.data };
  }
  const webhook = value('HERALD_ALERT_WEBHOOK_URL');
  if (webhook) {
    if (!z.url({ protocol: /^https?$/ }).safeParse(webhook).success) {
      throw new ConfigError('HERALD_ALERT_WEBHOOK_URL: must be an http or https URL');
    }
    merged.alerts = { ...merged.alerts, webhookUrl: webhook };
  }
  const down = value('HERALD_PROVIDERS_DOWN');
  if (down)
    merged.providersDown = down
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
  const result = deliveryConfigSchema.safeParse(merged);
  if (!result.success) fail(file ? 'HERALD_DELIVERY_CONFIG_FILE' : 'HERALD_THROTTLE_RULES', result.error);
  return normalize(result.data);
}
