import { nextCronTime, parseCron } from '../../contract/cron';
import { digestSchema, digestSettings } from '../../contract/schemas/digest.schemas';
import { resolveDigest } from './start-digest';

const next = (cron: string, zone: string, after: string) =>
  new Date(nextCronTime(parseCron(cron)!, zone, Date.parse(after))).toISOString();

describe('cron in a time zone', () => {
  it('fires at 09:00 local on both sides of the spring-forward and fall-back changes in New York', () => {
    expect(next('0 9 * * *', 'America/New_York', '2027-03-13T15:00:00Z')).toBe('2027-03-14T13:00:00.000Z');
    expect(next('0 9 * * *', 'America/New_York', '2027-03-12T15:00:00Z')).toBe('2027-03-13T14:00:00.000Z');
    expect(next('0 9 * * *', 'America/New_York', '2026-10-31T14:00:00Z')).toBe('2026-11-01T14:00:00.000Z');
    expect(next('0 9 * * *', 'Europe/Paris', '2027-03-27T12:00:00Z')).toBe('2027-03-28T07:00:00.000Z');
  });

  it('skips a wall-clock time that does not exist that day, and fires once for one that happens twice', () => {
    // 02:30 does not exist on 2027-03-14 in New York: the next one is the day after.
    expect(next('30 2 * * *', 'America/New_York', '2027-03-14T05:00:00Z')).toBe('2027-03-15T06:30:00.000Z');
    // 01:30 happens twice on 2026-11-01: the first (EDT, 05:30Z), not again an hour later.
    expect(next('30 1 * * *', 'America/New_York', '2026-11-01T04:00:00Z')).toBe('2026-11-01T05:30:00.000Z');
    expect(next('30 1 * * *', 'America/New_York', '2026-11-01T05:30:00Z')).toBe('2026-11-02T06:30:00.000Z');
  });

  it('handles zones with half and quarter hours, weekdays, steps and aliases', () => {
    expect(next('0 9 * * *', 'Asia/Kathmandu', '2026-12-05T00:00:00Z')).toBe('2026-12-05T03:15:00.000Z');
    expect(next('30 8 * * MON-FRI', 'UTC', '2026-12-04T09:00:00Z')).toBe('2026-12-07T08:30:00.000Z'); // Fri → Mon
    expect(next('*/15 * * * *', 'UTC', '2026-12-04T09:01:00Z')).toBe('2026-12-04T09:15:00.000Z');
    expect(next('@daily', 'Asia/Seoul', '2026-12-04T16:00:00Z')).toBe('2026-12-05T15:00:00.000Z');
    expect(next('@weekly', 'UTC', '2026-12-04T00:00:00Z')).toBe('2026-12-06T00:00:00.000Z');
    expect(next('0 0 1 * *', 'UTC', '2026-12-04T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
  });

  it('refuses what is not a five-field cron, or never fires', () => {
    for (const bad of [
      '',
      '* * * *',
      '0 9 * * * *',
      '60 * * * *',
      '0 24 * * *',
      '0 9 30 2 *',
      '5-1 * * * *',
      '@often',
    ]) {
      expect(parseCron(bad)).toBeNull();
    }
  });
});

describe('digest settings', () => {
  it('parses windows as durations and refuses anything else', () => {
    expect(digestSettings(digestSchema.parse({ window: '10m' })).settings).toMatchObject({
      mode: 'fixed',
      windowMs: 600_000,
    });
    expect(digestSettings(digestSchema.parse({ window: '5m', mode: 'sliding' })).settings).toMatchObject({
      maxWindowMs: 3_000_000,
    });
    for (const bad of [
      { window: '10' },
      { window: '0m' },
      { window: '1w' },
      { window: '10m', cron: '0 9 * * *' },
      {},
    ]) {
      expect(digestSchema.safeParse(bad).success).toBe(false);
    }
    expect(digestSchema.safeParse({ cron: '0 9 30 2 *' }).success).toBe(false);
  });

  it('resolves: critical never, then the request, then the user where allowed, then the category', () => {
    const category = { critical: false, digest: { window: '1h', mode: 'fixed' }, allow: true };
    const request = digestSchema.parse({ window: '5m' });
    expect(resolveDigest({ request, category: { ...category, critical: true } })).toBeNull();
    expect(resolveDigest({ request, campaign: true })).toBeNull();
    expect(resolveDigest({ request, category, choice: 'daily' })).toBe(request);
    expect(resolveDigest({ category, choice: 'daily' })).toEqual({ cron: '0 9 * * *' });
    expect(resolveDigest({ category, choice: 'immediate' })).toBeNull();
    expect(resolveDigest({ category: { ...category, allow: false }, choice: 'immediate' })).toMatchObject({
      window: '1h',
    });
    expect(resolveDigest({ category: { ...category, digest: null }, choice: 'bogus' })).toBeNull();
  });
});
