/**
 * The request budget shared by every sidecar on one database: each provider account's
 * token buckets live in `ss_request_budgets` (store/budgets.ts), so N sidecars together
 * never spend more than the account allows — no dividing the limit by the number of sidecars.
 *
 * How a token comes back follows how the provider refills (docs/providers.md, "Request budgets"):
 * - Hetzner documents a bucket of 3600 that refills one request per second: our bucket is the
 *   same (one token back every hour/limit), less one token kept in reserve for the time a
 *   request spends on its way.
 * - DigitalOcean, Vultr and Linode count requests in a window. A bucket that starts full and
 *   drips back at limit/window lets twice the limit through one window; ours holds half the
 *   limit and drips back the other half over the window, so no window of that length ever
 *   sees more than the limit.
 * A token is spent when the request is about to be sent; the provider counts it when it
 * arrives, later, so the provider's bucket is never emptier than ours.
 */
import { createHash } from 'node:crypto';
import type { Clock, DB } from '../../db.js';
import { ensureBuckets, takeToken, type BucketWindow } from '../../store/budgets.js';
import { realSleep } from '../context.js';
import { BudgetExhausted, type BudgetRegistry, type RequestBudget, type RequestBudgetLimits } from './budget.js';

/** Provider types whose hourly limit refills one request at a time (a bucket), not per window. */
const REFILLING: ReadonlySet<string> = new Set(['hetzner']);

/** The buckets that keep `limits` for a provider of `type` (see the module comment). */
export function bucketWindows(type: string, limits: RequestBudgetLimits): BucketWindow[] {
  const out: BucketWindow[] = [];
  const add = (limit: number | null | undefined, windowMs: number): void => {
    if (limit === null || limit === undefined) return;
    if (!Number.isFinite(limit) || limit < 1) throw new Error(`A request budget needs a positive limit, got ${limit}.`);
    const l = Math.floor(limit);
    // The provider's own bucket is its hourly limit; a per-minute or per-second cap set in the
    // providers file means "never more than this in any such window".
    // One token stays in reserve: the provider's bucket starts refilling when our first request
    // *arrives*, a moment after we took it, so a bucket as full as Hetzner's would run that
    // moment ahead and spend one token the provider has not refilled yet (the bench saw it).
    if (REFILLING.has(type) && windowMs === 3_600_000) { out.push({ windowMs, capacity: Math.max(1, Math.min(l, limits.bucket ?? l) - 1), refillPerMs: l / windowMs }); return; }
    const capacity = Math.max(1, Math.floor(l / 2));
    out.push({ windowMs, capacity, refillPerMs: Math.max(1, l - capacity) / windowMs });
  };
  add(limits.perHour, 3_600_000);
  add(limits.perMinute, 60_000);
  add(limits.perSecond, 1_000);
  return out;
}

export function createSharedBudgetRegistry(o: { db: DB; clock: Clock; sleep?: (ms: number) => Promise<void> }): BudgetRegistry {
  const sleep = o.sleep ?? realSleep;
  return {
    forAccount(account, limits) {
      const windows = bucketWindows(account.type, limits);
      if (windows.length === 0) return null;
      // A hash: the credential itself is never stored. Two slugs with the same credential at
      // the same endpoint are one account to the provider, so they share the rows.
      const key = createHash('sha256').update(`${account.type}\n${account.baseURL}\n${account.credential}`).digest('hex');
      let made: Promise<void> | null = null;
      const budget: RequestBudget = {
        limits: Object.freeze({ ...limits }),
        async take(maxWaitMs = Number.POSITIVE_INFINITY) {
          made ??= ensureBuckets(o.db, o.clock, key, windows).catch((e: unknown) => { made = null; throw e; });
          await made;
          for (;;) {
            const r = await takeToken(o.db, o.clock, key, windows);
            if (r.taken) return () => undefined; // spent at send; nothing comes back on the answer
            if (r.waitMs > maxWaitMs) throw new BudgetExhausted(r.waitMs);
            await sleep(r.waitMs);
          }
        },
      };
      return budget;
    },
  };
}
