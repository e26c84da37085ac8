/**
 * The retention rule: given one schedule's snapshots of one server, which may go.
 *
 * A pure function of its arguments (no I/O, no clock of its own: `now` is the database's
 * clock, passed in), so the same history and rules always give the same decisions, the
 * engine can re-run it at any time, and a screen can preview "what would be deleted" with
 * exactly the code that deletes. Every decision carries sentences saying why, because the
 * admins who set these rules must be able to trust them snapshot by snapshot.
 *
 * WHO CAN BE DELETED AT ALL
 * Only snapshots that are `available` and of origin `scheduled`. Everything else is always
 * `keep`, because retention must never destroy what it did not make or what is not finished:
 *   - manual and panel snapshots are an admin's own act; only the admin removes them
 *     ("kept: manual snapshot", "kept: panel snapshot");
 *   - requested/creating may still become the newest good copy, failed ones are evidence of
 *     a problem, deleting/delete_failed are already in another workflow, superseded ones
 *     are history ("kept: not available (creating)").
 * `keep` therefore means "retention asks for nothing", not "this exists at the provider".
 * The available scheduled snapshots are "the pool"; only the pool is ranked by the rules
 * below, so a manual snapshot taken today never pushes a scheduled one out of `keepLast`.
 *
 * PROTECTIONS (win over every rule, including maxAgeDays)
 *   - `keepForever`                      → "kept: never delete automatically"
 *   - `deleteNotBefore` later than `now` → "kept: protected until 2026-12-01" (the date in
 *     the schedule's timezone; "2026-12-01 14:30" when it is not local midnight). At or
 *     after that instant the protection is over.
 *   - the newest `minKeep` of the pool (default 1; 0 only when given explicitly)
 *                                        → "kept: newest good snapshot (minKeep 1)",
 *                                          "kept: 2nd newest good snapshot (minKeep 3)".
 *     Only *available* snapshots count, so a schedule whose recent runs all failed still
 *     holds its last good snapshot instead of ageing it out. Protected snapshots count
 *     towards minKeep: they are good copies that will survive.
 *
 * COUNT RULES (restic/borg grandfather-father-son)
 * Walk the pool newest → oldest. `keepLast N` keeps the newest N. For `keepHourly`,
 * `keepDaily`, `keepWeekly`, `keepMonthly`, `keepYearly` N: each snapshot falls in a
 * calendar period of the schedule's IANA timezone; the rule keeps the newest snapshot of
 * each of the N most recent periods *that have a snapshot* (gaps do not use up the count,
 * so a server that was off for a week still keeps 7 dailies). "#k" in a reason is the k-th
 * period that rule kept ("kept: daily #3"). Rules are independent; a snapshot kept by several
 * lists them all, in the order last, hourly, daily, weekly, monthly, yearly
 * ("kept: last #1, hourly #1, daily #1"). Protected snapshots take part like any other:
 * "keep the last 3" means the three newest, whatever else protects them.
 *   Periods: hour, day, ISO week (starts Monday; the week of 2024-12-30 is 2025-W01, so a
 *   week is never split at New Year), month, year — all in local wall-clock time, so
 *   "daily" means the admin's calendar day, 23 hours on a spring-forward day and 25 on an
 *   autumn one.
 *   DST choice for hours: an hour is "the local clock hour *and* its UTC offset". On an
 *   autumn day the repeated hour (01:00 twice in New York, 02:00 twice in Berlin) is two
 *   hourly periods, because an hourly schedule really ran twice and the server changed in
 *   between; an admin who keeps 24 hourly expects 24 snapshots covering the last 24 real
 *   hours, not 23 of them and a silently dropped one. On a spring-forward day the missing
 *   hour has no snapshots and, like any gap, uses up no count. (restic and borg key on the
 *   wall clock alone and merge the two hours; we deliberately do not.)
 *
 * AGE BOUND
 * `maxAgeDays D` is an upper bound: a pool snapshot created before `now` minus D calendar
 * days in the schedule's timezone (same local clock time, so DST does not shift the cutoff
 * by an hour) is deleted ("deleted: older than 30 days") even if a count rule picked it,
 * unless a protection keeps it. Exactly D days old is still kept. With no count rule,
 * everything younger than the bound is kept ("kept: within 30 days").
 *
 * WHAT IS DELETED, AND WHY IT SAYS SO
 * With count rules, a pool snapshot no rule selects is deleted: "deleted: beyond keepLast 2"
 * when keepLast is the only count rule, else "deleted: not selected by any rule (keepLast 2,
 * daily 7)". An old snapshot gets the age sentence, and the not-selected one too if it applies.
 * With no bound at all (every count rule and maxAgeDays null or 0) nothing is deleted
 * ("kept: no retention limit set"); the API refuses such schedules, this is the safe fallback.
 * A count or maxAgeDays of 0 means "not set" (as in restic), never "keep none": misreading
 * 0 as a limit would delete everything, misreading it as unset deletes nothing.
 *
 * ORDER AND DETERMINISM
 * Decisions come back in input order, one per input snapshot. "Newer" means later
 * `createdAt`, ties broken by id (higher id = newer), so the result does not depend on input
 * order. Bad input (unknown timezone, negative or fractional counts, invalid dates, duplicate
 * ids) throws a RangeError instead of guessing: a guess here could delete a snapshot.
 */
import { DateTime, IANAZone } from 'luxon';
import type { SnapshotStatus } from './schema.js';

export interface RetentionRules {
  keepLast?: number | null;
  keepHourly?: number | null;
  keepDaily?: number | null;
  keepWeekly?: number | null;
  keepMonthly?: number | null;
  keepYearly?: number | null;
  maxAgeDays?: number | null;
  /** Default 1. */
  minKeep?: number | null;
}

export type { SnapshotStatus };

export interface RetentionCandidate {
  id: number;
  status: SnapshotStatus;
  origin: 'scheduled' | 'manual' | 'panel' | 'found';
  createdAt: Date;
  keepForever: boolean;
  deleteNotBefore: Date | null;
}

export interface RetentionDecision {
  id: number;
  action: 'keep' | 'delete';
  reasons: string[];
}

type CountRuleKey = 'keepLast' | 'keepHourly' | 'keepDaily' | 'keepWeekly' | 'keepMonthly' | 'keepYearly';

interface CountRule {
  key: CountRuleKey;
  /** Word in "kept: daily #3" and in "not selected by any rule (daily 7)". */
  label: string;
  /** Period a snapshot falls in; equal keys = same period. `rank` is its place in the pool. */
  period: (local: DateTime, rank: number) => string | number;
}

/** In the order reasons list them. */
const COUNT_RULES: readonly CountRule[] = [
  { key: 'keepLast', label: 'last', period: (_local, rank) => rank },
  // The offset is part of the key: the repeated autumn hour is two periods (see above).
  { key: 'keepHourly', label: 'hourly', period: (l) => `${l.year}-${l.month}-${l.day}T${l.hour}@${l.offset}` },
  { key: 'keepDaily', label: 'daily', period: (l) => l.year * 10_000 + l.month * 100 + l.day },
  { key: 'keepWeekly', label: 'weekly', period: (l) => l.weekYear * 100 + l.weekNumber },
  { key: 'keepMonthly', label: 'monthly', period: (l) => l.year * 100 + l.month },
  { key: 'keepYearly', label: 'yearly', period: (l) => l.year },
];

interface NormalizedRules {
  counts: { rule: CountRule; n: number }[];
  maxAgeDays: number | null;
  minKeep: number;
}

/** A positive whole number is a limit; null, undefined and 0 mean "not set". */
function readCount(rules: RetentionRules, key: keyof RetentionRules): number | null {
  const value = rules[key];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Retention rule ${key} must be a whole number of 0 or more (got ${String(value)}).`);
  }
  return value === 0 ? null : value;
}

function normalizeRules(rules: RetentionRules): NormalizedRules {
  const counts: NormalizedRules['counts'] = [];
  for (const rule of COUNT_RULES) {
    const n = readCount(rules, rule.key);
    if (n !== null) counts.push({ rule, n });
  }
  const maxAgeDays = readCount(rules, 'maxAgeDays');
  // minKeep 0 is a real choice ("may delete the last one"), so it is not folded into null.
  const minKeepRaw = rules.minKeep;
  let minKeep = 1;
  if (minKeepRaw !== null && minKeepRaw !== undefined) {
    if (typeof minKeepRaw !== 'number' || !Number.isSafeInteger(minKeepRaw) || minKeepRaw < 0) {
      throw new RangeError(`Retention rule minKeep must be a whole number of 0 or more (got ${String(minKeepRaw)}).`);
    }
    minKeep = minKeepRaw;
  }
  return { counts, maxAgeDays, minKeep };
}

/** True when the rules limit anything: some count rule or maxAgeDays is a positive whole number. */
export function hasAnyBound(rules: RetentionRules): boolean {
  const keys: (keyof RetentionRules)[] = [...COUNT_RULES.map((r) => r.key), 'maxAgeDays'];
  return keys.some((key) => {
    const value = rules[key];
    return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
  });
}

function days(n: number): string {
  return n === 1 ? '1 day' : `${n} days`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  switch (n % 10) {
    case 1: return `${n}st`;
    case 2: return `${n}nd`;
    case 3: return `${n}rd`;
    default: return `${n}th`;
  }
}

/** "keepLast 2" for keepLast, "daily 7" for the calendar rules: the names admins set. */
function ruleName(rule: CountRule, n: number): string {
  return rule.key === 'keepLast' ? `keepLast ${n}` : `${rule.label} ${n}`;
}

function joinWithAnd(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/**
 * The rules in words for screens, e.g. "Keeps the last 24, 7 daily and 4 weekly; never fewer
 * than 1." or "Keeps everything for 30 days; never fewer than 1.". Throws a RangeError on
 * rules decideRetention would refuse.
 */
export function describeRetention(rules: RetentionRules): string {
  const { counts, maxAgeDays, minKeep } = normalizeRules(rules);
  if (counts.length === 0 && maxAgeDays === null) return 'Keeps everything (no retention limit set).';
  const floor = minKeep > 0 ? `; never fewer than ${minKeep}` : '';
  if (counts.length === 0) return `Keeps everything for ${days(maxAgeDays ?? 0)}${floor}.`;
  const parts = counts.map(({ rule, n }) =>
    rule.key === 'keepLast' ? (n === 1 ? 'the last one' : `the last ${n}`) : `${n} ${rule.label}`,
  );
  const age = maxAgeDays === null ? '' : `, none older than ${days(maxAgeDays)}`;
  return `Keeps ${joinWithAnd(parts)}${age}${floor}.`;
}

function assertValidDate(value: Date, what: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new RangeError(`${what} is not a valid date.`);
  }
}

/** "2026-12-01" at local midnight, otherwise "2026-12-01 14:30", in the schedule's timezone. */
function formatUntil(until: Date, zone: IANAZone): string {
  const local = DateTime.fromJSDate(until, { zone });
  return local.hour === 0 && local.minute === 0 ? local.toFormat('yyyy-MM-dd') : local.toFormat('yyyy-MM-dd HH:mm');
}

/** Newer first: later createdAt, then higher id. */
function newestFirst(a: RetentionCandidate, b: RetentionCandidate): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id;
}

/**
 * One decision per snapshot, in input order. See the comment at the top of this file for
 * every rule, protection and reason sentence.
 */
export function decideRetention(
  snapshots: RetentionCandidate[],
  rules: RetentionRules,
  opts: { timezone: string; now: Date },
): RetentionDecision[] {
  // IANAZone.create is cached per name and checks validity once. IANAZone.isValidZone would
  // build a new Intl.DateTimeFormat on every call (~40 µs and ~28 KB of ICU memory that only
  // a major GC returns): once per settled snapshot, that took a sidecar working through
  // 10,000 due slots from ~130 MB to ~450 MB RSS (npm run bench, docs/performance.md).
  const zone = IANAZone.create(opts.timezone);
  if (!zone.isValid) {
    throw new RangeError(`Timezone "${opts.timezone}" is not a known IANA timezone (e.g. "Europe/Berlin", "UTC").`);
  }
  assertValidDate(opts.now, 'now');
  const { counts, maxAgeDays, minKeep } = normalizeRules(rules);
  const bounded = counts.length > 0 || maxAgeDays !== null;

  const seen = new Set<number>();
  for (const s of snapshots) {
    if (seen.has(s.id)) throw new RangeError(`Snapshot id ${s.id} appears more than once.`);
    seen.add(s.id);
    assertValidDate(s.createdAt, `createdAt of snapshot ${s.id}`);
    if (s.deleteNotBefore !== null) assertValidDate(s.deleteNotBefore, `deleteNotBefore of snapshot ${s.id}`);
  }

  const pool = snapshots.filter((s) => s.status === 'available' && s.origin === 'scheduled').sort(newestFirst);

  // Count rules: restic's walk. `last` only moves when the rule keeps a snapshot; since the
  // walk goes back in time, that is "the newest snapshot of each of the N newest periods".
  const selectedBy = new Map<number, string[]>();
  if (counts.length > 0) {
    const state = counts.map(({ rule, n }) => ({ rule, left: n, kept: 0, last: undefined as string | number | undefined }));
    pool.forEach((s, rank) => {
      const local = DateTime.fromJSDate(s.createdAt, { zone });
      for (const st of state) {
        if (st.left === 0) continue;
        const period = st.rule.period(local, rank);
        if (period === st.last) continue;
        st.last = period;
        st.left -= 1;
        st.kept += 1;
        const labels = selectedBy.get(s.id) ?? [];
        labels.push(`${st.rule.label} #${st.kept}`);
        selectedBy.set(s.id, labels);
      }
    });
  }

  const minKeepRank = new Map<number, number>();
  pool.slice(0, minKeep).forEach((s, i) => minKeepRank.set(s.id, i + 1));
  const pooled = new Set(pool.map((s) => s.id));

  // `<` below: a snapshot exactly maxAgeDays old is not "older than" the bound.
  const cutoff =
    maxAgeDays === null ? null : DateTime.fromJSDate(opts.now, { zone }).minus({ days: maxAgeDays }).toMillis();
  const notSelected =
    counts.length === 1 && counts[0]?.rule.key === 'keepLast'
      ? `deleted: beyond keepLast ${counts[0].n}`
      : `deleted: not selected by any rule (${counts.map(({ rule, n }) => ruleName(rule, n)).join(', ')})`;

  return snapshots.map((s): RetentionDecision => {
    const keep: string[] = [];
    if (!pooled.has(s.id)) {
      if (s.origin !== 'scheduled') keep.push(`kept: ${s.origin} snapshot`);
      if (s.status !== 'available') keep.push(`kept: not available (${s.status})`);
    }
    const old = pooled.has(s.id) && cutoff !== null && s.createdAt.getTime() < cutoff;
    const labels = selectedBy.get(s.id);
    if (pooled.has(s.id) && !old) {
      if (!bounded) keep.push('kept: no retention limit set');
      else if (labels) keep.push(`kept: ${labels.join(', ')}`);
      else if (counts.length === 0 && maxAgeDays !== null) keep.push(`kept: within ${days(maxAgeDays)}`);
    }
    if (s.keepForever) keep.push('kept: never delete automatically');
    // `>`: at the very instant of deleteNotBefore the protection has ended.
    if (s.deleteNotBefore !== null && s.deleteNotBefore.getTime() > opts.now.getTime()) {
      keep.push(`kept: protected until ${formatUntil(s.deleteNotBefore, zone)}`);
    }
    const rank = minKeepRank.get(s.id);
    if (rank !== undefined) {
      keep.push(
        rank === 1
          ? `kept: newest good snapshot (minKeep ${minKeep})`
          : `kept: ${ordinal(rank)} newest good snapshot (minKeep ${minKeep})`,
      );
    }
    if (keep.length > 0) return { id: s.id, action: 'keep', reasons: keep };

    // Only pool snapshots of bounded rules get here: old, or not selected by any count rule.
    const del: string[] = [];
    if (old) del.push(`deleted: older than ${days(maxAgeDays ?? 0)}`);
    if (counts.length > 0 && !labels) del.push(notSelected);
    return { id: s.id, action: 'delete', reasons: del };
  });
}
