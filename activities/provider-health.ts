/**
 * Per-provider failure rate over a sliding window, kept in the database (one row per provider per minute) so that
 * every worker adds to the same window, and an operator alert when the rate crosses the threshold: a webhook POST,
 * at most once per provider per cooldown across all workers (a conditional update claims the right to send).
 */
import type { PrismaClient } from '../generated/prisma/client';
import type { DeliveryConfig } from '../lib/delivery-config';

const BUCKET_MS = 60_000;

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
  record(provider: string, failed: boolean): Promise<void>;
}

export function createProviderHealth(options: {
  db: PrismaClient;
  alerts: DeliveryConfig['alerts'];
  clock: () => Date;
  onError?: (error: unknown) => void;
}): ProviderHealth {
  const { db, alerts, clock } = options;
  let recorded = 0;

  async function bump(provider: string, bucket: Date, failed: boolean) {
    const update = { calls: { increment: 1 }, failures: { increment: failed ? 1 : 0 } };
    try {
      await db.providerCallStat.upsert({
        where: { provider_bucket: { provider, bucket } },
        create: { provider, bucket, calls: 1, failures: failed ? 1 : 0 },
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

  return {
    async record(provider, failed) {
      if (provider === 'outbox' || provider === '-') return;
      const now = clock();
      try {
        await bump(provider, new Date(Math.floor(now.getTime() / BUCKET_MS) * BUCKET_MS), failed);
        if (failed) await alertIfOver(provider, now);
        if (++recorded % 200 === 0) {
          await db.providerCallStat.deleteMany({
            where: { bucket: { lt: new Date(now.getTime() - Math.max(alerts.windowMs * 2, 3_600_000)) } },
          });
        }
      } catch (error) {
        // Bookkeeping must never fail a delivery.
        options.onError?.(error);
      }
    },
  };
}
