/**
 * The real Argon2id presets, end to end, and the test suite's cheap KDF kept out of users' reach.
 *
 * Every other CLI test runs with MCP_TOKENS_INSECURE_TEST_KDF=1 (test/helpers/cli.ts), which makes
 * each preset cost microseconds. Here it is unset: one round trip per preset (init, store, load)
 * with the parameters users get, and the proof that a user cannot make or open a weak vault.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KDF_PRESETS, type KdfPreset } from '../../src/crypto/kdf.js';
import { canary, ensureBuilt, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';

const REAL = { MCP_TOKENS_INSECURE_TEST_KDF: undefined };

beforeAll(() => ensureBuilt());

function kdfOf(home: string): { opslimit: number; memlimit: number } {
  const doc = JSON.parse(readFileSync(join(vaultDir(home), 'vault.json'), 'utf8')) as { kdf: { opslimit: number; memlimit: number } };
  return { opslimit: doc.kdf.opslimit, memlimit: doc.kdf.memlimit };
}

// `sensitive` is 1 GiB and 4 passes per command: seconds on a quiet machine, a minute under load.
describe('each real preset: init, store, load', { timeout: 600_000 }, () => {
  it.each(Object.keys(KDF_PRESETS) as KdfPreset[])('%s', async (preset) => {
    const home = tempHome();
    const env = { ...passphraseEnv(home), ...REAL };
    const timeoutMs = 180_000;
    expect((await runCli(['init', '--backend', 'file', '--kdf', preset], { home, env, timeoutMs })).code).toBe(0);
    expect(kdfOf(home)).toEqual(KDF_PRESETS[preset]);
    const secret = canary();
    const store = await runCli(['store', 'mine', 'token', '-'], { home, env, input: secret, timeoutMs });
    expect(store.code, store.stderr).toBe(0);
    const load = await runCli(['load', 'mine'], { home, env, timeoutMs });
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toContain(secret);
  });
});

describe('the cheap test KDF is unreachable for users', () => {
  let weak: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    weak = tempHome();
    env = passphraseEnv(weak);
    // Made the way the test suite makes its vaults.
    expect((await runCli(['init', '--backend', 'file'], { home: weak, env })).code).toBe(0);
    expect((await runCli(['store', 'mine', 'token', '-'], { home: weak, env, input: canary() })).code).toBe(0);
    expect(kdfOf(weak).memlimit).toBeLessThan(KDF_PRESETS.interactive.memlimit);
  });

  it('without the switch, every way to create a vault gives at least the interactive preset', async () => {
    const home = tempHome();
    const e = { ...passphraseEnv(home), ...REAL };
    // The weakest choice a user has, and the default a first `store` takes.
    expect((await runCli(['init', '--backend', 'file', '--kdf', 'interactive'], { home, env: e })).code).toBe(0);
    expect(kdfOf(home)).toEqual(KDF_PRESETS.interactive);
    const other = tempHome();
    const e2 = { ...passphraseEnv(other), ...REAL, MCP_TOKENS_BACKEND: 'file' };
    expect((await runCli(['store', 'mine', 'token', '-'], { home: other, env: e2, input: canary() })).code).toBe(0);
    expect(kdfOf(other)).toEqual(KDF_PRESETS.default);
  });

  it('no preset, option or help text offers it', async () => {
    const help = await runCli(['init', '--help'], { env: REAL });
    expect(help.stdout).toMatch(/interactive/);
    expect(help.stdout + help.stderr).not.toMatch(/INSECURE|test/i);
    const bad = await runCli(['init', '--kdf', 'test'], { env: REAL });
    expect(bad.code).toBe(2);
    for (const cmd of [[], ['passwd'], ['backend']]) {
      const h = await runCli([...cmd, '--help'], { env: REAL });
      expect(h.stdout).not.toMatch(/INSECURE_TEST_KDF/);
    }
  });

  it('a weak vault is refused on open without the switch (exit 6), and nothing is read', async () => {
    const r = await runCli(['load', 'mine'], { home: weak, env: { ...env, ...REAL } });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/weaker than the interactive preset/);
  });

  it('doctor names a weak vault, with the switch (warn) and without it (error)', async () => {
    const withSwitch = await runCli(['doctor'], { home: weak, env });
    expect(withSwitch.stderr).toMatch(/\[warn\] weak KDF/);
    const without = await runCli(['doctor'], { home: weak, env: { ...env, ...REAL } });
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/\[error\].*weaker than the interactive preset/);
  });
});
