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
import { backendOf, entryFiles, keychainCli, keychainServiceOf, requireKeyringOrSkip } from './keychain-harness.js';
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
    return { dir, service, cli, hold, lookup: (account: string) => kc.lookup(account, keychainServiceOf(dir, service)) };
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

/**
 * A reader (no lock) that opened a file vault just before `backend keychain` moved it: the files
 * it would list are gone. It must see vault.json changed and read again from the keychain, not
 * say "No credentials stored" (exit 3) — and the same the other way round.
 */
describe.skipIf(!RUN)('backend moves under a reader (issue 10)', { timeout: 300_000 }, () => {
  const kc = keychainCli();
  let n = 0;

  it.each([
    ['file', 'keychain', ['backend', 'keychain']],
    ['keychain', 'file', ['backend', 'file', '--kdf', 'interactive']],
  ] as const)('%s → %s: load, list and run held before reading still get every value', async (from, to, move) => {
    const home = tempHome('mcpt-race-kc-');
    const dir = join(home, 'vault');
    const env = { MCP_TOKENS_DIR: dir, MCP_TOKENS_KEYCHAIN_SERVICE: `mcp-tokens-read-${++n}`, MCP_TOKENS_LOCK_TIMEOUT_MS: '120000', ...passphraseEnv(home) };
    const cli = (args: readonly string[], opts: CliOptions = {}) => kc.run(args, { timeoutMs: 120_000, ...opts, env: { ...env, ...opts.env } });
    const hold = (args: readonly string[]) => holdAt(kc.spawn, 'before-read', args, { home: kc.home, env });
    const values = new Map(['k1', 'k2'].map((s) => [s, canary()]));
    expect((await cli(['--backend', from, 'init', '--kdf', 'interactive'])).code).toBe(0);
    for (const [s, val] of values) expect((await cli(['store', s, 'secret', '-'], { input: val })).code).toBe(0);
    const load = await hold(['load', 'k1', '--format', 'json']);
    const list = await hold(['list', '--json']);
    const run = await hold(['run', 'k2', '--', process.execPath, '-e', 'process.exit(Object.values(process.env).includes(process.argv[1]) ? 0 : 7)', values.get('k2')!]);
    const mv = await cli(move);
    expect(mv.code, mv.stderr).toBe(0);
    expect(backendOf(dir)).toBe(to);
    const l = await load.release();
    expect(l.code, l.stderr).toBe(0);
    expect(Object.values(JSON.parse(l.stdout) as Record<string, string>)).toEqual([values.get('k1')]);
    const ls = await list.release();
    expect(ls.code, ls.stderr).toBe(0);
    expect((JSON.parse(ls.stdout) as { entries: unknown[] }).entries).toHaveLength(2);
    expect((await run.release()).code).toBe(0);
    await expectIntact((args) => cli(args), values);
  });
});
