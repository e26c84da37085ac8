/**
 * The retention rule, case by case. Every expected result below is written out by hand from
 * the rules in sidecar/retention.ts, never computed by the code under test.
 */
import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import {
  decideRetention,
  describeRetention,
  hasAnyBound,
  type RetentionCandidate,
  type RetentionDecision,
  type RetentionRules,
  type SnapshotStatus,
} from '../sidecar/retention.js';

/** An instant given as local wall-clock time in `zone` (ISO without offset). */
function local(iso: string, zone: string): Date {
  const dt = DateTime.fromISO(iso, { zone });
  if (!dt.isValid) throw new Error(`bad test time ${iso} in ${zone}`);
  return dt.toJSDate();
}

function utc(iso: string): Date {
  return new Date(iso.endsWith('Z') ? iso : `${iso}Z`);
}

/** An available scheduled snapshot unless told otherwise. */
function snap(id: number, createdAt: Date, over: Partial<RetentionCandidate> = {}): RetentionCandidate {
  return { id, status: 'available', origin: 'scheduled', createdAt, keepForever: false, deleteNotBefore: null, ...over };
}

function decide(snaps: RetentionCandidate[], rules: RetentionRules, timezone = 'UTC', now = utc('2025-06-30T23:30')) {
  return decideRetention(snaps, rules, { timezone, now });
}

function byId(decisions: RetentionDecision[]): Map<number, RetentionDecision> {
  return new Map(decisions.map((d) => [d.id, d]));
}

function keptIds(decisions: RetentionDecision[]): number[] {
  return decisions.filter((d) => d.action === 'keep').map((d) => d.id).sort((a, b) => a - b);
}

/** ISO strings (UTC, no millis) of the kept snapshots, newest first. */
function keptTimes(snaps: RetentionCandidate[], decisions: RetentionDecision[]): string[] {
  const kept = new Set(decisions.filter((d) => d.action === 'keep').map((d) => d.id));
  return snaps
    .filter((s) => kept.has(s.id))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    .map((s) => s.createdAt.toISOString().replace('.000Z', 'Z'));
}

/** Snapshots every `stepMinutes` real minutes from `first` to `last` inclusive, ids 1, 2, … oldest first. */
function series(first: Date, last: Date, stepMinutes: number): RetentionCandidate[] {
  const out: RetentionCandidate[] = [];
  for (let t = first.getTime(), id = 1; t <= last.getTime(); t += stepMinutes * 60_000, id++) {
    out.push(snap(id, new Date(t)));
  }
  return out;
}

describe('keepLast', () => {
  it('when keepLast is 2, then the two newest are kept and the rest are deleted as "beyond keepLast 2"', () => {
    const snaps = ['27', '28', '29', '30'].map((day, i) => snap(i + 1, utc(`2025-06-${day}T12:00`)));
    expect(decide(snaps, { keepLast: 2 })).toEqual([
      { id: 1, action: 'delete', reasons: ['deleted: beyond keepLast 2'] },
      { id: 2, action: 'delete', reasons: ['deleted: beyond keepLast 2'] },
      { id: 3, action: 'keep', reasons: ['kept: last #2'] },
      { id: 4, action: 'keep', reasons: ['kept: last #1', 'kept: newest good snapshot (minKeep 1)'] },
    ]);
  });

  it('when two snapshots share createdAt, then the higher id counts as newer, whatever the input order', () => {
    const t = utc('2025-06-30T12:00');
    const forward = decide([snap(5, t), snap(7, t)], { keepLast: 1 });
    const backward = decide([snap(7, t), snap(5, t)], { keepLast: 1 });
    expect(byId(forward).get(7)?.action).toBe('keep');
    expect(byId(forward).get(5)?.reasons).toEqual(['deleted: beyond keepLast 1']);
    expect(byId(backward)).toEqual(byId(forward));
  });

  it('when the input is in any order, then decisions come back in input order', () => {
    const snaps = [snap(3, utc('2025-06-29T00:00')), snap(1, utc('2025-06-30T00:00')), snap(2, utc('2025-06-28T00:00'))];
    expect(decide(snaps, { keepLast: 1 }).map((d) => d.id)).toEqual([3, 1, 2]);
  });
});

describe('calendar rules (grandfather-father-son)', () => {
  it('when keepHourly is 5 over a day of half-hourly snapshots, then the :30 snapshot of each of the last 5 hours is kept', () => {
    // ids: 00:00 → 1, 00:30 → 2, …, HH:30 → 2·HH + 2.
    const snaps = series(utc('2025-06-30T00:00'), utc('2025-06-30T23:30'), 30);
    expect(snaps).toHaveLength(48);
    const decisions = decide(snaps, { keepHourly: 5, minKeep: 0 }, 'UTC', utc('2025-06-30T23:45'));
    expect(keptIds(decisions)).toEqual([40, 42, 44, 46, 48]);
    const d = byId(decisions);
    expect(d.get(48)?.reasons).toEqual(['kept: hourly #1']);
    expect(d.get(40)?.reasons).toEqual(['kept: hourly #5']);
    expect(d.get(47)?.reasons).toEqual(['deleted: not selected by any rule (hourly 5)']);
    expect(d.get(39)?.action).toBe('delete');
  });

  it('when keepDaily is 10 over three weeks of six-hourly snapshots, then the 18:00 snapshot of each of the last 10 days is kept', () => {
    const snaps = series(utc('2025-06-10T00:00'), utc('2025-06-30T18:00'), 6 * 60);
    const decisions = decide(snaps, { keepDaily: 10, minKeep: 0 });
    expect(keptTimes(snaps, decisions)).toEqual([
      '2025-06-30T18:00:00Z', '2025-06-29T18:00:00Z', '2025-06-28T18:00:00Z', '2025-06-27T18:00:00Z',
      '2025-06-26T18:00:00Z', '2025-06-25T18:00:00Z', '2025-06-24T18:00:00Z', '2025-06-23T18:00:00Z',
      '2025-06-22T18:00:00Z', '2025-06-21T18:00:00Z',
    ]);
    const last = snaps.find((s) => s.createdAt.getTime() === utc('2025-06-21T18:00').getTime());
    expect(byId(decisions).get(last!.id)?.reasons).toEqual(['kept: daily #10']);
  });

  it('when days without snapshots lie in between, then they do not use up keepDaily', () => {
    const snaps = ['2025-06-01', '2025-06-02', '2025-06-05', '2025-06-10'].map((d, i) => snap(i + 1, utc(`${d}T12:00`)));
    expect(decide(snaps, { keepDaily: 3, minKeep: 0 })).toEqual([
      { id: 1, action: 'delete', reasons: ['deleted: not selected by any rule (daily 3)'] },
      { id: 2, action: 'keep', reasons: ['kept: daily #3'] },
      { id: 3, action: 'keep', reasons: ['kept: daily #2'] },
      { id: 4, action: 'keep', reasons: ['kept: daily #1'] },
    ]);
  });

  it('when weeks cross New Year, then ISO weeks (Monday first) decide: 2024-12-30 belongs to 2025-W01', () => {
    const snaps = series(utc('2024-12-20T12:00'), utc('2025-01-08T12:00'), 24 * 60);
    const decisions = decide(snaps, { keepWeekly: 3, minKeep: 0 }, 'UTC', utc('2025-01-08T18:00'));
    // 2025-W02 (Mon 01-06 …), 2025-W01 (Mon 2024-12-30 … Sun 01-05), 2024-W52 (… Sun 12-29).
    expect(keptTimes(snaps, decisions)).toEqual(['2025-01-08T12:00:00Z', '2025-01-05T12:00:00Z', '2024-12-29T12:00:00Z']);
  });

  it('when a year has 53 ISO weeks, then 2020-12-31 and 2021-01-03 are the same week (2020-W53)', () => {
    const snaps = [
      snap(1, utc('2020-12-27T12:00')), // Sunday, 2020-W52
      snap(2, utc('2020-12-31T12:00')), // Thursday, 2020-W53
      snap(3, utc('2021-01-03T12:00')), // Sunday, 2020-W53
      snap(4, utc('2021-01-04T12:00')), // Monday, 2021-W01
    ];
    expect(keptIds(decide(snaps, { keepWeekly: 2, minKeep: 0 }, 'UTC', utc('2021-01-05T00:00')))).toEqual([3, 4]);
  });

  it('when keepMonthly is 12 over 18 months of twice-monthly snapshots, then the 15th of each of the last 12 months is kept', () => {
    const snaps: RetentionCandidate[] = [];
    let id = 1;
    for (let m = 0; m < 18; m++) {
      const month = DateTime.fromObject({ year: 2024, month: 1, day: 1, hour: 12 }, { zone: 'UTC' }).plus({ months: m });
      snaps.push(snap(id++, month.toJSDate()), snap(id++, month.set({ day: 15 }).toJSDate()));
    }
    const decisions = decide(snaps, { keepMonthly: 12, minKeep: 0 }, 'UTC', utc('2025-06-20T00:00'));
    expect(keptTimes(snaps, decisions)).toEqual([
      '2025-06-15T12:00:00Z', '2025-05-15T12:00:00Z', '2025-04-15T12:00:00Z', '2025-03-15T12:00:00Z',
      '2025-02-15T12:00:00Z', '2025-01-15T12:00:00Z', '2024-12-15T12:00:00Z', '2024-11-15T12:00:00Z',
      '2024-10-15T12:00:00Z', '2024-09-15T12:00:00Z', '2024-08-15T12:00:00Z', '2024-07-15T12:00:00Z',
    ]);
  });

  const yearly = [
    snap(1, utc('2021-03-01T12:00')),
    snap(2, utc('2021-11-30T12:00')),
    snap(3, utc('2022-06-01T12:00')),
    snap(4, utc('2023-02-01T12:00')),
    snap(5, utc('2023-12-31T23:00')), // 2024-01-01 00:00 in Berlin
    snap(6, utc('2024-01-01T01:00')),
    snap(7, utc('2025-05-01T12:00')),
  ];
  it.each([
    { zone: 'UTC', kept: [5, 6, 7], third: 5 },
    // In Berlin snapshot 5 already falls in 2024, so 2023's newest is snapshot 4.
    { zone: 'Europe/Berlin', kept: [4, 6, 7], third: 4 },
  ])('when keepYearly is 3 in $zone, then the newest of each of the last 3 years is kept', ({ zone, kept, third }) => {
    const decisions = decide(yearly, { keepYearly: 3, minKeep: 0 }, zone, utc('2025-06-01T00:00'));
    expect(keptIds(decisions)).toEqual(kept);
    expect(byId(decisions).get(third)?.reasons).toEqual(['kept: yearly #3']);
    expect(byId(decisions).get(7)?.reasons).toEqual(['kept: yearly #1']);
  });
});

describe('combined count rules', () => {
  it('when last 3 + daily 7 + weekly 4 run over 60 days of hourly snapshots, then exactly 11 are kept, worked out by hand', () => {
    // 2025-05-02 00:00 … 2025-06-30 23:00 UTC, one per hour: 60 days × 24 = 1440 snapshots.
    const snaps = series(utc('2025-05-02T00:00'), utc('2025-06-30T23:00'), 60);
    expect(snaps).toHaveLength(1440);
    const decisions = decide(snaps, { keepLast: 3, keepDaily: 7, keepWeekly: 4 });
    // last 3: 06-30 23:00, 22:00, 21:00.
    // daily 7: 23:00 of 06-30, 06-29, …, 06-24.
    // weekly 4 (06-30 is a Monday): W27 = 06-30 only → 06-30 23:00; W26 (06-23…06-29) → 06-29 23:00;
    //   W25 (06-16…06-22) → 06-22 23:00; W24 (06-09…06-15) → 06-15 23:00.
    // Union: 3 + 6 more dailies + 2 more weeklies = 11.
    expect(keptTimes(snaps, decisions)).toEqual([
      '2025-06-30T23:00:00Z', '2025-06-30T22:00:00Z', '2025-06-30T21:00:00Z',
      '2025-06-29T23:00:00Z', '2025-06-28T23:00:00Z', '2025-06-27T23:00:00Z', '2025-06-26T23:00:00Z',
      '2025-06-25T23:00:00Z', '2025-06-24T23:00:00Z',
      '2025-06-22T23:00:00Z', '2025-06-15T23:00:00Z',
    ]);
    expect(decisions.filter((d) => d.action === 'delete')).toHaveLength(1429);
    const at = (iso: string) => byId(decisions).get(snaps.find((s) => s.createdAt.getTime() === utc(iso).getTime())!.id);
    expect(at('2025-06-30T23:00')?.reasons).toEqual([
      'kept: last #1, daily #1, weekly #1',
      'kept: newest good snapshot (minKeep 1)',
    ]);
    expect(at('2025-06-30T21:00')?.reasons).toEqual(['kept: last #3']);
    expect(at('2025-06-29T23:00')?.reasons).toEqual(['kept: daily #2, weekly #2']);
    expect(at('2025-06-24T23:00')?.reasons).toEqual(['kept: daily #7']);
    expect(at('2025-06-15T23:00')?.reasons).toEqual(['kept: weekly #4']);
    expect(at('2025-06-30T20:00')).toEqual(
      expect.objectContaining({ action: 'delete', reasons: ['deleted: not selected by any rule (keepLast 3, daily 7, weekly 4)'] }),
    );
  });
});

describe('maxAgeDays', () => {
  const now = utc('2025-06-30T12:00');
  const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

  it('when maxAgeDays is the only bound, then everything within it is kept and everything older deleted', () => {
    const snaps = [snap(1, daysAgo(45)), snap(2, daysAgo(31)), snap(3, daysAgo(30)), snap(4, daysAgo(29)), snap(5, daysAgo(1))];
    expect(decide(snaps, { maxAgeDays: 30 }, 'UTC', now)).toEqual([
      { id: 1, action: 'delete', reasons: ['deleted: older than 30 days'] },
      { id: 2, action: 'delete', reasons: ['deleted: older than 30 days'] },
      { id: 3, action: 'keep', reasons: ['kept: within 30 days'] }, // exactly 30 days is not "older than"
      { id: 4, action: 'keep', reasons: ['kept: within 30 days'] },
      { id: 5, action: 'keep', reasons: ['kept: within 30 days', 'kept: newest good snapshot (minKeep 1)'] },
    ]);
  });

  it('when the bound crosses a DST change, then days are calendar days in the timezone (same local clock time)', () => {
    // now = 2025-04-15 14:00 CEST; 30 days earlier = 2025-03-16 14:00 CET = 13:00 UTC, not 12:00 UTC.
    const berlinNow = utc('2025-04-15T12:00');
    const snaps = [snap(1, utc('2025-03-16T12:30')), snap(2, utc('2025-03-16T13:00')), snap(3, utc('2025-04-15T11:00'))];
    const d = byId(decide(snaps, { maxAgeDays: 30 }, 'Europe/Berlin', berlinNow));
    expect(d.get(1)?.reasons).toEqual(['deleted: older than 30 days']);
    expect(d.get(2)?.reasons).toEqual(['kept: within 30 days']);
  });

  it('when maxAgeDays is combined with keepDaily, then the age bound wins over the daily rule', () => {
    // daily snapshots 06-21 … 06-30 at 12:00 (ids 1…10); now 06-30 23:00 → cutoff 06-27 23:00.
    const snaps = series(utc('2025-06-21T12:00'), utc('2025-06-30T12:00'), 24 * 60);
    const d = byId(decide(snaps, { keepDaily: 7, maxAgeDays: 3 }, 'UTC', utc('2025-06-30T23:00')));
    expect(d.get(10)?.reasons).toEqual(['kept: daily #1', 'kept: newest good snapshot (minKeep 1)']);
    expect(d.get(8)?.reasons).toEqual(['kept: daily #3']);
    expect(d.get(7)).toEqual({ id: 7, action: 'delete', reasons: ['deleted: older than 3 days'] }); // was daily #4
    expect(d.get(4)).toEqual({ id: 4, action: 'delete', reasons: ['deleted: older than 3 days'] }); // was daily #7
    expect(d.get(3)).toEqual({
      id: 3,
      action: 'delete',
      reasons: ['deleted: older than 3 days', 'deleted: not selected by any rule (daily 7)'],
    });
  });

  it('when maxAgeDays is combined with keepLast, then young unselected snapshots are "beyond keepLast", not "within"', () => {
    const snaps = [snap(1, daysAgo(40)), snap(2, daysAgo(3)), snap(3, daysAgo(2)), snap(4, daysAgo(1))];
    expect(decide(snaps, { keepLast: 2, maxAgeDays: 30 }, 'UTC', now)).toEqual([
      { id: 1, action: 'delete', reasons: ['deleted: older than 30 days', 'deleted: beyond keepLast 2'] },
      { id: 2, action: 'delete', reasons: ['deleted: beyond keepLast 2'] },
      { id: 3, action: 'keep', reasons: ['kept: last #2'] },
      { id: 4, action: 'keep', reasons: ['kept: last #1', 'kept: newest good snapshot (minKeep 1)'] },
    ]);
  });
});

describe('minKeep', () => {
  const now = utc('2025-06-30T12:00');
  // Five snapshots, all about ten days old; id 5 is the newest.
  const old = [1, 2, 3, 4, 5].map((id) => snap(id, new Date(now.getTime() - 10 * 86_400_000 + id * 3_600_000)));

  it('when every snapshot is older than maxAgeDays, then the newest one is still kept (default minKeep 1)', () => {
    expect(decide(old, { maxAgeDays: 1 }, 'UTC', now)).toEqual([
      { id: 1, action: 'delete', reasons: ['deleted: older than 1 day'] },
      { id: 2, action: 'delete', reasons: ['deleted: older than 1 day'] },
      { id: 3, action: 'delete', reasons: ['deleted: older than 1 day'] },
      { id: 4, action: 'delete', reasons: ['deleted: older than 1 day'] },
      { id: 5, action: 'keep', reasons: ['kept: newest good snapshot (minKeep 1)'] },
    ]);
  });

  it('when minKeep is null, then it means the default 1', () => {
    expect(keptIds(decide(old, { maxAgeDays: 1, minKeep: null }, 'UTC', now))).toEqual([5]);
  });

  it('when minKeep is 3, then the three newest survive with their rank', () => {
    const d = byId(decide(old, { maxAgeDays: 1, minKeep: 3 }, 'UTC', now));
    expect(d.get(5)?.reasons).toEqual(['kept: newest good snapshot (minKeep 3)']);
    expect(d.get(4)?.reasons).toEqual(['kept: 2nd newest good snapshot (minKeep 3)']);
    expect(d.get(3)?.reasons).toEqual(['kept: 3rd newest good snapshot (minKeep 3)']);
    expect(d.get(2)?.action).toBe('delete');
  });

  it('when minKeep is explicitly 0, then even the last snapshot may go', () => {
    expect(keptIds(decide(old, { maxAgeDays: 1, minKeep: 0 }, 'UTC', now))).toEqual([]);
  });

  it('when minKeep is larger than keepLast, then minKeep wins', () => {
    const d = byId(decide(old, { keepLast: 1, minKeep: 2 }, 'UTC', now));
    expect(d.get(5)?.reasons).toEqual(['kept: last #1', 'kept: newest good snapshot (minKeep 2)']);
    expect(d.get(4)?.reasons).toEqual(['kept: 2nd newest good snapshot (minKeep 2)']);
    expect(d.get(3)?.action).toBe('delete');
  });

  it('when the last 5 runs failed, then the last good snapshot survives and the failed ones are untouched', () => {
    const snaps = [
      ...old.slice(0, 3), // ids 1–3, available, ten days old
      ...[4, 5, 6, 7, 8].map((id) => snap(id, new Date(now.getTime() - (9 - id) * 3_600_000), { status: 'failed' })),
    ];
    expect(decide(snaps, { maxAgeDays: 1 }, 'UTC', now)).toEqual([
      { id: 1, action: 'delete', reasons: ['deleted: older than 1 day'] },
      { id: 2, action: 'delete', reasons: ['deleted: older than 1 day'] },
      { id: 3, action: 'keep', reasons: ['kept: newest good snapshot (minKeep 1)'] },
      ...[4, 5, 6, 7, 8].map((id) => ({ id, action: 'keep', reasons: ['kept: not available (failed)'] })),
    ]);
  });

  it('when the last runs failed under keepLast, then failed runs do not use up keepLast places', () => {
    const snaps = [
      ...old.slice(0, 3),
      ...[4, 5, 6, 7, 8].map((id) => snap(id, new Date(now.getTime() - (9 - id) * 3_600_000), { status: 'failed' })),
    ];
    expect(keptIds(decide(snaps, { keepLast: 2 }, 'UTC', now))).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('protections', () => {
  const now = utc('2025-06-30T12:00');
  const t = (day: number) => utc(`2025-06-${String(day).padStart(2, '0')}T12:00`);

  it('when a snapshot is keepForever, then it is kept whatever the rules say', () => {
    const snaps = [snap(1, t(1), { keepForever: true }), snap(2, t(2)), snap(3, t(3))];
    expect(decide(snaps, { keepLast: 1, maxAgeDays: 7 }, 'UTC', now)).toEqual([
      { id: 1, action: 'keep', reasons: ['kept: never delete automatically'] },
      { id: 2, action: 'delete', reasons: ['deleted: older than 7 days', 'deleted: beyond keepLast 1'] },
      { id: 3, action: 'keep', reasons: ['kept: newest good snapshot (minKeep 1)'] },
    ]);
  });

  it('when the newest is keepForever, then all its reasons are listed and it still takes keepLast #1', () => {
    const snaps = [snap(1, t(28)), snap(2, t(29)), snap(3, t(30), { keepForever: true })];
    expect(decide(snaps, { keepLast: 1 }, 'UTC', now)).toEqual([
      { id: 1, action: 'delete', reasons: ['deleted: beyond keepLast 1'] },
      { id: 2, action: 'delete', reasons: ['deleted: beyond keepLast 1'] },
      {
        id: 3,
        action: 'keep',
        reasons: ['kept: last #1', 'kept: never delete automatically', 'kept: newest good snapshot (minKeep 1)'],
      },
    ]);
  });

  it.each([
    { zone: 'UTC', until: utc('2026-12-01T00:00'), says: 'kept: protected until 2026-12-01' },
    { zone: 'UTC', until: utc('2026-12-01T14:30'), says: 'kept: protected until 2026-12-01 14:30' },
    { zone: 'Europe/Berlin', until: utc('2026-11-30T23:00'), says: 'kept: protected until 2026-12-01' },
    { zone: 'America/New_York', until: utc('2026-12-01T00:00'), says: 'kept: protected until 2026-11-30 19:00' },
  ])('when deleteNotBefore is in the future ($zone), then it is kept: "$says"', ({ zone, until, says }) => {
    const snaps = [snap(1, t(1), { deleteNotBefore: until }), snap(2, t(2)), snap(3, t(3))];
    const d = byId(decide(snaps, { keepLast: 1 }, zone, now));
    expect(d.get(1)).toEqual({ id: 1, action: 'keep', reasons: [says] });
    expect(d.get(2)?.action).toBe('delete');
  });

  it.each([
    { when: 'in the past', until: utc('2025-06-29T12:00') },
    { when: 'exactly now', until: now },
  ])('when deleteNotBefore is $when, then it no longer protects', ({ until }) => {
    const snaps = [snap(1, t(1), { deleteNotBefore: until }), snap(2, t(2))];
    expect(byId(decide(snaps, { keepLast: 1 }, 'UTC', now)).get(1)).toEqual({
      id: 1,
      action: 'delete',
      reasons: ['deleted: beyond keepLast 1'],
    });
  });

  it.each([
    { origin: 'manual' as const, says: 'kept: manual snapshot' },
    { origin: 'panel' as const, says: 'kept: panel snapshot' },
  ])('when a $origin snapshot is old, then it is never deleted and takes no keepLast place', ({ origin, says }) => {
    const snaps = [snap(1, t(1), { origin }), snap(2, t(2)), snap(3, t(3)), snap(4, t(29), { origin })];
    expect(decide(snaps, { keepLast: 1, maxAgeDays: 7 }, 'UTC', now)).toEqual([
      { id: 1, action: 'keep', reasons: [says] },
      { id: 2, action: 'delete', reasons: ['deleted: older than 7 days', 'deleted: beyond keepLast 1'] },
      // Old, but the newest scheduled one: keepLast #1 is overridden by age, minKeep keeps it.
      { id: 3, action: 'keep', reasons: ['kept: newest good snapshot (minKeep 1)'] },
      { id: 4, action: 'keep', reasons: [says] },
    ]);
  });

  it.each<SnapshotStatus>(['requested', 'creating', 'failed', 'deleting', 'delete_failed', 'superseded'])(
    'when a snapshot is %s, then it is kept as "not available"',
    (status) => {
      const snaps = [snap(1, t(1), { status }), snap(2, t(28))];
      expect(decide(snaps, { keepLast: 1, maxAgeDays: 1, minKeep: 0 }, 'UTC', now)).toEqual([
        { id: 1, action: 'keep', reasons: [`kept: not available (${status})`] },
        { id: 2, action: 'delete', reasons: ['deleted: older than 1 day'] },
      ]);
    },
  );

  it('when a manual snapshot is still creating and protected, then every reason is listed', () => {
    const snaps = [snap(1, t(1), { origin: 'manual', status: 'creating', keepForever: true })];
    expect(decide(snaps, { keepLast: 1 }, 'UTC', now)).toEqual([
      {
        id: 1,
        action: 'keep',
        reasons: ['kept: manual snapshot', 'kept: not available (creating)', 'kept: never delete automatically'],
      },
    ]);
  });

  it('when no bound is set at all (or only zeros), then nothing is deleted', () => {
    const snaps = [snap(1, t(1)), snap(2, t(2))];
    const expected = [
      { id: 1, action: 'keep', reasons: ['kept: no retention limit set'] },
      { id: 2, action: 'keep', reasons: ['kept: no retention limit set', 'kept: newest good snapshot (minKeep 1)'] },
    ];
    expect(decide(snaps, {}, 'UTC', now)).toEqual(expected);
    expect(decide(snaps, { keepLast: null, maxAgeDays: null }, 'UTC', now)).toEqual(expected);
    expect(decide(snaps, { keepLast: 0, keepDaily: 0, maxAgeDays: 0 }, 'UTC', now)).toEqual(expected);
  });
});

describe('timezones and DST', () => {
  it.each([
    { zone: 'UTC', kept: [1, 2] },
    { zone: 'America/New_York', kept: [2] }, // 18:30 and 19:30 on 2025-01-10 there
  ])('when snapshots are at 23:30 and 00:30 UTC, then in $zone keepDaily 2 keeps $kept', ({ zone, kept }) => {
    const snaps = [snap(1, utc('2025-01-10T23:30')), snap(2, utc('2025-01-11T00:30'))];
    const decisions = decide(snaps, { keepDaily: 2, minKeep: 0 }, zone, utc('2025-01-11T01:00'));
    expect(keptIds(decisions)).toEqual(kept);
    if (zone !== 'UTC') expect(byId(decisions).get(1)?.reasons).toEqual(['deleted: not selected by any rule (daily 2)']);
  });

  describe('Europe/Berlin spring forward (2025-03-30, 02:00 CET → 03:00 CEST)', () => {
    // One snapshot every real hour at :15 of local 2025-03-30: 00:15 CET … 23:15 CEST = 23 snapshots.
    const day = series(local('2025-03-30T00:15', 'Europe/Berlin'), local('2025-03-30T23:15', 'Europe/Berlin'), 60);
    const now = utc('2025-03-30T22:00');

    it('then the 23-hour day has 23 hourly periods, and 01:15 CET and 03:15 CEST are neighbours', () => {
      expect(day).toHaveLength(23);
      const decisions = decide(day, { keepHourly: 23, minKeep: 0 }, 'Europe/Berlin', now);
      expect(keptIds(decisions)).toHaveLength(23);
      const at = (iso: string) => byId(decisions).get(day.find((s) => s.createdAt.getTime() === local(iso, 'Europe/Berlin').getTime())!.id);
      expect(at('2025-03-30T03:15')?.reasons).toEqual(['kept: hourly #21']);
      expect(at('2025-03-30T01:15')?.reasons).toEqual(['kept: hourly #22']);
      expect(at('2025-03-30T00:15')?.reasons).toEqual(['kept: hourly #23']);
      expect(keptIds(decide(day, { keepHourly: 22, minKeep: 0 }, 'Europe/Berlin', now))).not.toContain(1);
    });

    it('then the 23 hours are one daily period', () => {
      const prev = snap(100, local('2025-03-29T23:15', 'Europe/Berlin'));
      const decisions = decide([prev, ...day], { keepDaily: 2, minKeep: 0 }, 'Europe/Berlin', now);
      expect(keptIds(decisions)).toEqual([23, 100]);
      expect(byId(decisions).get(100)?.reasons).toEqual(['kept: daily #2']);
    });
  });

  describe('Europe/Berlin fall back (2025-10-26, 03:00 CEST → 02:00 CET)', () => {
    // One snapshot every real hour at :15 of local 2025-10-26: 00:15 CEST … 23:15 CET = 25 snapshots.
    const day = series(utc('2025-10-25T22:15'), utc('2025-10-26T22:15'), 60);
    const now = utc('2025-10-26T23:00');

    it('then the repeated 02:00 hour is two hourly periods (25 in the day)', () => {
      expect(day).toHaveLength(25);
      const decisions = decide(day, { keepHourly: 25, minKeep: 0 }, 'Europe/Berlin', now);
      expect(keptIds(decisions)).toHaveLength(25);
      const at = (iso: string) => byId(decisions).get(day.find((s) => s.createdAt.getTime() === utc(iso).getTime())!.id);
      expect(at('2025-10-26T01:15')?.reasons).toEqual(['kept: hourly #22']); // 02:15 CET
      expect(at('2025-10-26T00:15')?.reasons).toEqual(['kept: hourly #23']); // 02:15 CEST
      expect(at('2025-10-25T22:15')?.reasons).toEqual(['kept: hourly #25']); // 00:15 CEST
    });

    it('then keepHourly 2 keeps both 02:15 snapshots rather than 01:15 (wall clock alone would merge them)', () => {
      const snaps = [
        snap(1, utc('2025-10-25T23:15')), // 01:15 CEST
        snap(2, utc('2025-10-26T00:15')), // 02:15 CEST
        snap(3, utc('2025-10-26T01:15')), // 02:15 CET
      ];
      expect(decide(snaps, { keepHourly: 2, minKeep: 0 }, 'Europe/Berlin', now)).toEqual([
        { id: 1, action: 'delete', reasons: ['deleted: not selected by any rule (hourly 2)'] },
        { id: 2, action: 'keep', reasons: ['kept: hourly #2'] },
        { id: 3, action: 'keep', reasons: ['kept: hourly #1'] },
      ]);
    });

    it('then the 25 hours are one daily period', () => {
      const prev = snap(100, utc('2025-10-25T21:15')); // 23:15 CEST on 10-25
      const decisions = decide([prev, ...day], { keepDaily: 2, minKeep: 0 }, 'Europe/Berlin', now);
      expect(keptIds(decisions)).toEqual([25, 100]);
    });
  });

  describe('America/New_York spring forward (2025-03-09, 02:00 EST → 03:00 EDT)', () => {
    const now = utc('2025-03-10T05:00');

    it('then 01:30 EST and 03:30 EDT, one real hour apart, are neighbouring hourly periods', () => {
      const snaps = [
        snap(1, utc('2025-03-09T05:30')), // 00:30 EST
        snap(2, utc('2025-03-09T06:30')), // 01:30 EST
        snap(3, utc('2025-03-09T07:30')), // 03:30 EDT
      ];
      expect(decide(snaps, { keepHourly: 2, minKeep: 0 }, 'America/New_York', now)).toEqual([
        { id: 1, action: 'delete', reasons: ['deleted: not selected by any rule (hourly 2)'] },
        { id: 2, action: 'keep', reasons: ['kept: hourly #2'] },
        { id: 3, action: 'keep', reasons: ['kept: hourly #1'] },
      ]);
    });

    it('then the 23-hour day is one daily period, and 23:30 the evening before is the day before', () => {
      const day = series(utc('2025-03-09T05:30'), utc('2025-03-10T03:30'), 60); // 00:30 EST … 23:30 EDT
      expect(day).toHaveLength(23);
      const prev = snap(100, utc('2025-03-09T04:30')); // 2025-03-08 23:30 EST, only 23 h before 03-09 23:30 EDT
      const decisions = decide([prev, ...day], { keepDaily: 2, minKeep: 0 }, 'America/New_York', now);
      expect(keptIds(decisions)).toEqual([23, 100]);
    });
  });

  describe('America/New_York fall back (2025-11-02, 02:00 EDT → 01:00 EST)', () => {
    const now = utc('2025-11-03T06:00');

    it('then 00:30 EDT and 23:30 EST, exactly 24 h apart, are the same day', () => {
      const snaps = [
        snap(1, utc('2025-11-02T03:30')), // 11-01 23:30 EDT
        snap(2, utc('2025-11-02T04:30')), // 11-02 00:30 EDT
        snap(3, utc('2025-11-03T04:30')), // 11-02 23:30 EST
        snap(4, utc('2025-11-03T05:30')), // 11-03 00:30 EST
      ];
      expect(decide(snaps, { keepDaily: 3, minKeep: 0 }, 'America/New_York', now)).toEqual([
        { id: 1, action: 'keep', reasons: ['kept: daily #3'] },
        { id: 2, action: 'delete', reasons: ['deleted: not selected by any rule (daily 3)'] },
        { id: 3, action: 'keep', reasons: ['kept: daily #2'] },
        { id: 4, action: 'keep', reasons: ['kept: daily #1'] },
      ]);
    });

    it('then the repeated 01:00 hour is two hourly periods', () => {
      const snaps = [
        snap(1, utc('2025-11-02T04:30')), // 00:30 EDT
        snap(2, utc('2025-11-02T05:30')), // 01:30 EDT
        snap(3, utc('2025-11-02T06:30')), // 01:30 EST
      ];
      expect(keptIds(decide(snaps, { keepHourly: 2, minKeep: 0 }, 'America/New_York', now))).toEqual([2, 3]);
    });
  });
});

describe('bad input is refused, never guessed', () => {
  const snaps = [snap(1, utc('2025-06-01T00:00'))];
  it.each([
    { what: 'an unknown timezone', run: () => decide(snaps, { keepLast: 1 }, 'Mars/Olympus') },
    { what: 'a negative count', run: () => decide(snaps, { keepDaily: -1 }) },
    { what: 'a fractional count', run: () => decide(snaps, { keepLast: 1.5 }) },
    { what: 'a negative minKeep', run: () => decide(snaps, { keepLast: 1, minKeep: -1 }) },
    { what: 'an invalid date', run: () => decide([snap(1, new Date('nope'))], { keepLast: 1 }) },
    { what: 'a duplicate id', run: () => decide([...snaps, ...snaps], { keepLast: 1 }) },
  ])('when given $what, then it throws a RangeError', ({ run }) => {
    expect(run).toThrow(RangeError);
  });
});

describe('describeRetention and hasAnyBound', () => {
  it.each<[RetentionRules, string]>([
    [{ keepLast: 24, keepDaily: 7, keepWeekly: 4 }, 'Keeps the last 24, 7 daily and 4 weekly; never fewer than 1.'],
    [{ maxAgeDays: 30 }, 'Keeps everything for 30 days; never fewer than 1.'],
    [{ maxAgeDays: 30, minKeep: 0 }, 'Keeps everything for 30 days.'],
    [{ maxAgeDays: 1 }, 'Keeps everything for 1 day; never fewer than 1.'],
    [{ keepLast: 1 }, 'Keeps the last one; never fewer than 1.'],
    [{ keepDaily: 7, maxAgeDays: 30, minKeep: 3 }, 'Keeps 7 daily, none older than 30 days; never fewer than 3.'],
    [{ keepHourly: 24, keepMonthly: 12, keepYearly: 2 }, 'Keeps 24 hourly, 12 monthly and 2 yearly; never fewer than 1.'],
    [{}, 'Keeps everything (no retention limit set).'],
    [{ keepLast: 0, maxAgeDays: null }, 'Keeps everything (no retention limit set).'],
  ])('when the rules are %j, then they read "%s"', (rules, words) => {
    expect(describeRetention(rules)).toBe(words);
  });

  it.each<[RetentionRules, boolean]>([
    [{}, false],
    [{ keepLast: null, keepDaily: null, maxAgeDays: null, minKeep: 3 }, false],
    [{ keepLast: 0, maxAgeDays: 0 }, false],
    [{ keepLast: -2 }, false],
    [{ keepLast: 1 }, true],
    [{ keepYearly: 1 }, true],
    [{ maxAgeDays: 30 }, true],
  ])('when the rules are %j, then hasAnyBound is %s', (rules, bound) => {
    expect(hasAnyBound(rules)).toBe(bound);
  });
});
