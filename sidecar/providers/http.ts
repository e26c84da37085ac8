/**
 * The HTTP layer every REST adapter shares: rate limits, retries, a per-account request
 * budget, and the rule that whatever reaches an adapter is a ProviderError with a plain
 * sentence (never a raw body, never a secret).
 *
 * Retry policy in one table (attempt n starts at 1):
 *   429                          → wait until the reset the headers give (Retry-After,
 *                                  RateLimit-Reset, X-RateLimit-Reset); none → backoff.
 *                                  A wait longer than `maxRateLimitWaitMs` is not slept:
 *                                  ProviderError('rate_limited', { retryAfterMs }) lets the
 *                                  engine reschedule instead of holding a lease.
 *   5xx, timeout, reset, refused → backoff: random(0, min(capMs, baseMs · 2^(n-1)))
 *                                  ("full jitter": spreads many sidecars' retries apart)
 *   statuses the adapter lists   → backoff (e.g. DigitalOcean's busy droplet, 422/409)
 *   anything else                → no retry; the adapter's `describeFailure` names it.
 *
 * A request that is not idempotent (POST, PATCH by default) is retried only when the
 * provider surely did not act on it: 429, connection refused, or a refusal the adapter
 * lists. After a 5xx, a timeout or a reset the provider may have created the snapshot, so
 * the error goes back to the adapter at once, which looks for its marker before the engine
 * tries again — a blind retry could make a second snapshot.
 */
import { createHash } from 'node:crypto';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { ProviderError, type ProviderErrorCode, type SnapshotMarker } from './types.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Lower-cased response headers, values as strings. */
export type ResponseHeaders = Record<string, string>;

export interface HttpResponse<T> {
  status: number;
  data: T;
  headers: ResponseHeaders;
}

/** A provider answer that was not a success, handed to the adapter to turn into a sentence. */
export interface HttpFailure {
  status: number;
  /** Parsed JSON body, or undefined when the body was empty or not JSON. */
  body: unknown;
  method: HttpMethod;
  /** Path relative to the base URL, without query (never contains credentials). */
  url: string;
  headers: ResponseHeaders;
  /** How many attempts were made (more than one when the failure was retryable). */
  attempts: number;
}

/** Turns a failure into the adapter's own ProviderError, or undefined for the generic one. */
export type DescribeFailure = (failure: HttpFailure) => ProviderError | undefined;

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  baseMs: number;
  capMs: number;
  /** A 429 asking for a longer wait than this is thrown as `rate_limited` instead of slept. */
  maxRateLimitWaitMs: number;
  /** Extra HTTP statuses to retry with backoff (429 always is; 5xx is for idempotent requests). */
  retryStatuses: number[];
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  attempts: 5,
  baseMs: 500,
  capMs: 30_000,
  maxRateLimitWaitMs: 60_000,
  retryStatuses: [],
});

export interface HttpRequest {
  method: HttpMethod;
  /** Path relative to the client's baseURL, e.g. `/v2/snapshots/abc`. */
  url: string;
  params?: Record<string, string | number | boolean | undefined>;
  data?: unknown;
  headers?: Record<string, string>;
  /**
   * Non-2xx statuses returned to the caller instead of thrown, body parsed as JSON (e.g. 404
   * on a delete, which the adapter reads as "already gone" after checking the body's code).
   */
  acceptStatuses?: number[];
  /** Statuses retried with backoff for this call only (added to the client's). */
  retryStatuses?: number[];
  /** Retry this refusal with backoff (e.g. a body that says "busy"); for finer choices than a status. */
  retryWhen?: (failure: HttpFailure) => boolean;
  /**
   * Safe to send again after an ambiguous failure (5xx, timeout, reset)? Default: true for
   * GET, PUT and DELETE, false for POST and PATCH.
   */
  idempotent?: boolean;
  /** Per-call failure description, tried before the client's. */
  describeFailure?: DescribeFailure;
}

export interface HttpClient {
  request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>>;
}

export interface HttpClientOptions {
  /** Base URL without trailing slash, e.g. `https://api.hetzner.cloud/v1`. */
  baseURL: string;
  /** Sent with every request (Authorization goes here; it is never logged). */
  headers?: Record<string, string>;
  /** Display name used in sentences, e.g. "Hetzner". */
  providerName: string;
  log: Logger;
  budget?: RequestBudget | null;
  retry?: Partial<RetryPolicy>;
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Source of jitter (0 ≤ x < 1); tests make it fixed. */
  random?: () => number;
  /** Adapter-specific sentences for failures (auth hints, error codes in the body). */
  describeFailure?: DescribeFailure;
  /**
   * How long to wait after a 429, from its headers. Default `parseRetryAfter`. An adapter
   * whose provider documents a different meaning of its reset header overrides it.
   */
  rateLimitDelay?: (headers: ResponseHeaders, now: number) => number | null;
}

export const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

// ---------------------------------------------------------------------------------------
// Marker labels
// ---------------------------------------------------------------------------------------

/** Label keys we put on snapshots where the provider keeps labels/tags/metadata. */
export const MARKER_LABEL_ID = 'ss-snapshot-id';
export const MARKER_LABEL_MANAGED_BY = 'managed-by';
export const MARKER_MANAGED_BY_VALUE = 'scheduled-snapshots';

/**
 * Labels that mark a snapshot as ours. Values stay within what Hetzner/GCP-style labels
 * accept (≤ 63 characters of `[a-z0-9_.-]`, starting and ending alphanumeric).
 */
export function markerLabels(marker: SnapshotMarker): Record<string, string> {
  return {
    [MARKER_LABEL_ID]: String(marker.snapshotId),
    [MARKER_LABEL_MANAGED_BY]: MARKER_MANAGED_BY_VALUE,
  };
}

/** `k=v,k=v` selector matching `markerLabels(marker)` (Hetzner `label_selector`). */
export function markerLabelSelector(marker: SnapshotMarker): string {
  return Object.entries(markerLabels(marker))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

// ---------------------------------------------------------------------------------------
// Rate-limit headers
// ---------------------------------------------------------------------------------------

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

function lowerCaseHeaders(headers: Record<string, unknown> | undefined | null): ResponseHeaders {
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

// ---------------------------------------------------------------------------------------
// Request budget
// ---------------------------------------------------------------------------------------

export interface RequestBudgetLimits {
  perHour?: number | null;
  perMinute?: number | null;
  perSecond?: number | null;
}

export interface RequestBudget {
  /**
   * Resolves when a request may be sent, with a function to call once its answer (or its
   * failure) has arrived. Waiters are served first come, first served.
   */
  take(maxWaitMs?: number): Promise<() => void>;
  readonly limits: Readonly<RequestBudgetLimits>;
}

/**
 * The budget would make a request wait longer than the caller allows. The client turns it
 * into a `rate_limited` ProviderError with `retryAfterMs`, so the engine reschedules the
 * snapshot and frees its worker instead of holding a lease for up to an hour while other
 * servers and providers wait.
 */
export class BudgetExhausted extends Error {
  constructor(readonly waitMs: number) {
    super(`request budget used up for ${Math.ceil(waitMs / 1000)} s`);
    this.name = 'BudgetExhausted';
  }
}

/**
 * Defaults per provider type (their documented limits). Linode documents per-endpoint limits
 * (e.g. 800/min general, fewer on some POSTs); 400/min stays well under them.
 * OpenStack clouds vary; no budget.
 */
export const DEFAULT_BUDGETS: Readonly<Record<string, RequestBudgetLimits>> = Object.freeze({
  hetzner: { perHour: 3600 },
  digitalocean: { perHour: 5000, perMinute: 250 },
  vultr: { perSecond: 30 },
  linode: { perMinute: 400 },
  openstack: {},
});

/**
 * Token buckets, one per window (hour, minute, second), all of which must have a token.
 *
 * A spent token comes back one full window after the *answer* to its request arrived,
 * rather than dripping back at limit/window per second:
 * - a dripping bucket that starts full lets through up to twice the limit across a window
 *   boundary, which is exactly what a provider counting "requests in the last minute" punishes;
 * - the provider counts a request when it arrives, somewhere between our send and its answer.
 *   Counting from the send let 11 of 10 through in a loaded test run (sends queued behind a
 *   busy event loop arrive late); counting from the answer makes the guarantee exact.
 * A request still in flight holds its token. Shared by every client of one account: the
 * adapter gets it from `accountBudget`.
 */
export function createRequestBudget(
  limits: RequestBudgetLimits,
  opts: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
): RequestBudget {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? realSleep;
  /** `returned`: times the answers arrived, ascending (pushed as they come). */
  const windows: { limit: number; windowMs: number; returned: number[]; head: number }[] = [];
  const add = (limit: number | null | undefined, periodMs: number): void => {
    if (limit === null || limit === undefined) return;
    if (!Number.isFinite(limit) || limit < 1) throw new Error(`A request budget needs a positive limit, got ${limit}.`);
    windows.push({ limit: Math.floor(limit), windowMs: periodMs, returned: [], head: 0 });
  };
  add(limits.perHour, 3_600_000);
  add(limits.perMinute, 60_000);
  add(limits.perSecond, 1_000);

  let inFlight = 0;
  /** Wakes a waiter that can only go on once a request in flight has been answered. */
  let answered: { promise: Promise<void>; resolve: () => void } | null = null;

  /** Milliseconds until every window has a token (0 = now; null = when an answer arrives). */
  const waitFor = (t: number): number | null => {
    let wait = 0;
    for (const w of windows) {
      // `<=`: a window of 1000 ms starting at the answer ends exactly 1000 ms later.
      while (w.head < w.returned.length && (w.returned[w.head] as number) + w.windowMs <= t) w.head += 1;
      if (w.head > 1024 && w.head * 2 > w.returned.length) {
        w.returned = w.returned.slice(w.head);
        w.head = 0;
      }
      const counted = w.returned.length - w.head;
      const over = inFlight + counted - w.limit + 1; // tokens that must come back first
      if (over <= 0) continue;
      if (over > counted) return null;
      wait = Math.max(wait, (w.returned[w.head + over - 1] as number) + w.windowMs - t);
    }
    return wait;
  };

  const release = (): void => {
    inFlight -= 1;
    const t = now();
    for (const w of windows) w.returned.push(t);
    const waiting = answered;
    answered = null;
    waiting?.resolve();
  };

  // One waiter at a time: a chain of promises keeps the order and avoids two callers
  // taking the last token together.
  let queue: Promise<unknown> = Promise.resolve();
  const acquire = async (maxWaitMs: number): Promise<() => void> => {
    for (;;) {
      const wait = waitFor(now());
      if (wait !== null && wait > maxWaitMs) throw new BudgetExhausted(wait);
      if (wait === null) {
        if (!answered) {
          let resolve!: () => void;
          const promise = new Promise<void>((r) => (resolve = r));
          answered = { promise, resolve };
        }
        await answered.promise;
        continue;
      }
      if (wait <= 0) {
        inFlight += 1;
        let done = false;
        return () => {
          if (done) return; // releasing twice must not hand out an extra token
          done = true;
          release();
        };
      }
      await sleep(Math.ceil(wait));
    }
  };

  return {
    limits: Object.freeze({ ...limits }),
    take(maxWaitMs = Number.POSITIVE_INFINITY): Promise<() => void> {
      if (windows.length === 0) return Promise.resolve(() => undefined);
      const turn = queue.then(() => acquire(maxWaitMs));
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}

const accountBudgets = new Map<string, RequestBudget>();

/**
 * The budget of one provider account. Two providers-file slugs with the same credential at
 * the same endpoint are one account to the provider, so they share one budget. The key is a
 * hash: the credential itself is not kept here.
 */
export function accountBudget(
  account: { type: string; baseURL: string; credential: string },
  limits: RequestBudgetLimits,
  opts: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
): RequestBudget | null {
  if (limits.perHour == null && limits.perMinute == null && limits.perSecond == null) return null;
  const key = createHash('sha256')
    .update(`${account.type}\n${account.baseURL}\n${account.credential}\n${JSON.stringify([limits.perHour, limits.perMinute, limits.perSecond])}`)
    .digest('hex');
  let budget = accountBudgets.get(key);
  if (!budget) {
    budget = createRequestBudget(limits, opts);
    accountBudgets.set(key, budget);
  }
  return budget;
}

// ---------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED', // axios: timeout
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND', // DNS hiccup; a wrong apiUrl also lands here and ends as `transient` with a clear sentence
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** What went wrong on one attempt, in a form the retry loop can decide on. */
type Outcome<T> =
  | { kind: 'ok'; response: HttpResponse<T> }
  | { kind: 'http'; failure: Omit<HttpFailure, 'attempts'> }
  | { kind: 'network'; code: string; message: string }
  | { kind: 'bad_response'; status: number };

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry, retryStatuses: [...(opts.retry?.retryStatuses ?? [])] };
  const sleep = opts.sleep ?? realSleep;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const rateLimitDelay = opts.rateLimitDelay ?? parseRetryAfter;
  const name = opts.providerName;
  const log = opts.log;

  const axiosInstance: AxiosInstance = axios.create({
    baseURL: opts.baseURL.replace(/\/+$/, ''),
    headers: { Accept: 'application/json', ...opts.headers },
    timeout: opts.timeoutMs ?? 30_000,
    // We parse ourselves so a malformed body becomes `bad_response`, not a string in `data`.
    responseType: 'text',
    transformResponse: [(raw: unknown) => raw],
    validateStatus: () => true,
    maxRedirects: 0,
  });

  const backoff = (attempt: number): number =>
    Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1)));

  async function attempt<T>(req: HttpRequest): Promise<Outcome<T>> {
    let res: AxiosResponse<unknown>;
    try {
      res = await axiosInstance.request({
        method: req.method,
        url: req.url,
        params: req.params,
        data: req.data,
        headers: req.data === undefined ? req.headers : { 'Content-Type': 'application/json', ...req.headers },
      });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const code = e.code ?? (/socket hang up/i.test(e.message ?? '') ? 'ECONNRESET' : 'UNKNOWN');
      return { kind: 'network', code, message: e.message ?? String(err) };
    }
    const headers = lowerCaseHeaders(res.headers as Record<string, unknown>);
    const raw = typeof res.data === 'string' ? res.data : res.data == null ? '' : String(res.data);
    let body: unknown = undefined;
    let parsed = true;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        parsed = false;
      }
    }
    if ((res.status >= 200 && res.status < 300) || req.acceptStatuses?.includes(res.status)) {
      // 204 and friends have no body; anything else we expect to be JSON.
      if (!parsed) return { kind: 'bad_response', status: res.status };
      return { kind: 'ok', response: { status: res.status, data: body as T, headers } };
    }
    return { kind: 'http', failure: { status: res.status, body, method: req.method, url: req.url, headers } };
  }

  function describe(failure: HttpFailure, req: HttpRequest): ProviderError {
    return req.describeFailure?.(failure) ?? opts.describeFailure?.(failure) ?? genericFailure(name, failure);
  }

  async function request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const retryStatuses = new Set([...policy.retryStatuses, ...(req.retryStatuses ?? [])]);
    const idempotent = req.idempotent ?? (req.method !== 'POST' && req.method !== 'PATCH');
    const where = `${req.method} ${req.url}`; // path only: ids, never credentials
    for (let n = 1; ; n += 1) {
      let answered: (() => void) | null = null;
      if (opts.budget) {
        try {
          answered = await opts.budget.take(policy.maxRateLimitWaitMs);
        } catch (e) {
          if (!(e instanceof BudgetExhausted)) throw e;
          // Our own budget, not the provider's refusal: status stays null, and the engine
          // does not count it as a failed attempt.
          throw new ProviderError('rate_limited',
            `${name}: this account's request budget is used up for now; the request will be sent in about ${Math.ceil(e.waitMs / 1000)} s.`,
            { retryAfterMs: e.waitMs, status: null });
        }
      }
      const started = now();
      let out: Outcome<T>;
      try {
        out = await attempt<T>(req);
      } finally {
        answered?.();
      }
      const last = n >= policy.attempts;

      if (out.kind === 'ok') {
        log.debug({ provider: name, request: where, status: out.response.status, ms: now() - started, attempt: n }, 'provider request');
        return out.response;
      }

      if (out.kind === 'bad_response') {
        log.warn({ provider: name, request: where, status: out.status }, 'provider answered a body that is not JSON');
        throw new ProviderError('bad_response', `${name} answered something that is not the JSON it documents; try again later, and check apiUrl if this persists.`, { status: out.status });
      }

      if (out.kind === 'network') {
        const transient = TRANSIENT_NETWORK_CODES.has(out.code);
        // Refused means the request never left: safe to send again even when not idempotent.
        const resendable = idempotent || out.code === 'ECONNREFUSED';
        log.warn({ provider: name, request: where, error: out.code, attempt: n }, 'provider request failed on the network');
        if (!transient) {
          // Certificates, malformed URLs and the like: trying again will not help.
          throw new ProviderError('failed', `${name} could not be reached (${out.code}): check apiUrl and this machine's network.`, {
            cause: new Error(out.message),
          });
        }
        if (!resendable || last) {
          const what = out.code === 'ECONNABORTED' || out.code === 'ETIMEDOUT' ? 'did not answer in time' : 'could not be reached';
          throw new ProviderError(
            'transient',
            `${name} ${what} (${out.code}) after ${n} attempt${n === 1 ? '' : 's'}; it will be tried again later.`,
            { cause: new Error(out.message) },
          );
        }
        await sleep(backoff(n));
        continue;
      }

      const f = out.failure;
      log.warn({ provider: name, request: where, status: f.status, attempt: n }, 'provider request refused');

      if (f.status === 429) {
        const fromHeaders = rateLimitDelay(f.headers, now());
        const wait = fromHeaders ?? backoff(n);
        if (wait > policy.maxRateLimitWaitMs || last) {
          throw new ProviderError(
            'rate_limited',
            `${name} is rate limiting our requests; they will be tried again in ${Math.ceil(wait / 1000)} s.`,
            { status: 429, retryAfterMs: wait },
          );
        }
        await sleep(wait);
        continue;
      }

      const failureSoFar: HttpFailure = { ...f, attempts: n };
      const adapterRetries = retryStatuses.has(f.status) || (req.retryWhen?.(failureSoFar) ?? false);
      const transient = (f.status >= 500 && idempotent) || adapterRetries;
      if (transient && !last) {
        // A 503 may carry Retry-After (Vultr's older rate limit answer); honour it if short.
        const hinted = f.status === 503 ? parseRetryAfter(f.headers, now()) : null;
        await sleep(hinted !== null && hinted <= policy.maxRateLimitWaitMs ? hinted : backoff(n));
        continue;
      }
      const failure = failureSoFar;
      if (f.status >= 500) {
        const adapterSays = req.describeFailure?.(failure) ?? opts.describeFailure?.(failure);
        if (adapterSays && adapterSays.retryable) throw adapterSays;
        throw new ProviderError(
          'transient',
          n === 1
            ? `${name} failed (HTTP ${f.status}); it will be tried again later.`
            : `${name} kept failing (HTTP ${f.status}) after ${n} attempts; it will be tried again later.`,
          { status: f.status },
        );
      }
      throw describe(failure, req);
    }
  }

  return { request };
}

/** The sentence when an adapter has nothing more specific to say. */
export function genericFailure(name: string, f: HttpFailure): ProviderError {
  const map: [ProviderErrorCode, string] =
    f.status === 401
      ? ['auth', `${name} refused the credentials: check them in the providers file.`]
      : f.status === 403
        ? ['permission', `${name} refused the request: the credentials lack a permission it needs.`]
        : f.status === 404
          ? ['not_found', `${name} does not know what we asked for (${f.method} ${f.url}): was it deleted?`]
          : f.status === 409 || f.status === 423
            ? ['busy', `${name} is busy with this resource; it will be tried again later.`]
            : f.status === 400 || f.status === 422
              ? ['invalid', `${name} refused the request as invalid (HTTP ${f.status}).`]
              : f.status === 429
                ? ['rate_limited', `${name} is rate limiting our requests; they will be tried again later.`]
                : f.status >= 500
                  ? ['transient', `${name} kept failing (HTTP ${f.status}); it will be tried again later.`]
                  : ['failed', `${name} answered HTTP ${f.status}, which we did not expect.`];
  return new ProviderError(map[0], map[1], { status: f.status });
}

/**
 * A provider's own error message from a body, cut short and stripped of anything that looks
 * like a token, for use inside our sentences. Returns null when there is none.
 */
export function providerMessage(body: unknown): string | null {
  const pick = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const err = b.error;
  const candidate =
    (err && typeof err === 'object' ? pick((err as Record<string, unknown>).message) : pick(err)) ??
    pick(b.message) ??
    (Array.isArray(b.errors) ? pick((b.errors[0] as Record<string, unknown> | undefined)?.reason) : null);
  if (!candidate) return null;
  const clean = candidate
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/\b(bearer\s+)?[A-Za-z0-9_\-]{32,}\b/gi, '[…]') // long opaque strings could be keys
    .slice(0, 200);
  return clean.replace(/[.\s]+$/, '');
}

// ---------------------------------------------------------------------------------------
// Shared pieces of adapter configuration and response checking
// ---------------------------------------------------------------------------------------

const positiveLimit = z.number().int().positive().nullable().optional();

/**
 * Fields every REST adapter's providers-file entry may carry besides its credentials.
 * `budget` overrides the provider's default request budget per field (null turns that
 * window off), e.g. `{ "perHour": 1800 }` when another tool shares the account.
 */
export const restTuningShape = {
  apiUrl: z.url({ protocol: /^https?$/, error: 'apiUrl must be an http(s) URL' }).optional(),
  budget: z
    .object({ perHour: positiveLimit, perMinute: positiveLimit, perSecond: positiveLimit })
    .strict()
    .optional(),
  /** Per attempt, in milliseconds. */
  timeoutMs: z.number().int().min(100).max(300_000).optional(),
  /** A 429 asking to wait longer than this goes back to the engine as `rate_limited`. */
  maxRateLimitWaitMs: z.number().int().min(0).max(3_600_000).optional(),
};

/** The default budget of a provider type with the entry's overrides applied. */
export function budgetLimits(type: string, override: RequestBudgetLimits | undefined): RequestBudgetLimits {
  return { ...DEFAULT_BUDGETS[type], ...override };
}

/**
 * The account budget and client a bearer-token REST adapter (Vultr, Hetzner, DigitalOcean)
 * builds from its providers-file entry: one place maps `budget`, `timeoutMs` and
 * `maxRateLimitWaitMs` onto the client. `budgetKey` names the account for the shared budget
 * (the token; Vultr counts per address, so it passes '').
 */
export function bearerClient(o: {
  type: string;
  baseURL: string;
  token: string;
  budgetKey: string;
  config: { budget?: RequestBudgetLimits; timeoutMs?: number; maxRateLimitWaitMs?: number };
  ctx: { now?: () => number; sleep?: (ms: number) => Promise<void> };
  log: Logger;
  providerName: string;
  describeFailure: DescribeFailure;
  rateLimitDelay?: HttpClientOptions['rateLimitDelay'];
}): HttpClient {
  const budget = accountBudget(
    { type: o.type, baseURL: o.baseURL, credential: o.budgetKey },
    budgetLimits(o.type, o.config.budget),
    { now: o.ctx.now, sleep: o.ctx.sleep },
  );
  return createHttpClient({
    baseURL: o.baseURL,
    headers: { Authorization: `Bearer ${o.token}` },
    providerName: o.providerName,
    log: o.log,
    budget,
    timeoutMs: o.config.timeoutMs,
    retry: o.config.maxRateLimitWaitMs === undefined ? undefined : { maxRateLimitWaitMs: o.config.maxRateLimitWaitMs },
    sleep: o.ctx.sleep,
    now: o.ctx.now,
    describeFailure: o.describeFailure,
    ...(o.rateLimitDelay ? { rateLimitDelay: o.rateLimitDelay } : {}),
  });
}

/**
 * Check a success body against the fields an adapter relies on. A provider (or a proxy in
 * front of it) answering something else becomes `bad_response`, naming what was missing
 * but never quoting the body.
 */
export function parseBody<S extends z.ZodType>(schema: S, data: unknown, providerName: string, what: string): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))].slice(0, 3).join(', ');
  throw new ProviderError(
    'bad_response',
    `${providerName} answered ${what} without the fields it documents (${fields}); try again later, and check apiUrl if this persists.`,
  );
}

/** The provider's error code from the JSON body, when it sent one in `{ error: { code } }` or `{ id }` form. */
export function bodyErrorCode(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  if (b.error && typeof b.error === 'object') {
    const code = (b.error as Record<string, unknown>).code;
    if (typeof code === 'string') return code;
  }
  return typeof b.id === 'string' ? b.id : null;
}
