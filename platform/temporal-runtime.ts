/**
 * The Temporal SDK's process-wide Runtime, installed once before any connection or worker exists, so that:
 * - its logs (worker, activities, workflows, and the Rust core forwarded to JS) go through Herald's pino logger, with
 *   the same redaction as everything else;
 * - its metrics (worker task slots, poll and schedule-to-start latencies, sticky cache, request failures...) are
 *   buffered in memory and served on Herald's own /metrics, next to Herald's metrics, instead of on a second port.
 *   Durations are in seconds; names keep the SDK's `temporal_` prefix.
 */
import type { LogLevel, LogMetadata, Logger as TemporalLogger, Metric, MetricTags } from '@temporalio/common';
import { MetricsBuffer, Runtime } from '@temporalio/worker';
import { createLogger, type Logger } from './logger';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * SDK warnings about what Herald does on purpose: the per-channel queues' workers run activities only, so "no
 * workflows registered" is their normal state, not something an operator should be warned about at every start.
 */
const EXPECTED_BY_DESIGN = [/^No workflows registered, not polling for workflow tasks$/];
/**
 * The core's warning for each retried call (every poller, several times a second) while the server cannot be
 * reached. During a restart of the embedded server its supervisor says what is happening, once; these go to debug.
 */
const RETRYING_CALL = /^gRPC call \w+ retried \d+ times?$/;

/** Forwards SDK logs to a pino logger that can be swapped (the test harness points it at each test's logger). */
export class PinoTemporalLogger implements TemporalLogger {
  /** Warnings logged at debug instead: Herald's by design, plus what the process adds (installTemporalRuntime). */
  readonly expected: RegExp[] = [...EXPECTED_BY_DESIGN];
  /** Set while the embedded Temporal server is known to be down (its supervisor logs that, once per event). */
  outage: string | undefined;

  constructor(public target: Logger | undefined) {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    if (!this.target) return;
    if (level === 'WARN' && this.expected.some((pattern) => pattern.test(message))) level = 'DEBUG';
    if (this.outage !== undefined && (level === 'WARN' || level === 'ERROR') && RETRYING_CALL.test(message)) {
      level = 'DEBUG';
    }
    const { error, ...rest } = meta as LogMetadata & { error?: unknown };
    const fields = { component: 'temporal', ...rest, ...(error !== undefined ? { err: error } : {}) };
    this.target[PINO_LEVEL[level] ?? 'info'](fields, message);
  }
  trace(message: string, meta?: LogMetadata) {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata) {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata) {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata) {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata) {
    this.log('ERROR', message, meta);
  }
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const COUNT_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

interface Series {
  labels: MetricTags;
  value: number;
  /** Histograms: cumulative counts per bucket, sum and count. */
  buckets?: number[];
  sum?: number;
  count?: number;
}
interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  bucketBounds: number[];
  series: Map<string, Series>;
}

const sanitizeName = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/^([^a-zA-Z_:])/, '_$1');
const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
function renderLabels(labels: MetricTags, extra?: [string, string]): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${sanitizeName(key)}="${escapeLabel(String(value))}"`);
  if (extra) pairs.push(`${extra[0]}="${extra[1]}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

/** Accumulates the SDK's buffered metric updates and renders them in Prometheus text format. */
export class SdkMetrics {
  private readonly families = new Map<string, Family>();

  constructor(private readonly buffer: MetricsBuffer) {}

  /** Drains the SDK's buffer (it drops updates once full, so this also runs on a timer). */
  drain(): void {
    for (const { metric, value, attributes } of this.buffer.retrieveUpdates()) this.apply(metric, value, attributes);
  }

  private family(metric: Metric): Family {
    const name = sanitizeName(metric.name);
    let family = this.families.get(name);
    if (!family) {
      const type = metric.kind === 'histogram' ? 'histogram' : metric.kind === 'counter' ? 'counter' : 'gauge';
      const isDuration = metric.unit === 's' || metric.unit === 'ms' || /latency|duration/.test(metric.name);
      family = {
        name,
        help: (metric.description ?? metric.name).replace(/\n/g, ' '),
        type,
        bucketBounds: isDuration ? DURATION_BUCKETS : COUNT_BUCKETS,
        series: new Map(),
      };
      this.families.set(name, family);
    }
    return family;
  }

  private apply(metric: Metric, value: number, attributes: MetricTags): void {
    const family = this.family(metric);
    // Runs for every SDK metric update (dozens per notification): a plain code-unit sort, no locale collation.
    const key = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let series = family.series.get(key);
    if (!series) {
      series = { labels: { ...attributes }, value: 0 };
      if (family.type === 'histogram')
        Object.assign(series, { buckets: family.bucketBounds.map(() => 0), sum: 0, count: 0 });
      family.series.set(key, series);
    }
    if (metric.kind === 'counter' || metric.kind === 'up-down-counter') series.value += value;
    else if (metric.kind === 'gauge') series.value = value;
    else {
      // Milliseconds only if the SDK ignored useSecondsForDurations.
      const observed = metric.unit === 'ms' ? value / 1000 : value;
      family.bucketBounds.forEach((bound, i) => {
        if (observed <= bound) series.buckets![i]! += 1;
      });
      series.sum! += observed;
      series.count! += 1;
    }
  }

  render(): string {
    this.drain();
    const lines: string[] = [];
    for (const family of this.families.values()) {
      lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
      for (const series of family.series.values()) {
        if (family.type !== 'histogram') {
          lines.push(`${family.name}${renderLabels(series.labels)} ${series.value}`);
          continue;
        }
        family.bucketBounds.forEach((bound, i) => {
          lines.push(
            `${family.name}_bucket${renderLabels(series.labels, ['le', String(bound)])} ${series.buckets![i]}`,
          );
        });
        lines.push(`${family.name}_bucket${renderLabels(series.labels, ['le', '+Inf'])} ${series.count}`);
        lines.push(`${family.name}_sum${renderLabels(series.labels)} ${series.sum}`);
        lines.push(`${family.name}_count${renderLabels(series.labels)} ${series.count}`);
      }
    }
    return lines.length > 0 ? `${lines.join('\n')}\n` : '';
  }
}

export interface TemporalRuntime {
  sdkMetrics: SdkMetrics;
  /** Points SDK logs at this logger. */
  setLogger(logger: Logger): void;
  /** Logs these warnings at debug from now on. */
  expect(patterns: RegExp[]): void;
  /** Says the Temporal server is down on purpose-known grounds (being restarted), or back (undefined). */
  setTemporalOutage(state: string | undefined): void;
}

let installed: TemporalRuntime | undefined;

export interface TemporalRuntimeOptions {
  /** Where SDK logs go from now on. */
  logger?: Logger;
  /** Where they go when this call installs the Runtime and `logger` is absent (default: warnings, to stdout). */
  initialLogger?: Logger;
  coreLogLevel?: LogLevel;
  /**
   * More warnings that are expected in this process and logged at debug: the test harness adds what the
   * time-skipping test server makes the SDK say about itself.
   */
  expected?: RegExp[];
}

/**
 * Installs the Runtime (idempotent). Returns undefined when something already instantiated the default Runtime in
 * this process: SDK logs then go to the console and SDK metrics are not exported.
 */
export function installTemporalRuntime(options: TemporalRuntimeOptions = {}) {
  if (installed) {
    if (options.logger) installed.setLogger(options.logger);
    installed.expect(options.expected ?? []);
    return installed;
  }
  if (Runtime._instance !== undefined) return undefined;
  const logger = new PinoTemporalLogger(options.logger ?? options.initialLogger ?? createLogger('warn'));
  logger.expected.push(...(options.expected ?? []));
  const buffer = new MetricsBuffer({ maxBufferSize: 100_000, useSecondsForDurations: true });
  Runtime.install({
    logger,
    // Herald's own SIGINT/SIGTERM handler (scripts/run.ts) stops the worker, then closes its connections, in order.
    shutdownSignals: [],
    telemetryOptions: {
      logging: { filter: { core: options.coreLogLevel ?? 'WARN', other: 'ERROR' }, forward: {} },
      metrics: { buffer },
    },
  });
  const sdkMetrics = new SdkMetrics(buffer);
  setInterval(() => sdkMetrics.drain(), 1000).unref();
  installed = {
    sdkMetrics,
    setLogger(target) {
      logger.target = target;
    },
    expect(patterns) {
      for (const pattern of patterns) {
        if (!logger.expected.some((p) => p.source === pattern.source)) logger.expected.push(pattern);
      }
    },
    setTemporalOutage(state) {
      logger.outage = state;
    },
  };
  return installed;
}
