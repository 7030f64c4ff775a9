/**
 * Start the longest test files first. vitest orders files by the durations it cached on the last
 * run, but a fresh clone (and so every CI run) has no cache and falls back to file size: a
 * two-minute file could then start last and run alone at the end. HEAVY is the slowest files of a
 * measured run (test/README.md), longest first; the rest follow in vitest's own order.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const HEAVY = [
  'test/cli/keychain-move.test.ts',
  'test/cli/race-writers.test.ts',
  'test/migrate/crash.test.ts',
  'test/soak/soak.test.ts',
  'test/cli/kdf-presets.test.ts',
  'test/cli/keychain-isolation.test.ts',
  'test/agent/agent.test.ts',
  'test/cli/race-writers-keychain.test.ts',
  'test/cli/user-services.test.ts',
  'test/cli/trust-names.test.ts',
  'test/cli/race.test.ts',
  'test/cli/bundles.test.ts',
  'test/cli/kill-writers.test.ts',
  'test/cli/completion-tty.test.ts',
  'test/cli/links.test.ts',
  'test/cli/race-keychain.test.ts',
  'test/cli/instances.test.ts',
  'test/agent/hung.test.ts',
];

export default class HeavyFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = HEAVY.findIndex((h) => f.moduleId.endsWith(`/${h}`));
      return i === -1 ? HEAVY.length : i;
    };
    // A stable sort: vitest's order within the rest is kept.
    return sorted.map((f, i) => ({ f, i, r: rank(f) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.f);
  }
}
