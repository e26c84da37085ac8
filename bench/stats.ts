/**
 * Numbers for the benchmark's table: percentiles (nearest rank, so a p99 is a latency that
 * really happened), peaks in a sliding window, and a plain-text table.
 */

export interface Percentiles {
  n: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Nearest-rank percentile of an ascending list. */
function rank(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50Ms: null, p95Ms: null, p99Ms: null, maxMs: null };
  const sorted = [...values].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    n: sorted.length,
    p50Ms: r(rank(sorted, 50)),
    p95Ms: r(rank(sorted, 95)),
    p99Ms: r(rank(sorted, 99)),
    maxMs: r(sorted[sorted.length - 1] as number),
  };
}

/** Most events inside any window of `windowMs` (times in ms, any order). */
export function peakInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

export function fmt(x: number | null | undefined, unit = ''): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  const s = Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : String(round(x, Math.abs(x) >= 10 ? 1 : 2));
  return unit ? `${s} ${unit}` : s;
}

/** A plain-text table: the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
