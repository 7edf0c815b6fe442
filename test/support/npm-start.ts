/**
 * `npm start` as an operator runs it, for the tests that must kill it or what it started: the real start script as a
 * child process in its own process group (one signal reaches everything it started, the Temporal dev server
 * included), its log in the data folder, SMS through a Twilio fake, the test's own database when DATABASE_URL is set
 * (the embedded one otherwise), and free ports for everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unusedPort } from '../fakes/http-fake-server';
import { TwilioFake } from '../fakes/twilio.fake';
import { createTestDatabase, type TestDatabase } from './database';
import { npmScriptCommand } from './npm-script';
import { until } from './until';

const ROOT = path.resolve(__dirname, '..', '..');

export interface NpmStartSetup {
  dataDir: string;
  baseUrl: string;
  twilio: TwilioFake;
  /** The environment `npm start` is given (the contract's variables only). */
  env: Record<string, string>;
  /** Starts `npm start` (again, on the same data folder). */
  start(): ChildProcess;
  /** Waits until /readyz answers 200 (the log's tail in the message if it never does). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Calls the API with the setup's key; returns status and parsed JSON. */
  api(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer>;
  log(): string;
  /** Ends the process group (SIGTERM, then SIGKILL after `graceMs`), the fake, the database and the data folder. */
  cleanup(proc: ChildProcess | undefined, graceMs?: number): Promise<void>;
}

export interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function setUpNpmStart(name: string, apiKey: string, logLevel = 'warn'): Promise<NpmStartSetup> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `herald-${name}-`));
  const twilio = new TwilioFake();
  const twilioUrl = await twilio.start();
  const database: TestDatabase | undefined = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const port = await unusedPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    PORT: String(port),
    HERALD_DATA_DIR: dataDir,
    HERALD_API_KEY: apiKey,
    HERALD_TEMPORAL_PORT: String(await unusedPort()),
    HERALD_TEMPORAL_UI_PORT: String(await unusedPort()),
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM: '+15005550006',
    TWILIO_ENDPOINT: twilioUrl,
    LOG_LEVEL: logLevel,
    ...(database?.url ? { DATABASE_URL: database.url } : {}),
  };
  const logFile = path.join(dataDir, 'herald.log');
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  return {
    dataDir,
    baseUrl,
    twilio,
    env,
    start() {
      const log = fs.openSync(logFile, 'a');
      const command = npmScriptCommand('start');
      const proc = spawn(process.execPath, command.nodeArgs, {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...command.env, ...env },
        detached: true,
        stdio: ['ignore', log, log],
      });
      fs.closeSync(log);
      return proc;
    },
    async waitReady(timeoutMs = 90_000) {
      await until(
        () => `Herald to be ready (log: ${log().slice(-2000)})`,
        async () => ((await fetch(`${baseUrl}/readyz`)).status === 200 ? true : undefined),
        { timeoutMs, retryOn: () => true },
      );
    },
    async api(method, route, body, headers = {}) {
      const response = await fetch(`${baseUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    log,
    async cleanup(proc, graceMs = 20_000) {
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        const signal = (name: NodeJS.Signals) => {
          try {
            process.kill(-proc.pid!, name);
          } catch {
            // already gone
          }
        };
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // The dev server too, should Herald have died without stopping it.
      try {
        process.kill(Number(fs.readFileSync(path.join(dataDir, 'temporal.pid'), 'utf8')), 'SIGKILL');
      } catch {
        // already gone, or never started
      }
      await twilio.stop();
      await database?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
