/**
 * Everything a test file starts that could keep jest alive (Temporal workers, servers and connections, HTTP servers,
 * databases) is recorded here, so that the file's teardown closes it even when a test timed out half-way and its own
 * clean-up never ran. test/support/jest.setup.ts closes what is left after each file's own afterAll hooks.
 *
 * Order matters: a worker must stop before the connection it polls on is closed and before its server is killed,
 * otherwise it retries against a dead server forever and the process never exits. Resources are therefore closed in
 * the reverse order of their creation, and a Temporal environment stops the workers on its connection first.
 */
import type { NativeConnection, Worker } from '@temporalio/worker';
import { CLOSE_ALL } from './teardown-key';

interface Resource {
  name: string;
  close(): Promise<void>;
}

/** How long one resource may take to close before the next one is closed anyway. */
const CLOSE_TIMEOUT_MS = 15_000;

const open = new Set<Resource>();

/** Records a resource; returns a function that forgets it (call it once the resource has been closed normally). */
export function track(name: string, close: () => Promise<void>): () => void {
  const resource: Resource = { name, close };
  open.add(resource);
  return () => void open.delete(resource);
}

async function closeOne(resource: Resource): Promise<void> {
  open.delete(resource);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      resource.close(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not close within ${CLOSE_TIMEOUT_MS} ms`)), CLOSE_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    // Reported, not thrown: the remaining resources must still be closed, and the failure that left this one open
    // has already been reported by the test that failed.
    console.error(`test teardown: closing ${resource.name} failed: ${(error as Error)?.message ?? String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes every resource still open, newest first. */
export async function closeAll(): Promise<string[]> {
  const names: string[] = [];
  for (const resource of [...open].reverse()) {
    names.push(resource.name);
    await closeOne(resource);
  }
  return names;
}

interface TrackedWorker {
  worker: Worker;
  connection: NativeConnection | undefined;
  running?: Promise<void>;
}

const workers = new Set<TrackedWorker>();

async function stopWorker(tracked: TrackedWorker): Promise<void> {
  workers.delete(tracked);
  const { worker } = tracked;
  if (worker.getState() === 'RUNNING') worker.shutdown();
  // The run's own outcome belongs to whoever started it; here it only matters that it has ended.
  await tracked.running?.catch(() => undefined);
}

/**
 * Records a worker so that it is shut down before its connection is closed. Its run (`run()` or `runUntil()`) is
 * awaited on the way out: a worker is only gone once its run has resolved.
 */
export function trackWorker(worker: Worker, connection: NativeConnection | undefined): void {
  const tracked: TrackedWorker = { worker, connection };
  workers.add(tracked);
  const forget = track(`the Temporal worker on ${worker.options.taskQueue}`, () => stopWorker(tracked));
  const run = worker.run.bind(worker);
  worker.run = () => {
    const running = run();
    tracked.running = running;
    const ended = () => {
      workers.delete(tracked);
      forget();
    };
    running.then(ended, ended);
    return running;
  };
}

/** Stops the workers polling on `connection` (all of them when it is undefined). */
export async function stopWorkers(connection?: NativeConnection): Promise<void> {
  const stopping = [...workers].filter((w) => connection === undefined || w.connection === connection);
  await Promise.all(stopping.map(stopWorker));
}

// The test environment calls it after the file's last hook (test/support/jest-environment.ts).
(globalThis as Record<symbol, unknown>)[CLOSE_ALL] = closeAll;
