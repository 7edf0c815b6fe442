import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { decide, prune } from './throttle-decision';
import {
  throttleRequestUpdate,
  throttleStateQuery,
  type ThrottleRequest,
  type UserThrottleInput,
} from '../contract/workflows/user-throttle.definitions';

function validate(request: ThrottleRequest): void {
  if (!request || typeof request.requestId !== 'string' || !Array.isArray(request.channels)) {
    throw new Error('malformed throttle request');
  }
  for (const { rules } of request.channels) {
    for (const rule of rules) {
      if (!(rule.limit > 0) || !(rule.perMs > 0)) throw new Error('a throttle rule needs a positive limit and window');
    }
  }
}

/**
 * One user's throttle: answers each request at once with a reservation (send now, send at T, or drop), so no request
 * waits inside this workflow and nothing but the reservation list needs carrying. The notification waits for its
 * slot on its own durable timer. Started on demand by update-with-start; ends after a quiet period once its windows
 * are empty (nothing is lost: an empty list is what a new run starts from).
 */
export async function userThrottle(input: UserThrottleInput): Promise<void> {
  let entries = input.entries;
  let maxWindowMs = input.maxWindowMs;
  let quietPeriodMs = input.quietPeriodMs;
  let maxRequestsPerRun = input.maxRequestsPerRun;
  let handled = 0;
  let lastRequestAt = Date.now();

  setHandler(throttleStateQuery, () => ({ run: input.run, entries, handled }));
  setHandler(
    throttleRequestUpdate,
    (request) => {
      handled += 1;
      const now = Date.now();
      lastRequestAt = now;
      quietPeriodMs = request.quietPeriodMs;
      maxRequestsPerRun = request.maxRequestsPerRun;
      for (const { rules } of request.channels)
        for (const rule of rules) maxWindowMs = Math.max(maxWindowMs, rule.perMs);
      entries = prune(entries, maxWindowMs, now);
      return { grants: decide(entries, request, now) };
    },
    { validator: validate },
  );

  const shouldContinueAsNew = () => handled >= maxRequestsPerRun || workflowInfo().continueAsNewSuggested;
  for (;;) {
    const seen = handled;
    const lastSend = entries.reduce((latest, e) => Math.max(latest, e.at), 0);
    const idleAt = Math.max(lastRequestAt + quietPeriodMs, lastSend + maxWindowMs);
    const woke = await condition(() => handled !== seen || shouldContinueAsNew(), Math.max(1, idleAt - Date.now()));
    if (shouldContinueAsNew()) {
      // Never from inside a handler: let every accepted request be answered first, then carry the list across.
      await condition(allHandlersFinished);
      await continueAsNew<typeof userThrottle>({
        entries: prune(entries, maxWindowMs, Date.now()),
        maxWindowMs,
        quietPeriodMs,
        maxRequestsPerRun,
        run: input.run + 1,
      });
    }
    if (!woke && handled === seen) {
      entries = prune(entries, maxWindowMs, Date.now());
      if (entries.length === 0 && Date.now() >= lastRequestAt + quietPeriodMs) {
        await condition(allHandlersFinished);
        return;
      }
    }
  }
}
