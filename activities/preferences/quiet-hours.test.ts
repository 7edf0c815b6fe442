import { quietHoursRelease, zonedTimeToInstant } from './quiet-hours';

const at = (iso: string) => Date.parse(iso);
const release = (now: string, tz: string, start: string, end: string) => {
  const t = quietHoursRelease(at(now), tz, { start, end });
  return t === null ? null : new Date(t).toISOString();
};

describe('quiet hours in the user’s time zone', () => {
  it('a window across midnight holds late-evening and early-morning notifications until its end', () => {
    // Seoul is UTC+9 with no DST: 22:00–07:30 KST is 13:00–22:30 UTC.
    expect(release('2026-11-26T13:00:00Z', 'Asia/Seoul', '22:00', '07:30')).toBe('2026-11-26T22:30:00.000Z');
    expect(release('2026-11-26T15:00:00Z', 'Asia/Seoul', '22:00', '07:30')).toBe('2026-11-26T22:30:00.000Z');
    expect(release('2026-11-26T22:29:00Z', 'Asia/Seoul', '22:00', '07:30')).toBe('2026-11-26T22:30:00.000Z');
  });

  it('lets notifications through outside the window, and at its exact end', () => {
    expect(release('2026-11-26T12:59:00Z', 'Asia/Seoul', '22:00', '07:30')).toBeNull();
    expect(release('2026-11-26T22:30:00Z', 'Asia/Seoul', '22:00', '07:30')).toBeNull();
    expect(release('2026-11-26T05:00:00Z', 'Asia/Seoul', '22:00', '07:30')).toBeNull();
  });

  it('a daytime window (not across midnight) holds until its end the same day', () => {
    expect(release('2026-11-26T10:00:00Z', 'UTC', '09:00', '17:00')).toBe('2026-11-26T17:00:00.000Z');
    expect(release('2026-11-26T08:59:00Z', 'UTC', '09:00', '17:00')).toBeNull();
    expect(release('2026-11-26T17:00:00Z', 'UTC', '09:00', '17:00')).toBeNull();
  });

  it('an empty window (start = end) never holds', () => {
    expect(release('2026-11-26T10:00:00Z', 'UTC', '10:00', '10:00')).toBeNull();
  });

  it('spring forward: the night the clocks skip an hour is an hour shorter in UTC', () => {
    // New York, 2027-03-14 02:00 EST → 03:00 EDT. 23:00 EST on the 13th = 04:00Z; 07:30 EDT on the 14th = 11:30Z.
    expect(release('2027-03-14T04:00:00Z', 'America/New_York', '22:00', '07:30')).toBe('2027-03-14T11:30:00.000Z');
    // The ordinary night before ends at 07:30 EST = 12:30Z.
    expect(release('2027-03-13T04:00:00Z', 'America/New_York', '22:00', '07:30')).toBe('2027-03-13T12:30:00.000Z');
  });

  it('fall back: the night the clocks repeat an hour is an hour longer in UTC', () => {
    // New York, 2026-11-01 02:00 EDT → 01:00 EST. 23:30 EDT on Oct 31 = 03:30Z; 07:30 EST = 12:30Z.
    expect(release('2026-11-01T03:30:00Z', 'America/New_York', '22:00', '07:30')).toBe('2026-11-01T12:30:00.000Z');
    // Berlin, 2026-10-25 03:00 CEST → 02:00 CET: 23:00 CEST on the 24th = 21:00Z; 07:30 CET = 06:30Z.
    expect(release('2026-10-24T21:00:00Z', 'Europe/Berlin', '22:00', '07:30')).toBe('2026-10-25T06:30:00.000Z');
  });

  it('a window ending inside the spring-forward gap ends when the clocks jump', () => {
    // 02:30 does not exist in New York on 2027-03-14: the window ends at 03:00 EDT = 07:00Z.
    expect(release('2027-03-14T06:10:00Z', 'America/New_York', '01:00', '02:30')).toBe('2027-03-14T07:00:00.000Z');
  });

  it('a window ending in the repeated fall-back hour ends at its first occurrence', () => {
    // 01:30 happens twice in New York on 2026-11-01; the first is 01:30 EDT = 05:30Z.
    expect(release('2026-11-01T04:30:00Z', 'America/New_York', '00:00', '01:30')).toBe('2026-11-01T05:30:00.000Z');
  });

  it('southern hemisphere and half-hour offsets', () => {
    // Sydney (AEDT, UTC+11 in November); Kolkata is UTC+5:30 with no DST.
    expect(release('2026-11-26T12:00:00Z', 'Australia/Sydney', '22:00', '07:30')).toBe('2026-11-26T20:30:00.000Z');
    expect(release('2026-11-26T17:00:00Z', 'Asia/Kolkata', '22:00', '07:30')).toBe('2026-11-27T02:00:00.000Z');
  });

  it('converts wall-clock times to instants', () => {
    expect(new Date(zonedTimeToInstant(2026, 7, 1, 9 * 60, 'Europe/Paris')).toISOString()).toBe(
      '2026-07-01T07:00:00.000Z',
    );
    expect(new Date(zonedTimeToInstant(2026, 12, 1, 9 * 60, 'Europe/Paris')).toISOString()).toBe(
      '2026-12-01T08:00:00.000Z',
    );
  });
});
