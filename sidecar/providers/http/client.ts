/**
 * The HTTP client every REST adapter shares: rate limits, retries, a per-account request
 * budget, and the rule that whatever reaches an adapter is a ProviderError with a plain
 * sentence (never a raw body, never a secret).
 *
 * Retry policy in one table (attempt n starts at 1):
 *   429                          → wait until the reset the headers give (Retry-After,
 *                                  RateLimit-Reset, X-RateLimit-Reset); none → backoff.
 *                                  A wait longer than `maxRateLimitWaitMs` is not slept:
 *                                  ProviderError('rate_limited', { retryAfterMs }) lets the
 *                                  engine reschedule instead of holding a lease.
 *   5xx, timeout, reset, refused → backoff: `backoffMs(n, baseMs, capMs)`, between baseMs/2
 *                                  and min(capMs, baseMs · 2^(n-1))
 *                                  (the jitter spreads many sidecars' retries apart)
 *   statuses the adapter lists   → backoff (e.g. DigitalOcean's busy droplet, 422/409)
 *   anything else                → no retry; the adapter's `describeFailure` names it.
 *
 * A request that is not idempotent (POST, PATCH by default) is retried only when the
 * provider surely did not act on it: 429, connection refused, or a refusal the adapter
 * lists. After a 5xx, a timeout or a reset the provider may have created the snapshot, so
 * the error goes back to the adapter at once, which looks for its marker before the engine
 * tries again — a blind retry could make a second snapshot.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { backoffMs } from '../../backoff.js';
import type { Logger } from '../../log.js';
import { realSleep } from '../context.js';
import { ProviderError } from '../types.js';
import { BudgetExhausted, type RequestBudget } from './budget.js';
import { genericFailure, type DescribeFailure, type HttpFailure } from './failures.js';
import { lowerCaseHeaders, parseRetryAfter, type ResponseHeaders } from './rate-limit.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpResponse<T> {
  status: number;
  data: T;
  headers: ResponseHeaders;
}

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

/** Largest answer (and request body) we accept from a provider: 10 MB. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

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
    // Every request stays on apiUrl's origin: a path that looks absolute (`https://…`, `//host/…`,
    // e.g. from a pagination link) is joined to baseURL, never sent elsewhere with our credentials.
    allowAbsoluteUrls: false,
    // No snapshot call needs more than a few hundred kilobytes: a bigger answer is not the API.
    maxContentLength: MAX_RESPONSE_BYTES,
    maxBodyLength: MAX_RESPONSE_BYTES,
  });

  const backoff = (attempt: number): number => backoffMs(attempt, policy.baseMs, policy.capMs, random);

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
          throw new ProviderError('rate_limited', `${name}: this account's request budget is used up for now.`, {
            retryAfterMs: e.waitMs, status: null, retry: { kind: 'sent', inMs: e.waitMs }, params: { provider: name },
          });
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
        throw new ProviderError('bad_response', `${name} answered something that is not the JSON it documents; try again later, and check apiUrl if this persists.`, {
          status: out.status, params: { provider: name, attempts: n },
        });
      }

      if (out.kind === 'network' && /maxContentLength|maxBodyLength/.test(out.message)) {
        log.warn({ provider: name, request: where }, 'provider answer larger than the size cap');
        throw new ProviderError('bad_response', `${name} sent an answer larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MB, far more than a snapshot call returns; check apiUrl in the providers file.`, {
          params: { provider: name, attempts: n },
        });
      }

      if (out.kind === 'network') {
        const transient = TRANSIENT_NETWORK_CODES.has(out.code);
        // Refused means the request never left: safe to send again even when not idempotent.
        const resendable = idempotent || out.code === 'ECONNREFUSED';
        log.warn({ provider: name, request: where, error: out.code, attempt: n }, 'provider request failed on the network');
        if (!transient) {
          // Certificates, malformed URLs and the like: trying again will not help.
          throw new ProviderError('failed', `${name} could not be reached (${out.code}): check apiUrl and this machine's network.`, {
            cause: new Error(out.message), params: { provider: name, attempts: n, providerCode: out.code },
          });
        }
        if (!resendable || last) {
          const what = out.code === 'ECONNABORTED' || out.code === 'ETIMEDOUT' ? 'did not answer in time' : 'could not be reached';
          throw new ProviderError('transient', `${name} ${what} (${out.code}) after ${n} attempt${n === 1 ? '' : 's'}.`, {
            cause: new Error(out.message), params: { provider: name, attempts: n, providerCode: out.code },
          });
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
          throw new ProviderError('rate_limited', `${name} is rate limiting our requests.`, {
            status: 429, retryAfterMs: wait, retry: { kind: 'tried again', subject: 'they', inMs: wait }, params: { provider: name, attempts: n },
          });
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
          n === 1 ? `${name} failed (HTTP ${f.status}).` : `${name} kept failing (HTTP ${f.status}) after ${n} attempts.`,
          { status: f.status, params: { provider: name, attempts: n } },
        );
      }
      throw describe(failure, req);
    }
  }

  return { request };
}
