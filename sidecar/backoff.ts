/**
 * Capped exponential backoff with full jitter (the AWS Architecture Blog's "Exponential Backoff
 * and Jitter"): wait random(0, min(max, base · 2^(attempt-1))), never less than half the base.
 * The one backoff used by the engine's retries and the providers' HTTP retries.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(baseMs / 2, Math.floor(random() * ceiling));
}
