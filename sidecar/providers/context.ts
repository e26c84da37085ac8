import type { Logger } from '../log.js';

/** What an adapter gets from the sidecar besides its own configuration. */
export interface ProviderContext {
  log: Logger;
  /** Wall clock for rate-limit bookkeeping (tests may control it). Defaults to Date.now. */
  now?: () => number;
  /** Sleep used by retries/backoff (tests may make it instant). Defaults to a real timer. */
  sleep?: (ms: number) => Promise<void>;
}
