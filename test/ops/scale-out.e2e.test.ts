/**
 * Scale-out on one machine: two `npm run worker` processes on the same task queue, sharing Temporal and PostgreSQL,
 * take a run of notifications between them; one is killed with SIGKILL in the middle of it, and nothing is lost —
 * the survivor finishes every notification, including the SMS the dead worker had in flight (after their
 * start-to-close timeout).
 *
 * Needs PostgreSQL (DATABASE_URL): the embedded PGlite database lives inside one process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { formatEncryptionKeys, generateEncryptionKey } from '../../contract/codec';
import { unusedPort } from '../fakes/http-fake-server';
import { TwilioFake } from '../fakes/twilio.fake';
import { startTestHerald, waitForNotification, type TestHerald } from '../support/herald';
import { npmScriptCommand } from '../support/npm-script';
import { createLocalTemporal } from '../support/temporal';
import { until } from '../support/until';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '..', '..');
const NOTIFICATIONS = 40;
const PROVIDER_DELAY_MS = 1_500;

/**
 * Makes the Twilio fake slow to answer, like a real provider under load: a request it has received is processed
 * even if the caller dies before the answer (which is how a killed worker can cause a duplicate).
 */
class SlowLink {
  inFlight = 0;
  forwarded = 0;
  /** The message of every request that reached the link, in order (Twilio's form field `Body`). */
  readonly bodies: string[] = [];
  private underWayAfter?: { forwarded: number; resolve: () => void };

  /**
   * Resolves at the first moment `forwarded` requests have gone on to the provider while another is still held here.
   * Checked at every arrival and every forward (the only moments either count changes), so no such moment is missed
   * however the requests bunch up.
   */
  underWay(forwarded: number): Promise<void> {
    return new Promise((resolve) => {
      this.underWayAfter = { forwarded, resolve };
      this.check();
    });
  }

  private check(): void {
    if (this.underWayAfter && this.forwarded >= this.underWayAfter.forwarded && this.inFlight > 0) {
      this.underWayAfter.resolve();
      this.underWayAfter = undefined;
    }
  }
  private server?: http.Server;
  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.bodies.push(new URLSearchParams(Buffer.concat(chunks).toString()).get('Body') ?? '');
        this.inFlight++;
        this.check();
        setTimeout(() => {
          this.inFlight--;
          this.forwarded++;
          this.check();
          const upstream = http.request(
            `${this.target}${req.url}`,
            { method: req.method, headers: req.headers },
            (answer) => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
            },
          );
          upstream.on('error', () => res.destroy());
          res.on('error', () => undefined);
          upstream.end(Buffer.concat(chunks));
        }, PROVIDER_DELAY_MS);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const postgres = Boolean(process.env.DATABASE_URL);
const title = 'two worker processes share a run of notifications, and killing one mid-run loses nothing';

let temporal: TestWorkflowEnvironment;
let twilio: TwilioFake;
let link: SlowLink;
let herald: TestHerald;
let logDir: string;
const workers: { proc: ChildProcess; port: number; log: string }[] = [];

afterAll(async () => {
  for (const { proc } of workers) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  await herald?.stop();
  await link?.stop();
  await twilio?.stop();
  await temporal?.teardown();
  if (logDir) fs.rmSync(logDir, { recursive: true, force: true });
});

(postgres ? it : it.skip)(
  postgres
    ? title
    : `${title} — SKIPPED: set DATABASE_URL (PostgreSQL); the embedded PGlite database is single-process`,
  async () => {
    temporal = await createLocalTemporal();
    twilio = new TwilioFake();
    link = new SlowLink(await twilio.start());
    const keys = formatEncryptionKeys([generateEncryptionKey('scale')]);
    const providerEnv = {
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: '+15005550006',
      TWILIO_ENDPOINT: await link.start(),
      HERALD_ENCRYPTION_KEYS: keys,
    };
    // The API in this process, with no worker of its own; the workers are separate processes.
    herald = await startTestHerald({ env: providerEnv, temporal, worker: false });
    logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-scale-'));
    for (const name of ['a', 'b']) {
      const port = await unusedPort();
      const log = path.join(logDir, `worker-${name}.log`);
      const out = fs.openSync(log, 'a');
      // `npm run worker`, as one process (tsx as a loader rather than its CLI, which forks): the pid that is killed
      // is the worker's, and the identity Temporal records is `<that pid>@<host>`.
      const command = npmScriptCommand('worker');
      const proc = spawn(process.execPath, command.nodeArgs, {
        cwd: ROOT,
        env: {
          ...command.env,
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          ...providerEnv,
          HERALD_OPS_PORT: String(port),
          DATABASE_URL: herald.db.url!,
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_NAMESPACE: temporal.namespace ?? 'default',
          HERALD_TASK_QUEUE: herald.taskQueue,
          HERALD_DATA_DIR: path.join(logDir, name),
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', out, out],
      });
      fs.closeSync(out);
      workers.push({ proc, port, log });
    }
    // Each worker process serves /healthz and /metrics (with the SDK's worker metrics) on its HERALD_OPS_PORT.
    for (const worker of workers) {
      await until(
        `worker on :${worker.port} (log: ${worker.log})`,
        async () => ((await fetch(`http://127.0.0.1:${worker.port}/healthz`)).ok ? true : undefined),
        { timeoutMs: 120_000, retryOn: () => true },
      );
    }
    const metrics = await (await fetch(`http://127.0.0.1:${workers[0]!.port}/metrics`)).text();
    expect(metrics).toContain(`temporal_worker_task_slots_available{`);

    await herald.api('PUT', '/v1/templates/tick', { channels: { sms: { body: 'tick {{ n }}' } } });
    await herald.api('PUT', '/v1/users/scale', { phone: '+14155550199' });
    const ids: string[] = [];
    for (let n = 0; n < NOTIFICATIONS; n++) {
      const response = await herald.api('POST', '/v1/notifications', {
        userId: 'scale',
        template: 'tick',
        data: { n },
      });
      expect(response.status).toBe(202);
      ids.push(response.body.id);
    }

    // Mid-run: some messages went on to Twilio, others are still on the wire. Then one worker dies without warning.
    await link.underWay(5);
    const victim = workers[0]!;
    const sentAtKill = twilio.sent.length;
    victim.proc.kill('SIGKILL');
    await new Promise((resolve) => victim.proc.once('exit', resolve));
    expect(sentAtKill).toBeLessThan(NOTIFICATIONS);
    // The at-least-once window: messages that had reached the provider (through the link) but whose answer was not
    // recorded yet. The dead worker records nothing more, and its activities are retried only after their 30 s
    // start-to-close timeout, so read now this is every message that can still be sent twice.
    const recorded = new Set(
      (
        await herald.db.sql.query<{ n: string }>(
          `SELECT n.data ->> 'n' AS n FROM deliveries d JOIN notifications n ON n.id = d.notification_id
            WHERE d.status = 'sent' AND n.id = ANY($1::text[])`,
          [ids],
        )
      ).map((row) => `tick ${row.n}`),
    );
    const unrecordedAtKill = new Set(link.bodies.filter((body) => !recorded.has(body)));

    const finished = [];
    for (const id of ids) finished.push(await waitForNotification(herald, id, 180_000));
    expect(finished.map((n) => n.status)).toEqual(Array(NOTIFICATIONS).fill('delivered'));

    // Every notification reached the provider; a duplicate is possible only for a message the dead worker had
    // handed to the provider and not yet recorded (the at-least-once window), and only once.
    const bodies = twilio.sent.map((m) => m.body);
    expect(new Set(bodies)).toEqual(new Set(Array.from({ length: NOTIFICATIONS }, (_, n) => `tick ${n}`)));
    const duplicated = bodies.filter((body, i) => bodies.indexOf(body) !== i);
    for (const body of duplicated) expect(unrecordedAtKill).toContain(body);
    expect(new Set(duplicated).size).toBe(duplicated.length);

    // Both processes did the work: who ran each workflow task and activity is in the histories (identity = pid@host).
    const identities = new Map<string, number>();
    for (const id of ids) {
      const row = await herald.db.prisma.notification.findUniqueOrThrow({ where: { id } });
      const history = await herald.client.workflow.getHandle(row.workflowId).fetchHistory();
      for (const event of history.events ?? []) {
        // Workflow tasks and activities alike: an activity attempt that died with its worker is recorded under the
        // worker that ran its last attempt.
        const identity =
          event.activityTaskStartedEventAttributes?.identity ?? event.workflowTaskCompletedEventAttributes?.identity;
        if (identity) identities.set(identity, (identities.get(identity) ?? 0) + 1);
      }
    }
    const byPid = (pid: number) => [...identities].filter(([identity]) => identity.startsWith(`${pid}@`));
    expect(byPid(workers[0]!.proc.pid!).length).toBeGreaterThan(0);
    expect(byPid(workers[1]!.proc.pid!).length).toBeGreaterThan(0);
    console.log(
      `scale-out: ${NOTIFICATIONS} notifications; tasks by worker ${JSON.stringify(Object.fromEntries(identities))}; ` +
        `killed with ${sentAtKill} sent and ${unrecordedAtKill.size} sent but unrecorded; ${duplicated.length} duplicates`,
    );
  },
);
