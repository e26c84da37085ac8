import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/e2e/**', 'tests/reliability/**', 'node_modules/**'],
    setupFiles: ['tests/setup/no-network.ts'],
    globalSetup: ['tests/setup/mariadb.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
