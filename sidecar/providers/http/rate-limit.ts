/**
 * Reading a 429's headers: how long the provider asks us to wait before the next request.
 */

/** Lower-cased response headers, values as strings. */
export type ResponseHeaders = Record<string, string>;

/** Unix-seconds values below this are read as "seconds from now" (IETF RateLimit-Reset draft). */
const DELTA_SECONDS_BELOW = 1_000_000_000;

/**
 * Milliseconds to wait before the next request, from a 429's headers, or null when they say
 * nothing usable. Order: `Retry-After` (seconds or HTTP date — the most specific answer),
 * then `RateLimit-Reset` (Hetzner, DigitalOcean: unix seconds), then `X-RateLimit-Reset`
 * (Linode: unix seconds). A reset small enough to be a delta is read as seconds from now.
 * Never negative: a reset already in the past means "now".
 */
export function parseRetryAfter(
  headers: Record<string, unknown> | ResponseHeaders | undefined | null,
  now: number,
): number | null {
  const h = lowerCaseHeaders(headers);
  const retryAfter = h['retry-after'];
  if (retryAfter !== undefined && retryAfter.trim() !== '') {
    const v = retryAfter.trim();
    if (/^\d+(\.\d+)?$/.test(v)) return Math.max(0, Math.ceil(Number(v) * 1000));
    const date = Date.parse(v);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  for (const name of ['ratelimit-reset', 'x-ratelimit-reset']) {
    const raw = h[name]?.trim();
    if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw)) continue;
    const n = Number(raw);
    if (n < DELTA_SECONDS_BELOW) return Math.max(0, Math.ceil(n * 1000));
    return Math.max(0, Math.ceil(n * 1000 - now));
  }
  return null;
}

/** Headers as a plain object with lower-cased names (axios gives an AxiosHeaders object). */
export function lowerCaseHeaders(headers: Record<string, unknown> | undefined | null): ResponseHeaders {
  const out: ResponseHeaders = {};
  if (!headers) return out;
  // AxiosHeaders is iterable-ish; toJSON gives a plain object when present.
  const plain =
    typeof (headers as { toJSON?: unknown }).toJSON === 'function'
      ? ((headers as { toJSON: () => Record<string, unknown> }).toJSON() as Record<string, unknown>)
      : headers;
  for (const [k, v] of Object.entries(plain)) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}
