/**
 * An adapter's context as `createProviders` builds it: the test's log, clock and sleep, and a
 * budget registry of its own that counts on that same clock (so one test's requests never
 * spend another test's budget).
 */
import { createBudgetRegistry } from '../../sidecar/providers/http/budget.js';
import type { ProviderContext } from '../../sidecar/providers/context.js';

export function adapterContext(c: Omit<ProviderContext, 'budgets'> & { budgets?: ProviderContext['budgets'] }): ProviderContext {
  return { ...c, budgets: c.budgets ?? createBudgetRegistry({ now: c.now, sleep: c.sleep }) };
}
