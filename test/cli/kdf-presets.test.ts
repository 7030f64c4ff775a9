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
import { canary, collect, ensureBuilt, passphraseEnv, runCli, spawnCli, tempHome, vaultDir } from '../helpers/cli.js';

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

// `load`, `store` and the other commands that end with their work derive in their own thread
// (crypto/kdf.ts deriveInThisThread: no worker to start); `run` keeps the worker, because it
// stays alive beside the server it starts and must not keep the KDF's 64 MiB–1 GiB.
describe('run gives the KDF memory back before the server runs', { timeout: 120_000 }, () => {
  it('interactive (64 MiB): the process left running holds far less than its peak', async () => {
    const home = tempHome();
    const env = { ...passphraseEnv(home), ...REAL };
    expect((await runCli(['init', '--backend', 'file', '--kdf', 'interactive'], { home, env })).code).toBe(0);
    expect((await runCli(['store', 'mine', 'token', '-'], { home, env, input: canary() })).code).toBe(0);
    const child = spawnCli(['run', 'mine', '--', 'sleep', '3'], { home, env });
    const done = collect(child, { timeoutMs: 60_000 });
    const status = () => readFileSync(`/proc/${child.pid}/status`, 'utf8');
    // Wait until the server (sleep) runs: as a child of run (Node < 22.15) or in its place (execve).
    const deadline = Date.now() + 30_000;
    let comm = '';
    for (;;) {
      comm = readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim();
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
      if (comm === 'sleep' || kids !== '') break;
      if (Date.now() > deadline) throw new Error('the server never started');
      await new Promise((r) => setTimeout(r, 20));
    }
    if (comm === 'sleep') {
      // run became the server (process.execve): nothing of the KDF is left by construction.
      expect(comm).toBe('sleep');
    } else {
      await new Promise((r) => setTimeout(r, 300)); // the worker's teardown is asynchronous
      const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status())![1]);
      const [rss, hwm] = [kib('VmRSS') / 1024, kib('VmHWM') / 1024];
      expect(hwm).toBeGreaterThan(64); // it did hold the 64 MiB once (the check can fail)
      expect(rss, `RSS ${rss.toFixed(0)} MiB after a peak of ${hwm.toFixed(0)} MiB`).toBeLessThan(hwm - 40);
    }
    expect((await done).code).toBe(0);
  });
});
