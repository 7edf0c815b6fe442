/**
 * A database outage must not send anything twice. Herald runs on a PostgreSQL cluster of this test's own, which is
 * crashed (`pg_ctl stop -m immediate`) and started again three times while notifications to four-target users (an iOS
 * and an Android device, a phone, an e-mail address) stream in. Every notification must end delivered, every target
 * must be reached exactly once at its provider, and the API must never answer 500 — while the database is down it
 * answers 503 with a retry hint, and the client sends the same Idempotency-Key again.
 */
import { until } from '../support/until';
import { startProviderFakes, type ProviderFakes } from '../support/provider-fakes';
import { postgresBinaries, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';
import { startTestHerald, type TestHerald } from '../support/herald';

jest.setTimeout(300_000);

const NOTIFICATIONS = 36;
const USERS = 6;

const runnable = postgresBinaries() !== undefined;
const maybe = runnable ? describe : describe.skip;

let pg: PrivatePostgres;
let fakes: ProviderFakes;
let herald: TestHerald;

beforeAll(async () => {
  if (!runnable) return;
  pg = await startPrivatePostgres();
  fakes = await startProviderFakes();
  const shared = process.env.DATABASE_URL;
  // startTestHerald makes the test's database on the server DATABASE_URL names: this test's own cluster.
  process.env.DATABASE_URL = pg.url;
  try {
    herald = await startTestHerald({ env: fakes.env });
  } finally {
    if (shared === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = shared;
  }
});

afterAll(async () => {
  // Whatever happened, the cluster is running again before Herald is stopped (its database is dropped on close).
  try {
    pg?.start();
  } catch {
    // Already running.
  }
  await herald?.stop().catch(() => undefined);
  await fakes?.stop();
  pg?.destroy();
});

maybe('a database that crashes and restarts during a stream of notifications', () => {
  it('delivers every notification, reaches every target exactly once, and never answers 500', async () => {
    for (let u = 0; u < USERS; u++) {
      const id = `outage-${u}`;
      expect(
        (await herald.api('PUT', `/v1/users/${id}`, { email: `${id}@example.com`, phone: `+1415555${2000 + u}` }))
          .status,
      ).toBeLessThan(300);
      for (const [platform, token] of [
        ['ios', `${'a'.repeat(60)}${String(u).padStart(4, '0')}`],
        ['android', `fcm-outage-token-${u}`],
      ] as const) {
        expect((await herald.api('POST', `/v1/users/${id}/devices`, { platform, token })).status).toBe(201);
      }
    }
    await herald.api('PUT', '/v1/templates/outage', {
      channels: {
        push: { title: 'Outage', body: 'n={{ n }}' },
        sms: { body: 'n={{ n }}' },
        email: { subject: 'n={{ n }}', text: 'n={{ n }}' },
      },
    });

    const statuses: number[] = [];
    const ids: string[] = [];
    /** Sends with one key until it is accepted: 503 (database or Temporal unavailable) is an answer to retry. */
    const send = async (n: number) => {
      for (;;) {
        const response = await herald
          .api(
            'POST',
            '/v1/notifications',
            { userId: `outage-${n % USERS}`, template: 'outage', data: { n } },
            { 'Idempotency-Key': `outage-${n}` },
          )
          .catch(() => ({ status: 0, body: undefined, headers: new Headers() }));
        statuses.push(response.status);
        if (response.status === 202) return response.body.id as string;
        expect(response.status).toBe(503);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    };

    // Three crashes while the stream runs: a few seconds down each time.
    const outages = (async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        pg.crash();
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        pg.start();
      }
    })();
    const stream = (async () => {
      for (let n = 0; n < NOTIFICATIONS; n++) {
        ids.push(await send(n));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    await Promise.all([outages, stream]);

    await until(
      'every notification to be delivered',
      async () => {
        const rows = await herald.db.prisma.notification.findMany({ where: { id: { in: ids } } }).catch(() => []);
        return rows.length === NOTIFICATIONS && rows.every((r) => r.status === 'delivered') ? rows : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );

    expect(statuses).not.toContain(500);
    // The stream did meet the outages (else this test proves nothing): some requests were told to come back.
    expect(statuses).toContain(503);
    const counts = (keys: string[]) =>
      keys.reduce<Record<string, number>>((acc, k) => ({ ...acc, [k]: (acc[k] ?? 0) + 1 }), {});
    const expected = Array.from({ length: NOTIFICATIONS }, (_, n) => `${n % USERS}:n=${n}`);
    const once = (seen: Record<string, number>) => {
      expect(Object.keys(seen).sort()).toEqual([...expected].sort());
      expect(Object.entries(seen).filter(([, c]) => c !== 1)).toEqual([]);
    };
    once(
      counts(
        fakes.apns.requests.map(
          (r) =>
            `${Number(r.deviceToken.slice(-4))}:${(r.body as { aps: { alert: { body: string } } }).aps.alert.body}`,
        ),
      ),
    );
    once(
      counts(
        fakes.fcm.requests
          .filter((r) => r.kind === 'send')
          .map((r) => {
            const { message } = r.body as { message: { token: string; notification?: { body?: string } } };
            return `${message.token.replace('fcm-outage-token-', '')}:${message.notification?.body ?? ''}`;
          }),
      ),
    );
    once(counts(fakes.twilio.sent.map((m) => `${Number(m.to.slice(-4)) - 2000}:${m.body}`)));
    once(
      counts(
        fakes.sendgrid.sent.map((m) => {
          const body = m.body as { personalizations: { to: { email: string }[] }[]; subject: string };
          return `${body.personalizations[0]!.to[0]!.email.replace(/^outage-(\d+)@.*$/, '$1')}:${body.subject}`;
        }),
      ),
    );
  });
});
