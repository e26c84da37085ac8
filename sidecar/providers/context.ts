import type { Logger } from '../log.js';
import type { BudgetRegistry } from './http/budget.js';

/** What an adapter gets from the sidecar besides its own configuration. */
export interface ProviderContext {
  log: Logger;
  /**
   * The request budgets of the provider accounts, owned by whoever creates the providers
   * (`createProviders`): adapters of one account share its budget through it.
   */
  budgets: BudgetRegistry;
  /** Wall clock for rate-limit bookkeeping (tests may control it). Defaults to Date.now. */
  now?: () => number;
  /** Sleep used by retries/backoff (tests may make it instant). Defaults to a real timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Source of backoff jitter (0 ≤ x < 1); tests make it fixed. Defaults to Math.random. */
  random?: () => number;
}

export const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
