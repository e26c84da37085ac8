/**
 * When the engine reads a `creating` snapshot at its provider: after about the time such a
 * snapshot typically takes, not every second from the start — every read spends the account's
 * request budget that a create could use.
 *
 * The typical time is learnt per provider from our own recent completions (the provider
 * accepted the create → we saw it available; store/snapshots.ts `recentCompletionTimes`).
 * What we see is never earlier than our first read, so the first read goes at 80 % of the
 * typical time: when snapshots are done sooner, the figure shrinks towards the truth with each
 * round instead of growing with our own delay; when they take longer, the reads after it find
 * the real time. With nothing learnt yet (a new provider, few snapshots) the reads start after
 * `pollBaseMs` and double, as before.
 *
 * Bounded: after the first read, a snapshot is read again at least every `pollMaxMs`, so one
 * that is done is seen within `pollMaxMs` of the later of its completion and the first read.
 */
import type { WorkLimits } from './job.js';

/** Completions needed before a provider's typical time is trusted. */
export const MIN_SAMPLES = 5;
/** The newest completions per provider that the typical time is the median of. */
export const SAMPLES = 50;
/** The first read never waits longer than this, whatever was learnt. */
export const FIRST_READ_MAX_MS = 30 * 60_000;

/** The median of the newest completions per provider (ms), for providers with enough of them. */
export function typicalTimes(rows: ReadonlyArray<{ provider: string; ms: number }>): Map<string, number> {
  const by = new Map<string, number[]>();
  for (const r of rows) {
    const list = by.get(r.provider) ?? [];
    if (list.length < SAMPLES && Number.isFinite(r.ms) && r.ms >= 0) list.push(r.ms);
    by.set(r.provider, list);
  }
  const out = new Map<string, number>();
  for (const [provider, list] of by) {
    if (list.length < MIN_SAMPLES) continue;
    const s = [...list].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    out.set(provider, s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2);
  }
  return out;
}

/** From the provider accepting the create to the first status read. */
export function firstReadMs(limits: Pick<WorkLimits, 'pollBaseMs'>, typicalMs: number | undefined): number {
  if (typicalMs === undefined) return limits.pollBaseMs;
  return Math.round(Math.min(FIRST_READ_MAX_MS, Math.max(limits.pollBaseMs, 0.8 * typicalMs)));
}

/** After the `reads`-th read (1 = the first) found the snapshot still being made. */
export function nextReadMs(limits: Pick<WorkLimits, 'pollBaseMs' | 'pollMaxMs'>, reads: number, typicalMs: number | undefined): number {
  const n = Math.max(1, reads);
  // Nothing learnt: 2 s, 4 s, 8 s … up to pollMaxMs.
  if (typicalMs === undefined) return Math.min(limits.pollMaxMs, limits.pollBaseMs * 2 ** Math.min(6, n));
  // Learnt: a fifth of the typical time, doubling, within [pollBaseMs, pollMaxMs].
  return Math.round(Math.min(limits.pollMaxMs, Math.max(limits.pollBaseMs, 0.2 * typicalMs * 2 ** Math.min(6, n - 1))));
}
