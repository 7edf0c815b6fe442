/**
 * The throttle's arithmetic, pure and deterministic (used inside the workflow; unit-tested alone). A rule holds when
 * every window of `perMs` contains at most `limit` counted sends. A request gets, per channel, the earliest time at or
 * after `now` at which one more send keeps every rule that applies; under the `drop` policy anything later than now is
 * dropped instead.
 */
import type {
  ChannelGrant,
  ThrottleEntry,
  ThrottleRequest,
  ThrottleRule,
} from '../contract/workflows/user-throttle.definitions';

function counts(rule: ThrottleRule, entry: ThrottleEntry): boolean {
  return (
    !entry.dropped &&
    (rule.channel === undefined || rule.channel === entry.channel) &&
    (rule.category === undefined || rule.category === entry.category)
  );
}

/** Whether one more send at `t` keeps `rule`: every window containing t holds fewer than `limit` other sends. */
function fits(entries: ThrottleEntry[], rule: ThrottleRule, t: number): boolean {
  const points = entries.filter((e) => counts(rule, e) && e.at > t - rule.perMs && e.at < t + rule.perMs);
  if (points.length < rule.limit) return true;
  // The fullest window containing t starts at t or at one of the points just before it.
  const starts = [t, ...points.filter((p) => p.at <= t).map((p) => p.at)];
  return starts.every((s) => points.filter((p) => p.at >= s && p.at < s + rule.perMs).length < rule.limit);
}

/** The earliest t ≥ now that keeps every rule. Feasibility can only begin at now or where a send leaves a window. */
export function nextSlot(entries: ThrottleEntry[], rules: ThrottleRule[], now: number): number {
  const candidates = new Set<number>([now]);
  for (const rule of rules) {
    for (const entry of entries)
      if (counts(rule, entry) && entry.at + rule.perMs > now) candidates.add(entry.at + rule.perMs);
  }
  for (const t of [...candidates].sort((a, b) => a - b)) {
    if (rules.every((rule) => fits(entries, rule, t))) return t;
  }
  // Unreachable: past the last send plus the longest window every rule holds.
  return Math.max(now, ...[...candidates]);
}

function describeRule(rule: ThrottleRule): string {
  const hours = rule.perMs / 3_600_000;
  const per = Number.isInteger(hours) ? `${hours}h` : `${Math.round(rule.perMs / 1000)}s`;
  return `${rule.category ?? 'any'} ${rule.channel ?? 'notification'} limit ${rule.limit} per ${per}`;
}

/**
 * Decides a request and records it in `entries` (mutated). A request id seen before gets its recorded answer, so a
 * retried request (an activity retry, or one replayed across continue-as-new) never takes a second slot.
 */
export function decide(entries: ThrottleEntry[], request: ThrottleRequest, now: number): ChannelGrant[] {
  return request.channels.map(({ channel, rules, policy }) => {
    const previous = entries.find((e) => e.id === request.requestId && e.channel === channel);
    if (previous) {
      return previous.dropped
        ? { channel, decision: 'drop', reason: previous.dropped }
        : { channel, decision: 'send', at: new Date(previous.at).toISOString() };
    }
    const at = nextSlot(entries, rules, now);
    if (at > now && policy === 'drop') {
      const broken = rules.find((rule) => !fits(entries, rule, now));
      const reason = `throttled: ${broken ? describeRule(broken) : 'over the limit'}`;
      entries.push({ id: request.requestId, channel, category: request.category, at: now, dropped: reason });
      return { channel, decision: 'drop', reason };
    }
    entries.push({ id: request.requestId, channel, category: request.category, at });
    return { channel, decision: 'send', at: new Date(at).toISOString() };
  });
}

/** Forgets entries that no window can count any more. */
export function prune(entries: ThrottleEntry[], maxWindowMs: number, now: number): ThrottleEntry[] {
  return entries.filter((e) => e.at > now - maxWindowMs);
}
