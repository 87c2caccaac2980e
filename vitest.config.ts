import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Two cores here: keep parallelism modest so real-tool suites do not starve each other.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
