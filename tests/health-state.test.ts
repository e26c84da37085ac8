import { describe, expect, test } from 'vitest';
import { longestGapMinutes, thresholdsOf } from '../sidecar/health/freshness.js';
import { assignmentHealth, serverHealth, type AssignmentFacts } from '../sidecar/health/state.js';

const H = 3600_000;
const now = new Date('2026-03-10T12:00:30.000Z');
// No spread: these rules are about nominal slots (the spread's offset is tested in spread.test.ts).
const hourly = { intervalMinutes: 60, cron: null, timezone: 'UTC', spreadMinutes: 0 };

function facts(over: Partial<AssignmentFacts> = {}): AssignmentFacts {
  return {
    serverId: 1, scheduleId: 7, scheduleName: 'Hourly', enabled: true, timing: hourly, warnAfterMinutes: null, criticalAfterMinutes: null,
    assignedAt: new Date(now.getTime() - 30 * 24 * H), problem: null,
    lastGoodAt: new Date('2026-03-10T12:00:00.000Z'), lastAttemptAt: new Date('2026-03-10T12:00:00.000Z'), lastOkAttemptAt: new Date('2026-03-10T12:00:00.000Z'),
    failedInRow: 0, firstFailedAt: null, lastFailedReason: null, ...over,
  };
}

describe('freshness defaults', () => {
  test('when a schedule sets no limits, then warn is twice and critical four times its interval or longest cron gap', () => {
    expect(thresholdsOf(hourly, null, null)).toMatchObject({ warnAfterMinutes: 120, criticalAfterMinutes: 240 });
    // Weekdays at 09:00: the longest gap is Friday → Monday, three days.
    expect(longestGapMinutes({ intervalMinutes: null, cron: '0 9 * * 1-5', timezone: 'UTC' })).toBe(3 * 1440);
    // In Berlin the autumn change makes one such weekend an hour longer: real time, not wall time.
    expect(longestGapMinutes({ intervalMinutes: null, cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' })).toBe(3 * 1440 + 60);
    expect(thresholdsOf({ intervalMinutes: null, cron: '0 0 * * 6', timezone: 'UTC' }, null, null)).toMatchObject({ warnAfterMinutes: 2 * 7 * 1440 });
    expect(thresholdsOf(hourly, 30, null)).toMatchObject({ warnAfterMinutes: 30, criticalAfterMinutes: 240 });
  });
});

describe('state of one schedule on one server', () => {
  test('when the newest good snapshot is within the limit, then ok', () => {
    expect(assignmentHealth(facts(), now, 3).state).toBe('ok');
  });

  test('when the newest good snapshot is older than warn / critical, then warning / critical, since the moment it crossed the limit', () => {
    const warn = assignmentHealth(facts({ lastGoodAt: new Date(now.getTime() - 3 * H), lastAttemptAt: new Date('2026-03-10T12:00:00Z'), lastOkAttemptAt: new Date('2026-03-10T12:00:00Z') }), now, 3);
    expect(warn.state).toBe('warning');
    expect(warn.since!.getTime()).toBe(now.getTime() - H);
    const crit = assignmentHealth(facts({ lastGoodAt: new Date(now.getTime() - 5 * H) }), now, 3);
    expect(crit.state).toBe('critical');
    expect(crit.reason).toMatch(/older than 4 hours \(critical\)/);
  });

  test('when the last three attempts failed, then failing with the provider\'s reason and the first failure as since', () => {
    const h = assignmentHealth(facts({
      lastGoodAt: new Date('2026-03-10T10:00:00Z'), lastOkAttemptAt: new Date('2026-03-10T09:00:00Z'),
      failedInRow: 3, firstFailedAt: new Date('2026-03-10T10:00:00Z'), lastFailedReason: 'Hetzner refused: server is locked.',
    }), now, 3);
    expect(h.state).toBe('failing');
    expect(h.reason).toContain('Hetzner refused: server is locked.');
    expect(h.since!.toISOString()).toBe('2026-03-10T10:00:00.000Z');
    expect(assignmentHealth(facts({ lastOkAttemptAt: new Date('2026-03-10T10:00:00Z'), failedInRow: 2, firstFailedAt: new Date('2026-03-10T11:00:00Z') }), now, 3).state).toBe('ok');
  });

  test('when slots were never taken, then each counts as a failure (a slot still within its grace does not)', () => {
    const lastAt = new Date('2026-03-10T09:00:00Z');
    const h = assignmentHealth(facts({ lastGoodAt: new Date('2026-03-10T11:00:00Z'), lastAttemptAt: lastAt, lastOkAttemptAt: lastAt, problem: 'Server #1 is in the panel\'s trash; restore it to resume snapshots.' }), now, 3);
    // 10:00, 11:00, 12:00 missing — but 12:00 is 30 s old, inside the grace: two missed.
    expect(h.failuresInRow).toBe(2);
    expect(h.state).toBe('ok');
    const later = assignmentHealth(facts({ lastGoodAt: new Date('2026-03-10T11:00:00Z'), lastAttemptAt: lastAt, lastOkAttemptAt: lastAt, problem: 'Server #1 is in the panel\'s trash; restore it to resume snapshots.' }), new Date(now.getTime() + 10 * 60_000), 3);
    expect(later.state).toBe('failing');
    expect(later.reason).toContain('trash');
  });

  test('when the schedule is disabled, then it owes nothing and is ok', () => {
    expect(assignmentHealth(facts({ enabled: false, lastGoodAt: null, lastAttemptAt: null }), now, 3).state).toBe('ok');
  });

  test('when a server has several schedules, then the worst one decides (critical > failing > warning > ok)', () => {
    const ok = assignmentHealth(facts(), now, 3);
    const failing = assignmentHealth(facts({ scheduleId: 8, scheduleName: 'Other', lastOkAttemptAt: new Date('2026-03-10T08:00:00Z'), failedInRow: 4, firstFailedAt: new Date('2026-03-10T09:00:00Z') }), now, 3);
    const warning = assignmentHealth(facts({ scheduleId: 9, lastGoodAt: new Date(now.getTime() - 3 * H) }), now, 3);
    const s = serverHealth(1, 'web-1', [ok, warning, failing]);
    expect(s).toMatchObject({ state: 'failing', scheduleId: 8, scheduleName: 'Other' });
  });
});
