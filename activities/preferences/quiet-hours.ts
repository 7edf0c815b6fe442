/**
 * Quiet hours in the user's own time zone, computed with the IANA database through Intl — correct across DST changes
 * (a 22:00–07:30 window is 9½ hours of wall-clock time, whatever the UTC offsets on either side of it).
 */
import { wallClock } from '../../contract/time-zone';

export interface QuietWindow {
  /** "HH:MM", 24 h, local time. */
  start: string;
  end: string;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  minutes: number;
}

function localParts(instant: number, timeZone: string): LocalParts & { second: number } {
  const t = wallClock(instant, timeZone);
  return { year: t.year, month: t.month, day: t.day, minutes: t.hour * 60 + t.minute, second: t.second };
}

/** The zone's offset from UTC at an instant, in minutes. */
function offsetMinutes(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, 0, p.minutes, p.second);
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60_000);
}

/**
 * The first instant at or after the given local wall-clock time. A wall time skipped by a spring-forward gap maps to
 * the instant the clocks jump to (02:30 that does not exist → 03:00 local); an ambiguous one to its first occurrence.
 */
export function zonedTimeToInstant(
  year: number,
  month: number,
  day: number,
  minutes: number,
  timeZone: string,
): number {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  // Two passes converge on the offset in force at the target (offsets change at most once in a few hours).
  let guess = wall - offsetMinutes(wall, timeZone) * 60_000;
  guess = wall - offsetMinutes(guess, timeZone) * 60_000;
  const earlier = wall - offsetMinutes(guess - 3 * 3600_000, timeZone) * 60_000;
  for (const candidate of [earlier, guess].sort((a, b) => a - b)) {
    const p = localParts(candidate, timeZone);
    if (p.year === year && p.month === month && p.day === day && p.minutes === minutes) return candidate;
  }
  // In a gap: the wall time never happens; it is over when the clocks jump, so find that instant.
  const offsetBefore = offsetMinutes(guess - 3 * 3600_000, timeZone);
  let lo = Math.min(wall - offsetBefore * 60_000, guess);
  let hi = Math.max(wall - offsetBefore * 60_000, guess);
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMinutes(mid, timeZone) === offsetBefore) lo = mid;
    else hi = mid;
  }
  return Math.ceil(hi / 60_000) * 60_000;
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function addDays(p: LocalParts, days: number): LocalParts {
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), minutes: p.minutes };
}

/**
 * When a notification arriving at `now` may go out: `null` when `now` is outside the quiet window, else the instant
 * the window ends. Windows may cross midnight ("22:00"–"07:30"); start == end means no window.
 */
export function quietHoursRelease(now: number, timeZone: string, window: QuietWindow): number | null {
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  if (start === end) return null;
  const local = localParts(now, timeZone);
  const m = local.minutes;
  const crossesMidnight = start > end;
  const inside = crossesMidnight ? m >= start || m < end : m >= start && m < end;
  if (!inside) return null;
  // The end is later today, unless the window started yesterday evening... or this evening and ends tomorrow.
  const endDay = crossesMidnight && m >= start ? addDays(local, 1) : local;
  return zonedTimeToInstant(endDay.year, endDay.month, endDay.day, end, timeZone);
}
