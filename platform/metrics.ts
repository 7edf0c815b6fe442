/**
 * Herald's Prometheus metrics (GET /metrics on every API and worker process). One registry per running Herald; the
 * Temporal SDK's worker metrics (platform/temporal-runtime.ts) are appended to the same page.
 *
 * Counters are per process and counted at least once (an activity that is retried after a crash counts again);
 * Prometheus sums them across replicas.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SdkMetrics } from './temporal-runtime';

export type ProviderResult = 'ok' | 'transient' | 'permanent_target' | 'permanent_request' | 'error';

/** What the activities report (activities/index.ts takes this optional dependency). */
export interface ActivityMetrics {
  notificationStatus(status: string): void;
  providerCall(channel: string, provider: string, result: ProviderResult, seconds: number): void;
  delivery(channel: string, provider: string, outcome: 'sent' | 'failed'): void;
}

export interface QueueStat {
  taskQueue: string;
  type: 'workflow' | 'activity';
  backlogCount: number;
  backlogAgeSeconds: number;
  pollers: number;
  addRate: number;
  dispatchRate: number;
  /** The queue's rate limit, not the number of workers, is what holds tasks back. */
  rateLimited: boolean;
}

export class HeraldMetrics implements ActivityMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly notifications: Counter<'status'>;
  readonly deliveries: Counter<'channel' | 'provider' | 'outcome'>;
  readonly providerRequests: Counter<'channel' | 'provider' | 'result'>;
  readonly providerDuration: Histogram<'channel' | 'provider' | 'result'>;
  private queueSource?: () => Promise<QueueStat[]>;
  private sdk?: SdkMetrics;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // Process CPU, memory, event loop lag, GC, under their standard names.
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'herald_http_requests_total',
      help: 'API requests by route pattern, method and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'herald_http_request_duration_seconds',
      help: 'API request latency by route pattern, method and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.notifications = new Counter({
      name: 'herald_notifications_total',
      help: 'Notifications entering each status (accepted by the API; the rest by workers)',
      labelNames: ['status'],
      registers,
    });
    this.deliveries = new Counter({
      name: 'herald_deliveries_total',
      help: 'Deliveries by channel, provider and final outcome (sent, or failed after the retry policy gave up)',
      labelNames: ['channel', 'provider', 'outcome'],
      registers,
    });
    this.providerRequests = new Counter({
      name: 'herald_provider_requests_total',
      help: 'Provider calls (one per attempt) by result: ok, transient (retried), permanent_target, permanent_request',
      labelNames: ['channel', 'provider', 'result'],
      registers,
    });
    this.providerDuration = new Histogram({
      name: 'herald_provider_request_duration_seconds',
      help: 'Provider call latency by channel, provider and result',
      labelNames: ['channel', 'provider', 'result'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });

    const source = () => this.queueSource;
    let pending: Promise<QueueStat[]> | undefined;
    // Both queue gauges are filled from one DescribeTaskQueue round per scrape.
    const queueStats = () => {
      pending ??= (source()?.() ?? Promise.resolve([])).finally(() => setTimeout(() => (pending = undefined), 0));
      return pending;
    };
    const queueGauge = (name: string, help: string, pick: (s: QueueStat) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['task_queue', 'type'],
        registers,
        async collect() {
          this.reset();
          if (!source()) return;
          for (const stat of await queueStats().catch(() => [])) {
            this.set({ task_queue: stat.taskQueue, type: stat.type }, pick(stat));
          }
        },
      });
    queueGauge(
      'herald_task_queue_backlog_count',
      "Tasks waiting for a worker on each task queue (Temporal's approximate backlog count)",
      (s) => s.backlogCount,
    );
    queueGauge(
      'herald_task_queue_backlog_age_seconds',
      'Age of the oldest task waiting on each task queue',
      (s) => s.backlogAgeSeconds,
    );
    queueGauge('herald_task_queue_pollers', 'Workers polling each task queue', (s) => s.pollers);
    queueGauge('herald_task_queue_add_rate', 'Tasks added per second (server estimate)', (s) => s.addRate);
    queueGauge(
      'herald_task_queue_dispatch_rate',
      'Tasks dispatched per second (server estimate)',
      (s) => s.dispatchRate,
    );
    queueGauge(
      'herald_task_queue_rate_limited',
      '1 when the task queue rate limit, not the number of workers, is what holds tasks back',
      (s) => (s.rateLimited ? 1 : 0),
    );
  }

  /** Where the task queue gauges come from (the API process only, so the series are not duplicated by workers). */
  watchQueues(source: () => Promise<QueueStat[]>): void {
    this.queueSource = source;
  }

  /** Appends the Temporal SDK's metrics to this page. */
  includeSdkMetrics(sdk: SdkMetrics | undefined): void {
    this.sdk = sdk;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    const own = await this.registry.metrics();
    return this.sdk ? `${own.replace(/\n*$/, '\n')}${this.sdk.render()}` : own;
  }

  notificationStatus(status: string): void {
    this.notifications.inc({ status });
  }

  providerCall(channel: string, provider: string, result: ProviderResult, seconds: number): void {
    this.providerRequests.inc({ channel, provider, result });
    this.providerDuration.observe({ channel, provider, result }, seconds);
  }

  delivery(channel: string, provider: string, outcome: 'sent' | 'failed'): void {
    this.deliveries.inc({ channel, provider, outcome });
  }
}
