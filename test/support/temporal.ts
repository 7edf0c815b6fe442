import fs from 'node:fs';
import path from 'node:path';
import { InterceptingCall, ListenerBuilder, RequesterBuilder, type Interceptor } from '@grpc/grpc-js';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionPlugin } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporalBinary } from '../../server/temporal-binaries';
import { createLogger } from '../../platform/logger';
import { installTemporalRuntime } from '../../platform/temporal-runtime';
import { runDir } from './run-dir';
import { stopWorkers, track, trackWorker } from './teardown';
import { until } from './until';

/** TEST_LOG_LEVEL=debug (or info, warn) shows the SDK's and the servers' logs when a test needs investigating. */
const LOG_LEVEL = process.env.TEST_LOG_LEVEL;

/**
 * The time-skipping test server does not advertise the capabilities of a real server, and the SDK warns about it
 * at every worker start; what it warns about (heartbeat details kept when an activity fails) is not what these tests
 * check, and a real server has it.
 */
const TEST_SERVER_WARNINGS = [/^Temporal Server 1\.16\.0 or newer is required/];

function installTestRuntime(): void {
  // Herald's Runtime (SDK logs through pino, SDK metrics on /metrics) must exist before the SDK makes its default one.
  // In tests its logs are errors only, unless TEST_LOG_LEVEL asks for more or a test installed its own logger first.
  installTemporalRuntime({ initialLogger: createLogger(LOG_LEVEL ?? 'error'), expected: TEST_SERVER_WARNINGS });
}

// Every worker a test file creates (its own, or Herald's through server/worker.ts) is recorded, so that it is shut down
// before its server goes away, even when the test that started it timed out (test/support/teardown.ts).
const create = Worker.create.bind(Worker);
Worker.create = async (options) => {
  const worker = await create(options);
  trackWorker(worker, options.connection);
  return worker;
};

/**
 * The server binary, with its output (a banner per start, and a log line for every request it refuses, which some
 * tests provoke on purpose) sent nowhere unless TEST_LOG_LEVEL is set. The SDK copies a server's output straight to
 * the terminal, past jest's reporters, so this is the only place to quieten it.
 */
function serverExecutable(name: 'temporal' | 'temporal-test-server'): string {
  const binary = temporalBinary(name);
  if (LOG_LEVEL) return binary;
  const wrapper = path.join(runDir(), `${name}-quiet`);
  if (!fs.existsSync(wrapper)) {
    const quoted = `'${binary.replace(/'/g, `'\\''`)}'`;
    const partial = `${wrapper}.${process.pid}.partial`;
    // `exec`: the server keeps the wrapper's process id, so the SDK stops the server itself.
    fs.writeFileSync(partial, `#!/bin/sh\nexec ${quoted} "$@" >/dev/null 2>&1\n`, { mode: 0o755 });
    fs.renameSync(partial, wrapper);
  }
  return wrapper;
}

/**
 * Counts the client calls in flight on a connection, retries included. A call that a timed-out test left running
 * (a workflow result, an update being retried) must end before the connection closes: the SDK retries a failed call
 * from a timer, and a retry on a closed connection throws "Channel has been shut down" out of that timer, which
 * crashes the jest worker or fails whichever test file runs next.
 */
class CallsInFlight implements ConnectionPlugin {
  readonly name = 'herald-test-calls-in-flight';
  count = 0;

  configureConnection(options: Parameters<NonNullable<ConnectionPlugin['configureConnection']>>[0]) {
    const counter: Interceptor = (callOptions, nextCall) =>
      new InterceptingCall(
        nextCall(callOptions),
        new RequesterBuilder()
          .withStart((metadata, _listener, next) => {
            this.count += 1;
            const counted = new ListenerBuilder()
              .withOnReceiveStatus((status, nextStatus) => {
                this.count -= 1;
                nextStatus(status);
              })
              .build();
            next(metadata, counted);
          })
          .build(),
      );
    // Outermost, so that the retries happen inside it: a call counts until its last attempt has ended.
    const interceptors = options.interceptors ?? [makeGrpcRetryInterceptor(defaultGrpcRetryOptions())];
    return { ...options, interceptors: [counter, ...interceptors] };
  }
}

/**
 * Registers the environment for the end-of-file clean-up, and orders its teardown: the workers on its connection
 * stop first (a worker left polling a killed server retries for ever and keeps jest from exiting), then the server
 * goes, then the client connection closes once the calls still in flight have failed for want of a server.
 */
function tracked(env: TestWorkflowEnvironment, calls: CallsInFlight, name: string): TestWorkflowEnvironment {
  const teardown = env.teardown.bind(env);
  const closeClient = env.connection.close.bind(env.connection);
  let done: Promise<void> | undefined;
  const forget = track(name, () => env.teardown());
  env.teardown = () =>
    (done ??= (async () => {
      forget();
      await stopWorkers(env.nativeConnection);
      env.connection.close = async () => undefined; // closed below, once nothing uses it
      await teardown();
      // Bounded by the SDK's retries (10 attempts, about 15 s against a server that is gone).
      const ended = await until('client calls to end', async () => (calls.count === 0 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 50,
      }).catch(() => false);
      // Left open rather than closed under a call: an idle connection does not keep the process alive.
      if (ended) await closeClient();
      else console.error(`test teardown: ${calls.count} Temporal client call(s) still in flight; connection left open`);
    })());
  return env;
}

/** A real dev server (`temporal server start-dev`, in memory) from the project's .venv — never a download. */
export async function createLocalTemporal(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const calls = new CallsInFlight();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: serverExecutable('temporal') },
      extraArgs: ['--log-level', LOG_LEVEL === 'debug' ? 'info' : 'error'],
    },
    plugins: [calls],
  });
  return tracked(env, calls, 'a Temporal dev server');
}

/** The time-skipping test server from the project's .venv. */
export async function createTimeSkippingTemporal(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const calls = new CallsInFlight();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: serverExecutable('temporal-test-server') } },
    plugins: [calls],
  });
  return tracked(env, calls, 'a Temporal time-skipping server');
}
