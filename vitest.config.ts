import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: Argon2id at 64 MiB and child processes dominate; more workers only thrash.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
