/**
 * Per-provider failure rate over a sliding window, kept in the database (one row per provider per minute) so that
 * every worker adds to the same window, and an operator alert when the rate crosses the threshold: a webhook POST,
 * at most once per provider per cooldown across all workers (a conditional update claims the right to send).
 *
 * Calls are counted in memory and added to the database once a second per provider, not once per call: at the design
 * peak (~7,000 provider calls a second) a write per call would be thousands of updates a second on the same few rows,
 * each waiting for the previous one's row lock. The price is that the shared window (and the alert) lags by up to a
 * second, and a worker killed with -9 loses at most its last second of counts; `close()` flushes on shutdown.
 */
import type { PrismaClient } from '../generated/prisma/client';
import type { DeliveryConfig } from '../platform/config/delivery';

const BUCKET_MS = 60_000;
const FLUSH_MS = 1_000;
const CLEANUP_MS = 10 * 60_000;

export interface ProviderAlertPayload {
  type: 'provider_failure_rate';
  provider: string;
  failureRate: number;
  calls: number;
  failures: number;
  windowSeconds: number;
  threshold: number;
  at: string;
}

export interface ProviderHealth {
  /** One provider call's outcome; `failed` counts the provider's fault only (not a dead token or a bad number). */
  record(provider: string, failed: boolean): void;
  /** Adds the counts held in memory to the database and checks the alert; never throws. */
  flush(): Promise<void>;
  /** Stops the flush timer and flushes what is left (worker shutdown). */
  close(): Promise<void>;
}

interface PendingCounts {
  provider: string;
  bucket: Date;
  calls: number;
  failures: number;
}

export function createProviderHealth(options: {
  db: PrismaClient;
  alerts: DeliveryConfig['alerts'];
  clock: () => Date;
  onError?: (error: unknown) => void;
}): ProviderHealth {
  const { db, alerts, clock } = options;
  let pending = new Map<string, PendingCounts>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let lastCleanup = clock().getTime();

  async function bump({ provider, bucket, calls, failures }: PendingCounts) {
    const update = { calls: { increment: calls }, failures: { increment: failures } };
    try {
      await db.providerCallStat.upsert({
        where: { provider_bucket: { provider, bucket } },
        create: { provider, bucket, calls, failures },
        update,
      });
    } catch {
      // Two workers created the same minute's row at once: it exists now, add to it.
      await db.providerCallStat.update({ where: { provider_bucket: { provider, bucket } }, data: update });
    }
  }

  async function alertIfOver(provider: string, now: Date) {
    if (!alerts.webhookUrl) return;
    const since = new Date(now.getTime() - alerts.windowMs);
    const sum = await db.providerCallStat.aggregate({
      where: { provider, bucket: { gte: new Date(Math.floor(since.getTime() / BUCKET_MS) * BUCKET_MS) } },
      _sum: { calls: true, failures: true },
    });
    const calls = sum._sum.calls ?? 0;
    const failures = sum._sum.failures ?? 0;
    if (calls < alerts.minCalls || failures / calls < alerts.threshold) return;
    const failureRate = failures / calls;
    // Claim the alert: insert the provider's first, or move an old one forward; a concurrent claimer gets 0 rows.
    const cutoff = new Date(now.getTime() - alerts.cooldownMs);
    let claimed = false;
    try {
      await db.providerAlert.create({ data: { provider, lastAlertAt: now, failureRate } });
      claimed = true;
    } catch {
      const moved = await db.providerAlert.updateMany({
        where: { provider, lastAlertAt: { lt: cutoff } },
        data: { lastAlertAt: now, failureRate },
      });
      claimed = moved.count === 1;
    }
    if (!claimed) return;
    const payload: ProviderAlertPayload = {
      type: 'provider_failure_rate',
      provider,
      failureRate: Math.round(failureRate * 1000) / 1000,
      calls,
      failures,
      windowSeconds: Math.round(alerts.windowMs / 1000),
      threshold: alerts.threshold,
      at: now.toISOString(),
    };
    const response = await fetch(alerts.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'herald-alerts' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(5_000),
    });
    await response.body?.cancel();
  }

  async function flushNow() {
    timer = undefined;
    const batch = [...pending.values()];
    pending = new Map();
    if (batch.length === 0) return;
    const now = clock();
    try {
      for (const counts of batch) await bump(counts);
      const failing = new Set(batch.filter((counts) => counts.failures > 0).map((counts) => counts.provider));
      for (const provider of failing) await alertIfOver(provider, now);
      if (now.getTime() - lastCleanup >= CLEANUP_MS) {
        lastCleanup = now.getTime();
        await db.providerCallStat.deleteMany({
          where: { bucket: { lt: new Date(now.getTime() - Math.max(alerts.windowMs * 2, 3_600_000)) } },
        });
      }
    } catch (error) {
      // Bookkeeping must never fail a delivery.
      options.onError?.(error);
    }
  }

  /** One flush at a time, in order: a flush asked for during another runs after it. */
  function flush(): Promise<void> {
    flushing = flushing.then(flushNow);
    return flushing;
  }

  return {
    record(provider, failed) {
      if (provider === 'outbox' || provider === '-') return;
      const bucket = Math.floor(clock().getTime() / BUCKET_MS) * BUCKET_MS;
      const key = `${provider}\u0000${bucket}`;
      const counts = pending.get(key) ?? { provider, bucket: new Date(bucket), calls: 0, failures: 0 };
      counts.calls += 1;
      if (failed) counts.failures += 1;
      pending.set(key, counts);
      if (!timer) {
        timer = setTimeout(() => void flush(), FLUSH_MS);
        timer.unref();
      }
    },
    flush,
    async close() {
      if (timer) clearTimeout(timer);
      await flush();
    },
  };
}
