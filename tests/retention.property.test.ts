/**
 * The retention rule's promises, checked over random histories and rules. Each property is a
 * promise from docs/architecture.md ("The engine's promises") that must hold for every input, not just
 * for the hand-written cases in retention.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decideRetention,
  hasAnyBound,
  type RetentionCandidate,
  type RetentionDecision,
  type RetentionRules,
  type SnapshotStatus,
} from '../sidecar/retention.js';

const NOW = Date.UTC(2025, 5, 30, 12, 0);
const DAY = 86_400_000;
const STATUSES: SnapshotStatus[] = [
  'requested', 'creating', 'available', 'available', 'available', 'available',
  'failed', 'deleting', 'delete_failed', 'superseded',
];
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];

const arbCandidate = (id: number): fc.Arbitrary<RetentionCandidate> =>
  fc.record({
    id: fc.constant(id),
    status: fc.constantFrom(...STATUSES),
    origin: fc.constantFrom<RetentionCandidate['origin']>('scheduled', 'scheduled', 'scheduled', 'manual', 'panel'),
    // Up to two years back, a few minutes into the future (clock skew), often on shared instants.
    createdAt: fc.oneof(
      fc.integer({ min: NOW - 730 * DAY, max: NOW + 600_000 }),
      fc.integer({ min: 0, max: 20 }).map((h) => NOW - h * 3_600_000),
    ).map((t) => new Date(t)),
    keepForever: fc.boolean(),
    deleteNotBefore: fc.option(fc.integer({ min: NOW - 30 * DAY, max: NOW + 30 * DAY }).map((t) => new Date(t)), {
      freq: 3,
    }),
  });

const arbHistory: fc.Arbitrary<RetentionCandidate[]> = fc
  .integer({ min: 0, max: 60 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbCandidate(i + 1))))
  .chain((snaps) => fc.shuffledSubarray(snaps, { minLength: snaps.length, maxLength: snaps.length }));

const arbCount = fc.option(fc.integer({ min: 0, max: 12 }), { nil: null, freq: 2 });
const arbRules: fc.Arbitrary<RetentionRules> = fc.record(
  {
    keepLast: arbCount,
    keepHourly: arbCount,
    keepDaily: arbCount,
    keepWeekly: arbCount,
    keepMonthly: arbCount,
    keepYearly: arbCount,
    maxAgeDays: fc.option(fc.integer({ min: 0, max: 400 }), { nil: null, freq: 2 }),
    minKeep: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null, freq: 2 }),
  },
  { requiredKeys: [] },
);
/** Rules with no limit: every count and maxAgeDays absent, null or 0. */
const arbUnset = fc.constantFrom(undefined, null, 0);
const arbUnbounded: fc.Arbitrary<RetentionRules> = fc.record({
  keepLast: arbUnset,
  keepHourly: arbUnset,
  keepDaily: arbUnset,
  keepWeekly: arbUnset,
  keepMonthly: arbUnset,
  keepYearly: arbUnset,
  maxAgeDays: arbUnset,
  minKeep: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null }),
});
const arbZone = fc.constantFrom(...ZONES);

function run(snaps: RetentionCandidate[], rules: RetentionRules, timezone: string): RetentionDecision[] {
  return decideRetention(snaps, rules, { timezone, now: new Date(NOW) });
}

function isPoolMember(s: RetentionCandidate): boolean {
  return s.status === 'available' && s.origin === 'scheduled';
}

describe('retention over random histories', () => {
  it('never deletes a protected, unavailable, manual or panel snapshot', () => {
    fc.assert(
      fc.property(arbHistory, arbRules, arbZone, (snaps, rules, zone) => {
        const decisions = run(snaps, rules, zone);
        snaps.forEach((s, i) => {
          const untouchable =
            !isPoolMember(s) || s.keepForever || (s.deleteNotBefore !== null && s.deleteNotBefore.getTime() > NOW);
          if (untouchable) expect(decisions[i]?.action).toBe('keep');
        });
      }),
      { numRuns: 300 },
    );
  });

  it('never leaves fewer than min(minKeep, available scheduled) available snapshots, and those are the newest', () => {
    fc.assert(
      fc.property(arbHistory, arbRules, arbZone, (snaps, rules, zone) => {
        const decisions = run(snaps, rules, zone);
        const minKeep = rules.minKeep ?? 1;
        const pool = snaps
          .filter(isPoolMember)
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id);
        const kept = new Set(decisions.filter((d) => d.action === 'keep').map((d) => d.id));
        const survivors = pool.filter((s) => kept.has(s.id));
        expect(survivors.length).toBeGreaterThanOrEqual(Math.min(minKeep, pool.length));
        for (const s of pool.slice(0, minKeep)) expect(kept.has(s.id)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('gives one decision per input snapshot, in input order, each explained by a matching sentence', () => {
    fc.assert(
      fc.property(arbHistory, arbRules, arbZone, (snaps, rules, zone) => {
        const decisions = run(snaps, rules, zone);
        expect(decisions.map((d) => d.id)).toEqual(snaps.map((s) => s.id));
        for (const d of decisions) {
          expect(d.reasons.length).toBeGreaterThan(0);
          for (const r of d.reasons) expect(r.startsWith(d.action === 'keep' ? 'kept: ' : 'deleted: ')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('decides the same way for the same input, whatever its order', () => {
    fc.assert(
      fc.property(
        arbHistory.chain((snaps) =>
          fc.tuple(fc.constant(snaps), fc.shuffledSubarray(snaps, { minLength: snaps.length, maxLength: snaps.length })),
        ),
        arbRules,
        arbZone,
        ([snaps, shuffled], rules, zone) => {
        const first = run(snaps, rules, zone);
        expect(run(snaps, rules, zone)).toEqual(first);
        const byId = new Map(run(shuffled, rules, zone).map((d) => [d.id, d]));
        for (const d of first) expect(byId.get(d.id)).toEqual(d);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('deletes nothing when no bound is set', () => {
    fc.assert(
      fc.property(arbHistory, arbUnbounded, arbZone, (snaps, rules, zone) => {
        expect(hasAnyBound(rules)).toBe(false);
        expect(run(snaps, rules, zone).every((d) => d.action === 'keep')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('never deletes more when a count rule or maxAgeDays is raised by one (more generous rules keep a superset)', () => {
    const keys = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly', 'maxAgeDays'] as const;
    fc.assert(
      fc.property(arbHistory, arbRules, arbZone, fc.constantFrom(...keys), (snaps, rules, zone, key) => {
        const current = rules[key];
        // 0 / null mean "not set", so raising from there is adding a limit, not loosening one.
        fc.pre(typeof current === 'number' && current > 0);
        const before = run(snaps, rules, zone);
        const after = run(snaps, { ...rules, [key]: current + 1 }, zone);
        before.forEach((d, i) => {
          if (d.action === 'keep') expect(after[i]?.action).toBe('keep');
        });
      }),
      { numRuns: 300 },
    );
  });
});
