import { defineConfig } from 'vitest/config';

/**
 * The browser suite (tests/e2e): Chromium through real wp-admin with the real sidecar.
 * Start it with `tests/e2e/run.sh`, which brings up MariaDB, WordPress and the sidecar and
 * passes their addresses in SS_E2E_* variables. One file at a time, in order: the flows
 * share one WordPress and one schedule engine, and the machine has two cores.
 */
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.ts'],
    setupFiles: ['tests/setup/no-network.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    sequence: { shuffle: false, concurrent: false },
    // A browser flow that failed once has failed: no retries hiding flakiness.
    retry: 0,
  },
});
