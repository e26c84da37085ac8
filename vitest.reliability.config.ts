import { defineConfig } from 'vitest/config';
import { SCALE } from './tests/reliability/harness/scale.js';

/**
 * `npm run test:reliability`: several sidecar processes, crashes, database and provider
 * faults, hostile input (tests/reliability). One scenario file at a time: they start
 * processes and a database of their own, and the machine has two cores.
 * CI-sized by default; `SS_RELIABILITY=full npm run test:reliability` for the full run.
 */
export default defineConfig({
  test: {
    include: ['tests/reliability/**/*.test.ts'],
    setupFiles: ['tests/setup/no-network.ts'],
    globalSetup: ['tests/reliability/setup.ts'],
    testTimeout: SCALE.scenarioTimeoutMs,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    sequence: { shuffle: false },
  },
});
