/**
 * `npm run bench`: end-to-end throughput and latency on this machine, printed, never asserted.
 * The real API, a real Temporal dev server, the embedded database (or DATABASE_URL) and the outbox provider: N
 * notifications (each with push, SMS and email) are sent with bounded concurrency; we measure how long the API takes
 * to accept (202 = the workflow start is durable), how long until all are delivered, and the process's memory.
 */
import { performance } from 'node:perf_hooks';
import { startTestHerald } from '../test/support/herald';

const N = Number(process.env.BENCH_NOTIFICATIONS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function main() {
  const herald = await startTestHerald();
  try {
    await herald.api('PUT', '/v1/users/bench', { email: 'bench@example.com', phone: '+14155550100' });
    await herald.api('POST', '/v1/users/bench/devices', { platform: 'android', token: 'bench-device-token' });
    await herald.api('PUT', '/v1/templates/bench', {
      channels: {
        push: { title: 'Hi', body: 'n={{ n }}' },
        sms: { body: 'n={{ n }}' },
        email: { subject: 'n={{ n }}', text: 'x' },
      },
    });

    const latencies: number[] = [];
    const ids: string[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) {
          const n = next++;
          const t0 = performance.now();
          const response = await herald.api('POST', '/v1/notifications', {
            userId: 'bench',
            template: 'bench',
            data: { n },
          });
          latencies.push(performance.now() - t0);
          if (response.status !== 202)
            throw new Error(`unexpected ${response.status}: ${JSON.stringify(response.body)}`);
          ids.push(response.body.id);
        }
      }),
    );
    const accepted = performance.now();
    for (;;) {
      const pending = await herald.db.prisma.notification.count({
        where: { id: { in: ids }, status: { notIn: ['delivered', 'failed', 'partially_delivered', 'suppressed'] } },
      });
      if (pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const done = performance.now();
    const deliveries = await herald.db.prisma.delivery.count({
      where: { notificationId: { in: ids }, status: 'sent' },
    });
    latencies.sort((a, b) => a - b);
    const memory = process.memoryUsage();

    console.log(`herald bench — ${N} notifications × 3 channels, concurrency ${CONCURRENCY}, ${herald.db.kind}`);
    console.log(`  accept (POST → 202):  ${(N / ((accepted - started) / 1000)).toFixed(1)} notifications/s`);
    console.log(
      `  accept latency:       p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
    );
    console.log(
      `  end to end:           ${(N / ((done - started) / 1000)).toFixed(1)} notifications/s, ${(deliveries / ((done - started) / 1000)).toFixed(1)} deliveries/s`,
    );
    console.log(`  deliveries sent:      ${deliveries} of ${N * 3}`);
    console.log(`  memory (this process: API + worker + database): rss ${mb(memory.rss)}, heap ${mb(memory.heapUsed)}`);
  } finally {
    await herald.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
