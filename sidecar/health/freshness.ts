/**
 * How fresh a schedule's snapshots must be (docs/alerts.md).
 *
 * Defaults, when a schedule leaves `warnAfterMinutes` / `criticalAfterMinutes` unset:
 *   warn     = 2 × the schedule's gap,
 *   critical = 4 × the gap,
 * where the gap is the interval, or for cron the longest gap between two consecutive runs
 * (a weekday-only schedule's gap is Friday → Monday, so a quiet weekend is not a warning).
 * The longest cron gap is computed from a fixed starting instant, not from "now", so every
 * sidecar (and every call) gives the same answer for the same expression.
 */
import { z } from 'zod';
import { invalid } from '../errors.js';
import { nextSlotAfter, type Timing } from '../slots.js';
import { parseOr400 } from '../validation.js';

export const DEFAULT_WARN_FACTOR = 2;
export const DEFAULT_CRITICAL_FACTOR = 4;

const GAP_FROM = new Date('2024-01-01T00:00:00.000Z');
const GAP_SPAN_MS = 2 * 366 * 86_400_000;
const GAP_MAX_RUNS = 1500;
const gapCache = new Map<string, number>();

/** The schedule's longest gap between runs, in minutes. */
export function longestGapMinutes(t: Timing): number {
  if (t.intervalMinutes) return t.intervalMinutes;
  const key = `${t.cron}|${t.timezone}`;
  const cached = gapCache.get(key);
  if (cached !== undefined) return cached;
  let prev = nextSlotAfter(t, GAP_FROM);
  let longest = 0;
  for (let i = 0; i < GAP_MAX_RUNS; i++) {
    const next = nextSlotAfter(t, prev);
    longest = Math.max(longest, next.getTime() - prev.getTime());
    prev = next;
    if (prev.getTime() - GAP_FROM.getTime() > GAP_SPAN_MS) break;
  }
  const minutes = Math.max(1, Math.ceil(longest / 60_000));
  if (gapCache.size > 1000) gapCache.clear();
  gapCache.set(key, minutes);
  return minutes;
}

export interface Thresholds {
  warnAfterMinutes: number;
  criticalAfterMinutes: number;
  /** True when the schedule set them itself (false: the defaults above). */
  custom: { warn: boolean; critical: boolean };
}

export function thresholdsOf(t: Timing, warn: number | null, critical: number | null): Thresholds {
  const gap = longestGapMinutes(t);
  const w = warn ?? gap * DEFAULT_WARN_FACTOR;
  // A default critical never lands below a custom warn.
  const c = critical ?? Math.max(gap * DEFAULT_CRITICAL_FACTOR, w);
  return { warnAfterMinutes: w, criticalAfterMinutes: c, custom: { warn: warn !== null, critical: critical !== null } };
}

const minutes = z.number().int().min(1).max(5_256_000).nullable().optional();
export const freshnessInputSchema = z.object({ warnAfterMinutes: minutes, criticalAfterMinutes: minutes }).strict();

export interface FreshnessInput { warnAfterMinutes: number | null; criticalAfterMinutes: number | null }

/**
 * Split the health fields off a schedule body: the schedule validator (schedules.ts) stays
 * unaware of them. Returns the body without them and the validated pair (absent = null,
 * i.e. the defaults).
 */
export function takeFreshnessFields(body: unknown): { rest: unknown; freshness: FreshnessInput } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { rest: body, freshness: { warnAfterMinutes: null, criticalAfterMinutes: null } };
  const { warnAfterMinutes, criticalAfterMinutes, ...rest } = body as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  if (warnAfterMinutes !== undefined) picked.warnAfterMinutes = warnAfterMinutes;
  if (criticalAfterMinutes !== undefined) picked.criticalAfterMinutes = criticalAfterMinutes;
  const f = parseOr400(freshnessInputSchema, picked);
  const freshness = { warnAfterMinutes: f.warnAfterMinutes ?? null, criticalAfterMinutes: f.criticalAfterMinutes ?? null };
  if (freshness.warnAfterMinutes !== null && freshness.criticalAfterMinutes !== null && freshness.criticalAfterMinutes < freshness.warnAfterMinutes) {
    throw invalid({ criticalAfterMinutes: 'must be at least warnAfterMinutes (critical comes after warning)' });
  }
  return { rest, freshness };
}

/** The schedule's health fields as the API shows them. */
export function freshnessToApi(t: Timing, warn: number | null, critical: number | null) {
  const th = thresholdsOf(t, warn, critical);
  return {
    warnAfterMinutes: warn,
    criticalAfterMinutes: critical,
    health: { warnAfterMinutes: th.warnAfterMinutes, criticalAfterMinutes: th.criticalAfterMinutes, defaults: !th.custom.warn || !th.custom.critical },
  };
}
