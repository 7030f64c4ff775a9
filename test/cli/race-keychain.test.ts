/**
 * `backend keychain` ‖ `store` and `backend file` ‖ `store` (issue 10), deterministically, in a
 * private Secret Service: the store is held after it unlocked the vault and before it takes the
 * lock (MCP_TOKENS_PAUSE=before-lock, test/cli/race-support.ts) while the move runs to the end.
 * Released, it must either land in the backend the vault now uses or fail with "the vault
 * changed while this command waited" — never an orphan in the backend the vault left (the old
 * code wrote an entry file the keychain vault never read: `load` said not found). Afterwards
 * `load` gives the value or a clean not-found, every seeded value loads and doctor is clean.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canary, passphraseEnv, tempHome, type CliOptions, type CliResult } from '../helpers/cli.js';
import { backendOf, entryFiles, keychainCli, requireKeyringOrSkip } from './keychain-harness.js';
import { expectChangedWhileWaiting, expectIntact, holdAt } from './race-support.js';

const RUN = requireKeyringOrSkip();

describe.skipIf(!RUN)('backend moves racing a store (issue 10)', { timeout: 300_000 }, () => {
  const kc = keychainCli();
  let n = 0;

  const fresh = () => {
    const home = tempHome('mcpt-race-kc-');
    const dir = join(home, 'vault');
    const service = `mcp-tokens-race-${++n}`;
    const env = { MCP_TOKENS_DIR: dir, MCP_TOKENS_KEYCHAIN_SERVICE: service, MCP_TOKENS_LOCK_TIMEOUT_MS: '120000', ...passphraseEnv(home) };
    const cli = (args: readonly string[], opts: CliOptions = {}): Promise<CliResult> =>
      kc.run(args, { timeoutMs: 120_000, ...opts, env: { ...env, ...opts.env } });
    const hold = (args: readonly string[], opts: CliOptions = {}) =>
      holdAt(kc.spawn, 'before-lock', args, { home: kc.home, ...opts, env: { ...env, ...opts.env } });
    return { dir, service, cli, hold, lookup: (account: string) => kc.lookup(account, service) };
  };

  /** A vault on `backend` with three entries, stored through the CLI. */
  const seed = async (v: ReturnType<typeof fresh>, backend: 'file' | 'keychain') => {
    const values = new Map(['k1', 'k2', 'k3'].map((s) => [s, canary()]));
    expect((await v.cli(['--backend', backend, 'init', '--kdf', 'interactive'])).code).toBe(0);
    for (const [s, val] of values) expect((await v.cli(['store', s, 'secret', '-'], { input: val })).code).toBe(0);
    expect(backendOf(v.dir)).toBe(backend);
    return values;
  };

  /** The store either landed where the vault now is, or was refused having written nothing. */
  const settle = async (v: ReturnType<typeof fresh>, r: CliResult, late: string, values: Map<string, string>, now: 'file' | 'keychain') => {
    expect(backendOf(v.dir)).toBe(now);
    const inFiles = entryFiles(v.dir);
    const inKeychain = await v.lookup('late/secret');
    const load = await v.cli(['load', 'late', '--format', 'json']);
    if (r.code === 0) {
      expect(load.code, load.stderr).toBe(0);
      expect(Object.values(JSON.parse(load.stdout) as Record<string, string>)).toEqual([late]);
      values.set('late', late);
    } else {
      expectChangedWhileWaiting(r);
      expect(load.code, load.stderr).toBe(3);
    }
    // Never an orphan in the backend the vault left.
    if (now === 'keychain') {
      expect(inFiles, 'no entry file in a keychain vault').toEqual([]);
      expect(inKeychain).toBe(r.code === 0 ? late : undefined);
    } else {
      expect(inKeychain, 'no keychain item for a file vault').toBeUndefined();
      expect(inFiles.includes('late_secret')).toBe(r.code === 0);
    }
    await expectIntact((args) => v.cli(args), values);
  };

  it('backend keychain ‖ store: the held store lands in the keychain or fails cleanly, never as an orphan file', async () => {
    const v = fresh();
    const values = await seed(v, 'file');
    const late = canary();
    const st = await v.hold(['store', 'late', 'secret', '-'], { input: late });
    const mv = await v.cli(['backend', 'keychain']);
    expect(mv.code, mv.stderr).toBe(0);
    await settle(v, await st.release(), late, values, 'keychain');
  });

  it('backend file ‖ store: the held store lands in the files or fails cleanly, never as an orphan keychain item', async () => {
    const v = fresh();
    const values = await seed(v, 'keychain');
    const late = canary();
    const st = await v.hold(['store', 'late', 'secret', '-'], { input: late });
    const mv = await v.cli(['backend', 'file', '--kdf', 'interactive']);
    expect(mv.code, mv.stderr).toBe(0);
    await settle(v, await st.release(), late, values, 'file');
  });
});
