/**
 * The pieces of providers-file configuration every REST adapter shares, and the client a
 * bearer-token adapter builds from them.
 */
import { z } from 'zod';
import type { Logger } from '../../log.js';
import type { ProviderContext } from '../context.js';
import { budgetLimits, type RequestBudgetLimits } from './budget.js';
import { createHttpClient, type HttpClient, type HttpClientOptions } from './client.js';
import type { DescribeFailure } from './failures.js';

const positiveLimit = z.number().int().positive().nullable().optional();

/**
 * Fields every REST adapter's providers-file entry may carry besides its credentials.
 * `budget` overrides the provider's default request budget per field (null turns that
 * window off), e.g. `{ "perHour": 1800 }` when another tool shares the account. `bucket`: where
 * the provider refills one request at a time (Hetzner), its bucket's size when that is not the
 * hourly limit (a test double that refills faster, so a benchmark fits its time).
 */
export const restTuningShape = {
  apiUrl: z.url({ protocol: /^https?$/, error: 'apiUrl must be an http(s) URL' }).optional(),
  budget: z
    .object({ perHour: positiveLimit, perMinute: positiveLimit, perSecond: positiveLimit, bucket: positiveLimit })
    .strict()
    .optional(),
  /** Per attempt, in milliseconds. */
  timeoutMs: z.number().int().min(100).max(300_000).optional(),
  /** A 429 asking to wait longer than this goes back to the engine as `rate_limited`. */
  maxRateLimitWaitMs: z.number().int().min(0).max(3_600_000).optional(),
};

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
  ctx: Pick<ProviderContext, 'budgets' | 'now' | 'sleep' | 'random'>;
  log: Logger;
  providerName: string;
  describeFailure: DescribeFailure;
  rateLimitDelay?: HttpClientOptions['rateLimitDelay'];
}): HttpClient {
  const budget = o.ctx.budgets.forAccount(
    { type: o.type, baseURL: o.baseURL, credential: o.budgetKey },
    budgetLimits(o.type, o.config.budget),
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
    random: o.ctx.random,
    describeFailure: o.describeFailure,
    ...(o.rateLimitDelay ? { rateLimitDelay: o.rateLimitDelay } : {}),
  });
}
