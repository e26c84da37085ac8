/**
 * Health of one assignment (server × schedule), a pure function of database facts and the
 * database clock — so every sidecar gives the same answer (docs/alerts.md).
 *
 *   ok       — a good snapshot within warnAfterMinutes, and fewer than N failures in a row;
 *   warning  — the newest good snapshot is older than warnAfterMinutes;
 *   failing  — the last N attempts failed (N = SS_ALERT_FAILING_AFTER, default 3), where a
 *              slot that was never taken (server gone from the panel, provider not configured,
 *              sidecars down) counts as a failed attempt;
 *   critical — the newest good snapshot is older than criticalAfterMinutes.
 * Severity: ok < warning < failing < critical — a stale copy beyond the critical limit is the
 * worst news whatever the cause; failing is "broken now", worse than merely late.
 * A server's health is its worst assignment's. A disabled schedule owes nothing: it is ok.
 * With no good snapshot yet, age counts from when the schedule was assigned.
 */
import type { HealthState } from '../schema.js';
import { nextSlotAfter, spreadOffsetMs, type Timing } from '../slots.js';
import { thresholdsOf } from './freshness.js';

export const SEVERITY: Record<HealthState, number> = { ok: 0, warning: 1, failing: 2, critical: 3 };
export const HEALTH_STATES: HealthState[] = ['ok', 'warning', 'failing', 'critical'];

/** A slot must be this far in the past before "no row for it" counts as never taken. */
export const MISSED_SLOT_GRACE_MS = 5 * 60_000;

export interface AssignmentFacts {
  serverId: number;
  scheduleId: number;
  scheduleName: string;
  enabled: boolean;
  timing: Timing;
  warnAfterMinutes: number | null;
  criticalAfterMinutes: number | null;
  assignedAt: Date;
  /** Why the server cannot be snapshotted (the assignment's problem), if anything. */
  problem: string | null;
  lastGoodAt: Date | null;
  /** Newest slot with a row of any status (the latest attempt). */
  lastAttemptAt: Date | null;
  /** Newest slot whose snapshot did not fail. */
  lastOkAttemptAt: Date | null;
  /** Failed slots after lastOkAttemptAt, the oldest of them, and the newest one's reason. */
  failedInRow: number;
  firstFailedAt: Date | null;
  lastFailedReason: string | null;
}

/**
 * What `reason` says, as data: the screens build the sentence in the user's language from it
 * (ui/health-words.ts); `reason` is the English sentence of the API, the alerts and the logs.
 */
export interface HealthWhy {
  state: Exclude<HealthState, 'ok'>;
  lastGoodAt: Date | null;
  /** The threshold passed (warning, critical), in minutes; 0 for failing. */
  minutes: number;
  failuresInRow: number;
  cause: { kind: 'problem' | 'provider'; text: string } | { kind: 'missed'; count: number } | null;
}

export interface AssignmentHealth {
  serverId: number;
  scheduleId: number;
  scheduleName: string;
  state: HealthState;
  since: Date | null;
  reason: string | null;
  why: HealthWhy | null;
  lastGoodAt: Date | null;
  failuresInRow: number;
  warnAfterMinutes: number;
  criticalAfterMinutes: number;
}

/** Slots after `after` and at or before `until` that no row exists for, counted up to `cap`. */
export function missedSlots(t: Timing, after: Date, until: Date, cap: number): { count: number; first: Date | null } {
  let count = 0;
  let first: Date | null = null;
  let cursor = after;
  while (count < cap) {
    const next = nextSlotAfter(t, cursor);
    if (next.getTime() > until.getTime()) break;
    first ??= next;
    count += 1;
    cursor = next;
  }
  return { count, first };
}

const minutesText = (m: number) => (m % 1440 === 0 ? `${m / 1440} day${m === 1440 ? '' : 's'}` : m % 60 === 0 ? `${m / 60} hour${m === 60 ? '' : 's'}` : `${m} minutes`);

export function assignmentHealth(f: AssignmentFacts, now: Date, failingAfter: number): AssignmentHealth {
  const th = thresholdsOf(f.timing, f.warnAfterMinutes, f.criticalAfterMinutes);
  const base = {
    serverId: f.serverId, scheduleId: f.scheduleId, scheduleName: f.scheduleName, lastGoodAt: f.lastGoodAt,
    warnAfterMinutes: th.warnAfterMinutes, criticalAfterMinutes: th.criticalAfterMinutes,
  };
  if (!f.enabled) return { ...base, state: 'ok', since: null, reason: null, why: null, failuresInRow: 0 };

  // Consecutive failures, newest first: slots never taken since the latest attempt, then (if
  // that attempt failed) the failed attempts since the last one that did not.
  const missedFrom = new Date(Math.max(f.lastAttemptAt?.getTime() ?? 0, f.assignedAt.getTime()));
  // A slot is owed only once the server's spread offset after it has passed (slots.ts).
  const owedUntil = new Date(now.getTime() - MISSED_SLOT_GRACE_MS - spreadOffsetMs(f.timing, f.serverId));
  const missed = missedSlots(f.timing, missedFrom, owedUntil, failingAfter);
  const lastAttemptFailed = f.lastAttemptAt !== null && (f.lastOkAttemptAt === null || f.lastOkAttemptAt.getTime() < f.lastAttemptAt.getTime());
  const failuresInRow = missed.count + (lastAttemptFailed ? f.failedInRow : 0);
  const streakStart = lastAttemptFailed ? f.firstFailedAt : missed.first;

  const ageFrom = f.lastGoodAt ?? f.assignedAt;
  const ageMs = now.getTime() - ageFrom.getTime();
  const providerReason = lastAttemptFailed && missed.count === 0 ? f.lastFailedReason : null;
  const causeWhy: HealthWhy['cause'] = f.problem !== null ? { kind: 'problem', text: f.problem }
    : providerReason !== null ? { kind: 'provider', text: providerReason }
      : missed.count > 0 ? { kind: 'missed', count: missed.count }
        : lastAttemptFailed && f.lastFailedReason !== null ? { kind: 'provider', text: f.lastFailedReason } : null;
  const cause = causeWhy === null ? null : causeWhy.kind === 'missed'
    ? `No snapshot was taken for the last ${causeWhy.count} scheduled time${causeWhy.count === 1 ? '' : 's'}; check that a sidecar is running.`
    : causeWhy.text;
  const goodWords = f.lastGoodAt ? `The newest good snapshot is from ${f.lastGoodAt.toISOString()}` : 'There is no good snapshot yet';
  const why = (state: HealthWhy['state'], minutes: number): HealthWhy => ({ state, lastGoodAt: f.lastGoodAt, minutes, failuresInRow, cause: causeWhy });

  if (ageMs > th.criticalAfterMinutes * 60_000) {
    return { ...base, state: 'critical', since: new Date(ageFrom.getTime() + th.criticalAfterMinutes * 60_000), failuresInRow,
      reason: `${goodWords}, older than ${minutesText(th.criticalAfterMinutes)} (critical).${cause ? ` ${cause}` : ''}`, why: why('critical', th.criticalAfterMinutes) };
  }
  if (failuresInRow >= failingAfter) {
    return { ...base, state: 'failing', since: streakStart, failuresInRow,
      reason: `The last ${failuresInRow} attempt${failuresInRow === 1 ? '' : 's'} failed.${cause ? ` ${cause}` : ''}`, why: why('failing', 0) };
  }
  if (ageMs > th.warnAfterMinutes * 60_000) {
    return { ...base, state: 'warning', since: new Date(ageFrom.getTime() + th.warnAfterMinutes * 60_000), failuresInRow,
      reason: `${goodWords}, older than ${minutesText(th.warnAfterMinutes)}.${cause ? ` ${cause}` : ''}`, why: why('warning', th.warnAfterMinutes) };
  }
  return { ...base, state: 'ok', since: null, reason: null, why: null, failuresInRow };
}

export interface ServerHealth {
  serverId: number;
  serverName: string | null;
  state: HealthState;
  since: Date | null;
  reason: string | null;
  why: HealthWhy | null;
  scheduleId: number | null;
  scheduleName: string | null;
  lastGoodAt: Date | null;
  schedules: AssignmentHealth[];
}

/** A server is as healthy as its worst assignment; ties go to the one in trouble longest. */
export function serverHealth(serverId: number, serverName: string | null, list: AssignmentHealth[]): ServerHealth {
  let worst: AssignmentHealth | null = null;
  for (const a of list) {
    if (!worst || SEVERITY[a.state] > SEVERITY[worst.state]
      || (SEVERITY[a.state] === SEVERITY[worst.state] && (a.since?.getTime() ?? Infinity) < (worst.since?.getTime() ?? Infinity))) worst = a;
  }
  const good = list.map((a) => a.lastGoodAt?.getTime() ?? 0).reduce((x, y) => Math.max(x, y), 0);
  return {
    serverId, serverName,
    state: worst?.state ?? 'ok', since: worst?.since ?? null, reason: worst?.reason ?? null, why: worst?.why ?? null,
    scheduleId: worst && worst.state !== 'ok' ? worst.scheduleId : null,
    scheduleName: worst && worst.state !== 'ok' ? worst.scheduleName : null,
    lastGoodAt: good > 0 ? new Date(good) : null,
    schedules: list,
  };
}
