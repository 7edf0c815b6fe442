/**
 * Five-field cron (minute hour day-of-month month day-of-week) evaluated in an IANA time zone, for scheduled
 * digests. The next fire time walks real instants forward and reads each one's wall-clock time in the zone, so a
 * DST change never skips or repeats a send: "0 9 * * *" is 09:00 local on both sides of the change. A wall-clock
 * time that does not exist that day (02:30 when clocks spring forward) does not fire that day; one that happens
 * twice (01:30 when they fall back) fires at its first occurrence.
 */
import { wallClock, type WallClock } from './time-zone';

export interface Cron {
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  dayOfWeek: Set<number>;
  /** Both day fields restricted: a day matching either fires (as in Vixie cron). */
  eitherDay: boolean;
}

const ALIASES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function field(text: string, min: number, max: number, names?: string[], nameBase = 0): Set<number> | null {
  const value = (token: string): number | null => {
    const index = names?.indexOf(token.toUpperCase()) ?? -1;
    if (index >= 0) return index + nameBase;
    return /^\d{1,2}$/.test(token) ? Number(token) : null;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(part);
    if (!match) return null;
    const step = match[2] === undefined ? 1 : Number(match[2]);
    if (step < 1) return null;
    let from: number | null;
    let to: number | null;
    if (match[1] === '*') {
      from = min;
      to = max;
    } else {
      const [a, b, ...rest] = match[1]!.split('-');
      if (rest.length > 0) return null;
      from = value(a!);
      to = b === undefined ? (match[2] === undefined ? from : max) : value(b);
    }
    if (from === null || to === null || from < min || to > max || from > to) return null;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** The parsed expression, or null when it is not a five-field cron (or an @alias). */
export function parseCron(expression: string): Cron | null {
  const text = ALIASES[expression.trim().toLowerCase()] ?? expression.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5) return null;
  const [mi, h, dom, mon, dow] = parts as [string, string, string, string, string];
  const minute = field(mi, 0, 59);
  const hour = field(h, 0, 23);
  const dayOfMonth = field(dom, 1, 31);
  const month = field(mon, 1, 12, MONTHS, 1);
  // 7 is Sunday too.
  const week = field(dow, 0, 7, DAYS);
  if (!minute || !hour || !dayOfMonth || !month || !week) return null;
  const dayOfWeek = new Set([...week].map((d) => d % 7));
  const eitherDay = dom !== '*' && dow !== '*';
  // "0 9 30 2 *" is well-formed and never fires: refused rather than waited for.
  const LONGEST = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (!eitherDay && ![...month].some((m) => [...dayOfMonth].some((d) => d <= LONGEST[m - 1]!))) return null;
  return { minute, hour, dayOfMonth, month, dayOfWeek, eitherDay };
}

const MINUTE = 60_000;

/** The same wall-clock minute already happened half an hour or an hour earlier: the clocks fell back. */
function repeated(at: number, t: WallClock, timeZone: string): boolean {
  return [30, 60].some((back) => {
    const earlier = wallClock(at - back * MINUTE, timeZone);
    return earlier.day === t.day && earlier.hour === t.hour && earlier.minute === t.minute;
  });
}

/**
 * The first instant strictly after `afterMs` (whole minutes) whose wall-clock time in `timeZone` matches. Walks
 * minute by minute within a matching hour and hour by hour otherwise: at most a few thousand steps a year.
 */
export function nextCronTime(cron: Cron, timeZone: string, afterMs: number): number {
  let at = Math.floor(afterMs / MINUTE) * MINUTE + MINUTE;
  const limit = at + 5 * 366 * 24 * 60 * MINUTE;
  while (at < limit) {
    const t = wallClock(at, timeZone);
    const domMatch = cron.dayOfMonth.has(t.day);
    const dowMatch = cron.dayOfWeek.has(t.weekday);
    const dayMatch = cron.eitherDay ? domMatch || dowMatch : domMatch && dowMatch;
    if (!cron.month.has(t.month) || !dayMatch || !cron.hour.has(t.hour)) {
      // To the next wall-clock hour (offsets move in whole or half hours, so no matching minute is skipped).
      at += (60 - t.minute) * MINUTE;
      continue;
    }
    if (cron.minute.has(t.minute) && !repeated(at, t, timeZone)) return at;
    at += MINUTE;
  }
  throw new Error('cron expression never fires');
}
