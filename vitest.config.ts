import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/engineEnvironment.ts'],
    // Bounds that only end a stuck test: the suite must pass with both cores saturated (issue 10), where a test that
    // takes 5 s on a quiet machine can take a minute or more.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'dist/test-results.json' },
  },
});
