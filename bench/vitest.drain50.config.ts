// Runs bench/drain50.test.ts with the test harness (its template database), outside `npm test`:
//   npx vitest run --config bench/vitest.drain50.config.ts
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['bench/drain50.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    pool: 'forks',
    env: { LOG_LEVEL: 'error' },
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
