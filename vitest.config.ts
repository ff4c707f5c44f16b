import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    // Each test file gets its own database (cloned from a migrated template), so files can run
    // in parallel; two at a time suits the 2-core machines this runs on.
    pool: 'forks',
    maxWorkers: 2,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
