import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DigestActivities } from '../activities/digest/digest.activities';
import type { DigestSettings } from '../contract/schemas/digest.schemas';
import {
  digestEventSignal,
  digestStateQuery,
  removeDigestEventUpdate,
  type DigestState,
  type DigestWorkflowInput,
} from '../contract/workflows/digest.definitions';

/** Database steps in the workflow's own task, retried until the database is back (nothing accepted is lost). */
const store = proxyLocalActivities<DigestActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const DEFAULT_EVENTS_PER_RUN = 2_000;
const DEFAULT_IDLE_MS = 10 * 60_000;

/**
 * One digest key's batches: events arrive by signal (signal-with-start from the accept path), wait in the open batch
 * for its window (fixed, sliding, lookback) or its cron time, and go out together as one ordinary notification —
 * a `sendNotification` workflow with an id derived from this workflow and the batch number, so each digest is started
 * once and then takes the normal path (preferences, quiet hours, throttle, channels, tracking). Being the only
 * writer of its key's batches, it cannot send two digests for one event or merge two keys.
 */
export async function digestBatch(input: DigestWorkflowInput): Promise<void> {
  const { target } = input;
  let settings: DigestSettings = input.settings;
  const state: DigestState = input.state ?? {
    open: [],
    batch: 0,
    startedAt: null,
    dueAt: null,
    lastSentAt: null,
    run: 1,
  };
  const maxEventsPerRun = input.maxEventsPerRun ?? DEFAULT_EVENTS_PER_RUN;
  const idleMs = input.idleMs ?? DEFAULT_IDLE_MS;
  let received = 0;
  /** Bumped when the open batch may be due earlier than its timer: maxEvents reached, emptied, settings changed. */
  let reconsider = 0;
  /** The events of the digest being written: not in `open` any more, and not cancelable. */
  let flushing: string[] = [];

  setHandler(digestStateQuery, () => state);
  setHandler(digestEventSignal, (event) => {
    received += 1;
    if (JSON.stringify(event.settings) !== JSON.stringify(settings)) {
      state.dueAt = null;
      reconsider += 1;
    }
    settings = event.settings;
    if (state.open.some((e) => e.id === event.id) || flushing.includes(event.id)) return;
    const now = Date.now();
    if (state.open.length === 0) {
      state.startedAt = now;
      state.dueAt = null;
    }
    state.open.push({ id: event.id, at: now });
    if (settings.maxEvents !== undefined && state.open.length >= settings.maxEvents) reconsider += 1;
  });
  setHandler(
    removeDigestEventUpdate,
    async (id) => {
      const index = state.open.findIndex((e) => e.id === id);
      if (index < 0) return { removed: false };
      state.open.splice(index, 1);
      if (state.open.length === 0) {
        state.startedAt = null;
        state.dueAt = null;
        reconsider += 1;
      }
      // Answered once the notification reads canceled, so whoever asked can read it back at once.
      await store.cancelDigestEvent(id);
      return { removed: true };
    },
    {
      validator: (id) => {
        if (typeof id !== 'string' || id.length === 0) throw ApplicationFailure.nonRetryable('an event id is needed');
      },
    },
  );

  const shouldContinueAsNew = () => received >= maxEventsPerRun || workflowInfo().continueAsNewSuggested;

  /** When the open batch is due, in workflow time. */
  async function dueAt(): Promise<number> {
    const now = Date.now();
    const startedAt = state.startedAt ?? now;
    if (settings.maxEvents !== undefined && state.open.length >= settings.maxEvents) return now;
    const windowMs = settings.windowMs ?? 0;
    switch (settings.mode) {
      case 'fixed':
        return startedAt + windowMs;
      case 'sliding': {
        const last = state.open[state.open.length - 1]?.at ?? startedAt;
        return Math.min(last + windowMs, startedAt + (settings.maxWindowMs ?? windowMs));
      }
      case 'lookback':
        // Nothing sent within a window before this batch began: its first event goes at once.
        return state.lastSentAt === null || startedAt - state.lastSentAt >= windowMs
          ? startedAt
          : state.lastSentAt + windowMs;
      case 'cron':
        // Computed once per batch from the user's time zone (a local activity: the zone rules are I/O).
        state.dueAt ??= await store.nextDigestAt(target.userId, settings.cron ?? '0 9 * * *', startedAt);
        return state.dueAt;
    }
  }

  async function flush(): Promise<void> {
    const taking = state.open.slice(0, settings.maxEvents ?? state.open.length);
    state.open = state.open.slice(taking.length);
    // The events left over (past maxEvents) begin the next batch from when the first of them arrived.
    state.startedAt = state.open[0]?.at ?? null;
    state.dueAt = null;
    flushing = taking.map((e) => e.id);
    state.batch += 1;
    const info = workflowInfo();
    const result = await store.flushDigest({
      digestWorkflowId: info.workflowId,
      chainId: info.firstExecutionRunId,
      batch: state.batch,
      at: Date.now(),
      target,
      settings,
      eventIds: flushing,
    });
    flushing = [];
    if (!result.sent) return;
    // The digest's own notification workflow was started by the activity (the accept path's start, its id from
    // this workflow, the chain of runs and the batch number): sent once, and on its own if this workflow ends.
    state.lastSentAt = Date.now();
  }

  for (;;) {
    if (shouldContinueAsNew()) {
      // Never from inside a handler: let every update be answered, then carry the open batch across.
      await condition(allHandlersFinished);
      await continueAsNew<typeof digestBatch>({ ...input, settings, state: { ...state, run: state.run + 1 } });
    }
    if (state.open.length === 0) {
      const quietMs = settings.mode === 'lookback' ? Math.max(idleMs, settings.windowMs ?? 0) : idleMs;
      const woke = await condition(() => state.open.length > 0 || shouldContinueAsNew(), quietMs);
      if (!woke) {
        await condition(allHandlersFinished);
        // An event that arrives as this run ends starts the next run (signal-with-start); nothing is open here.
        if (state.open.length === 0) return;
      }
      continue;
    }
    const wait = (await dueAt()) - Date.now();
    if (wait > 0) {
      // New events only ever move the time later (sliding) or keep it: it is computed again when the timer fires,
      // so a burst of events costs no timer each. Woken early only when the batch may be due sooner.
      const seen = reconsider;
      await condition(() => reconsider !== seen || shouldContinueAsNew(), wait);
      continue;
    }
    await flush();
  }
}
