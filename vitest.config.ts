import { defineConfig } from 'vitest/config';
import HeavyFirstSequencer from './test/sequencer.js';

const ci = process.env['CI'] === 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    // Budgets catch hangs, not slowness (speed lives in `npm run bench`): on 2 cores under load,
    // a test that takes 10 s on a quiet machine has been seen to take 30 s.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The test-only cheap Argon2id (src/crypto/kdf.ts, TEST_KDF_VARIABLE): vaults the tests make
    // cost microseconds to unlock instead of half a second. The real presets keep their own tests,
    // which unset it (test/crypto/kdf.test.ts, test/cli/kdf-presets.test.ts, the golden fixtures).
    env: { MCP_TOKENS_INSECURE_TEST_KDF: '1' },
    pool: 'forks',
    sequence: { sequencer: HeavyFirstSequencer },
    // Two cores, and the tests' child processes use them; a third worker fills the time the other
    // two spend waiting (a lock held, a silent agent, a daemon starting): 264 s for the whole suite
    // on a quiet two-core machine, where two took 337 s (test/README.md).
    maxWorkers: 3,
    // Under CI a JSON report too, from which .ci/run prints the plain "N passed, N failed" line.
    // Last, the plain `N passed, N failed, N skipped` line (test/reporters/summary.ts).
    reporters: ci ? ['default', 'json', './test/reporters/summary.ts'] : ['default', './test/reporters/summary.ts'],
    ...(ci ? { outputFile: { json: '.vitest-results.json' } } : {}),
  },
});
