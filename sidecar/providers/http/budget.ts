/**
 * The request budget: how many requests one provider account may send per hour, minute and
 * second, kept on our side so that a busy sidecar never earns the provider's 429s. The
 * sidecar uses the budget shared in the database by every sidecar (shared-budget.ts); the
 * in-process budget below serves callers that hand `createProviders` a registry of their own.
 * The
 * budgets live in a `BudgetRegistry` that whoever creates the providers owns and hands to
 * every adapter, so there is no state at module level (two sidecars in one process, as in
 * the tests, each keep their own).
 */
import { createHash } from 'node:crypto';
import { realSleep } from '../context.js';

export interface RequestBudgetLimits {
  perHour?: number | null;
  /** A refilling provider's bucket size when it differs from perHour (shared-budget.ts). */
  bucket?: number | null;
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
 * adapter gets it from its `BudgetRegistry`.
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

/** The budgets of the provider accounts one set of providers uses. */
export interface BudgetRegistry {
  /**
   * The budget of one provider account, or null when `limits` set none. Two providers-file
   * slugs with the same credential at the same endpoint are one account to the provider, so
   * they get the same budget.
   */
  forAccount(account: { type: string; baseURL: string; credential: string }, limits: RequestBudgetLimits): RequestBudget | null;
}

export function createBudgetRegistry(opts: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {}): BudgetRegistry {
  const budgets = new Map<string, RequestBudget>();
  return {
    forAccount(account, limits) {
      if (limits.perHour == null && limits.perMinute == null && limits.perSecond == null) return null;
      // A hash: the credential itself is not kept here.
      const key = createHash('sha256')
        .update(`${account.type}\n${account.baseURL}\n${account.credential}\n${JSON.stringify([limits.perHour, limits.perMinute, limits.perSecond])}`)
        .digest('hex');
      let budget = budgets.get(key);
      if (!budget) {
        budget = createRequestBudget(limits, opts);
        budgets.set(key, budget);
      }
      return budget;
    },
  };
}

/** The default budget of a provider type with the entry's overrides applied. */
export function budgetLimits(type: string, override: RequestBudgetLimits | undefined): RequestBudgetLimits {
  return { ...DEFAULT_BUDGETS[type], ...override };
}
