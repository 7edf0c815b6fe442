/**
 * How many recipients per second a campaign run reaches on this machine: the real API, worker and Temporal dev server
 * in one process (as `npm start` runs them), providers at the outbox. Prints one line per progress change.
 *
 *   npx tsx bench/campaign.ts [recipients=2000] [pageSize=500] [maxInFlight=1000]
 *   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx bench/campaign.ts 5000
 */
import { startTestHerald } from '../test/support/herald';

async function main() {
  const [recipients = 2000, pageSize = 500, maxInFlight = 1000] = process.argv.slice(2).map(Number);
  const herald = await startTestHerald();
  try {
    await herald.api('PUT', '/v1/templates/bench', { channels: { email: { subject: 'Hi {{ user.id }}', text: 'x' } } });
    await herald.db.prisma.user.createMany({
      data: Array.from({ length: recipients }, (_, i) => ({
        id: `b${String(i).padStart(7, '0')}`,
        email: `b${i}@x.test`,
      })),
    });
    await herald.api('PUT', '/v1/topics/bench');
    for (let i = 0; i < recipients; i += 1000) {
      const userIds = Array.from(
        { length: Math.min(1000, recipients - i) },
        (_, j) => `b${String(i + j).padStart(7, '0')}`,
      );
      await herald.api('PUT', '/v1/topics/bench/subscribers', { userIds });
    }
    const campaign = await herald.api('POST', '/v1/campaigns', {
      name: 'bench',
      template: 'bench',
      audience: { topic: 'bench' },
      schedule: { cron: '0 0 1 1 *' },
      pacing: { pageSize, maxInFlight },
    });
    await herald.api('POST', `/v1/campaigns/${campaign.body.id}/trigger`);
    let runId: string | undefined;
    while (!runId) {
      runId = (await herald.api('GET', `/v1/campaigns/${campaign.body.id}/runs`)).body.runs[0]?.id;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    let last = '';
    for (;;) {
      const run = (await herald.api('GET', `/v1/campaigns/${campaign.body.id}/runs/${runId}`).catch(() => undefined))
        ?.body;
      if (run) {
        const line = `started ${run.started} finished ${run.delivered + run.failed + run.suppressed} in flight ${run.inFlight} (${run.percentComplete}%) eta ${run.estimatedSecondsRemaining}s`;
        if (line !== last) console.log(new Date().toISOString(), line);
        last = line;
        if (run.status === 'completed') {
          const seconds = (Date.parse(run.completedAt) - Date.parse(run.startedAt)) / 1000;
          console.log(
            `${recipients} recipients in ${seconds.toFixed(1)} s: ${(recipients / seconds).toFixed(1)} recipients/s ` +
              `(${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, pageSize ${pageSize}, maxInFlight ${maxInFlight})`,
          );
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } finally {
    await herald.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
