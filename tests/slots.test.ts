import { describe, expect, test } from 'vitest';
import { cronProblem, latestSlotAtOrBefore, nextRuns, nextSlotAfter } from '../sidecar/slots.js';

const iso = (d: Date[]) => d.map((x) => x.toISOString());

describe('interval schedules', () => {
  test('when every 60 minutes, then slots are on the hour in real time', () => {
    const t = { intervalMinutes: 60, cron: null, timezone: 'Europe/Berlin' };
    expect(iso(nextRuns(t, new Date('2026-03-29T00:10:00Z'), 3))).toEqual([
      '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z', '2026-03-29T03:00:00.000Z',
    ]);
    expect(latestSlotAtOrBefore(t, new Date('2026-03-29T00:10:00Z')).toISOString()).toBe('2026-03-29T00:00:00.000Z');
  });
  test('when the instant is exactly a slot, then the next slot is the following one', () => {
    const t = { intervalMinutes: 1, cron: null, timezone: 'UTC' };
    expect(nextSlotAfter(t, new Date('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T00:01:00.000Z');
    expect(latestSlotAtOrBefore(t, new Date('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('cron schedules across daylight-saving changes', () => {
  test('when a daily 02:30 falls in the spring-forward gap (Berlin), then it runs once, just after the gap', () => {
    const t = { intervalMinutes: null, cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    expect(iso(nextRuns(t, new Date('2026-03-27T12:00:00Z'), 3))).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:30:00.000Z', // 02:30 does not exist: 03:30 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });
  test('when a daily 01:30 happens twice (New York, autumn), then it runs once', () => {
    const t = { intervalMinutes: null, cron: '30 1 * * *', timezone: 'America/New_York' };
    expect(iso(nextRuns(t, new Date('2026-10-31T12:00:00Z'), 3))).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, the first one
      '2026-11-02T06:30:00.000Z', // 01:30 EST
      '2026-11-03T06:30:00.000Z',
    ]);
  });
  test('when an hourly cron crosses the autumn change, then each wall-clock hour runs once and none twice', () => {
    const t = { intervalMinutes: null, cron: '30 * * * *', timezone: 'America/New_York' };
    const runs = nextRuns(t, new Date('2026-11-01T04:00:00Z'), 4);
    expect(iso(runs)).toEqual([
      '2026-11-01T04:30:00.000Z', // 00:30 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T07:30:00.000Z', // 02:30 EST (the repeated 01:30 EST is not run again)
      '2026-11-01T08:30:00.000Z',
    ]);
    expect(new Set(iso(runs)).size).toBe(runs.length);
  });
  test('when now is inside the repeated hour, then the latest slot is the first 01:30 and the next is 02:30 EST', () => {
    const t = { intervalMinutes: null, cron: '30 1 * * *', timezone: 'America/New_York' };
    const now = new Date('2026-11-01T06:45:00Z'); // 01:45 EST, second pass through 01:xx
    expect(latestSlotAtOrBefore(t, now).toISOString()).toBe('2026-11-01T05:30:00.000Z');
    expect(nextSlotAfter(t, now).toISOString()).toBe('2026-11-02T06:30:00.000Z');
  });
  test('when a weekly Saturday schedule runs, then every run is a Saturday at midnight in the zone', () => {
    const t = { intervalMinutes: null, cron: '0 0 * * 6', timezone: 'Australia/Sydney' };
    for (const d of nextRuns(t, new Date('2026-09-01T00:00:00Z'), 6)) {
      const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Australia/Sydney', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
      expect(local).toBe('Sat 00:00');
    }
  });
});

describe('cron validation', () => {
  test('when the expression is fine, then no problem; when not, then a sentence', () => {
    expect(cronProblem('0 3 * * *')).toBeNull();
    expect(cronProblem('0 3 * *')).toMatch(/five fields/);
    expect(cronProblem('99 3 * * *')).toMatch(/Not a valid cron/);
  });
});

describe('schedules in words', () => {
  test('when a cron has a common shape, then it is said in words; otherwise verbatim', async () => {
    const { describeTiming } = await import('../sidecar/slots.js');
    expect(describeTiming({ intervalMinutes: null, cron: '0 0 * * 6', timezone: 'UTC' })).toBe('Every Saturday at 00:00 (UTC)');
    expect(describeTiming({ intervalMinutes: null, cron: '30 2 * * *', timezone: 'Europe/Berlin' })).toBe('Every day at 02:30 (Europe/Berlin)');
    expect(describeTiming({ intervalMinutes: null, cron: '15 * * * *', timezone: 'UTC' })).toBe('Every hour at minute 15 (UTC)');
    expect(describeTiming({ intervalMinutes: null, cron: '0 */6 * * 1-5', timezone: 'UTC' })).toBe('Cron "0 */6 * * 1-5" (UTC)');
    expect(describeTiming({ intervalMinutes: 720, cron: null, timezone: 'UTC' })).toBe('Every 12 hours');
  });
});
