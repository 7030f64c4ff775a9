/**
 * Rollback detection (issue 29, src/vault/manifest.ts): an older sealed copy of one entry, of
 * metadata.json or of the links map, put back by hand, is exit 6 naming it in load, run and
 * doctor; and nothing a healthy vault goes through — a kill -9 at any manifest step, a reader
 * held across a store, rekey or passwd — ever makes it report one.
 */
import { copyFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, spawnCli, tempHome, vaultDir, writePassphraseFile, type CliResult } from '../helpers/cli.js';
import { holdAt } from './race-support.js';

beforeAll(() => ensureBuilt());

function newVault() {
  const home = tempHome('mcpt-rollback-');
  const env = passphraseEnv(home);
  const run = (args: readonly string[], extra: Record<string, string> = {}, input?: string): Promise<CliResult> =>
    runCli(args, { home, env: { ...env, ...extra }, ...(input !== undefined ? { input } : {}) });
  const dir = vaultDir(home);
  return { home, env, run, dir };
}

async function store(run: ReturnType<typeof newVault>['run'], service: string, key: string, value: string): Promise<void> {
  const r = await run(['store', service, key, '--backend', 'file'], {}, `${value}\n`);
  expect(r.code, r.stderr).toBe(0);
}

/** load github (json) gives exactly `value`. */
async function expectLoads(run: ReturnType<typeof newVault>['run'], value: string): Promise<void> {
  const r = await run(['load', 'github', '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  expect(Object.values(JSON.parse(r.stdout) as Record<string, string>)).toEqual([value]);
}

async function expectRollback(run: ReturnType<typeof newVault>['run'], names: RegExp, secret: string): Promise<void> {
  for (const args of [['load', 'github'], ['run', 'github', '--', 'true'], ['doctor']]) {
    const r = await run(args);
    expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(6);
    expect(r.stdout + r.stderr).toMatch(names);
    expect(r.stdout + r.stderr).toContain('older than the vault\'s manifest: it was replaced by an older copy');
    expect(r.stdout + r.stderr).not.toContain(secret);
    if (args[0] !== 'doctor') expect(r.stdout).toBe('');
  }
}

describe('rollback of one file', () => {
  it('an older github_token copied over the newer one: exit 6 naming it in load, run and doctor; a store heals it', async () => {
    const { run, dir } = newVault();
    const old = githubClassic();
    const now = githubClassic();
    await store(run, 'github', 'token', old);
    const older = join(dir, '..', 'older-github_token');
    copyFileSync(join(dir, 'github_token'), older);
    await store(run, 'github', 'token', now);
    await expectLoads(run, now);
    copyFileSync(older, join(dir, 'github_token'));
    await expectRollback(run, /github token \(.*github_token\)/, old);
    // The manifest holds hashes of sealed bytes only: no value, no canary.
    const manifest = readFileSync(join(dir, 'manifest'), 'utf8');
    expect(manifest).not.toContain(old);
    expect(manifest).not.toContain(now);
    // Storing the current value again is the remedy the hint names.
    await store(run, 'github', 'token', now);
    await expectLoads(run, now);
    const d = await run(['doctor']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(d.stdout + d.stderr).toContain('no entry is older than the vault\'s manifest');
  });

  it('an older metadata.json: exit 6 naming it', async () => {
    const { run, dir } = newVault();
    const secret = githubClassic();
    await store(run, 'github', 'token', secret);
    const older = join(dir, '..', 'older-metadata.json');
    copyFileSync(join(dir, 'metadata.json'), older);
    await store(run, 'hass', 'url', 'http://hass.local:8123');
    await expectLoads(run, secret);
    copyFileSync(older, join(dir, 'metadata.json'));
    await expectRollback(run, /metadata\.json/, secret);
  });

  it('an older links map: exit 6 naming the list of links', async () => {
    const { run, dir } = newVault();
    const secret = githubClassic();
    await store(run, 'github', 'token', secret);
    expect((await run(['link', 'hass', 'url', '--', '/bin/echo', 'http://a.example'])).code).toBe(0);
    const older = join(dir, '..', 'older-links');
    copyFileSync(join(dir, 'mcp-tokens_links'), older);
    expect((await run(['link', 'hass', 'token', '--', '/bin/echo', 'x'])).code).toBe(0);
    await expectLoads(run, secret);
    copyFileSync(older, join(dir, 'mcp-tokens_links'));
    await expectRollback(run, /the vault's list of links \(.*mcp-tokens_links\)/, secret);
  });

  it('an entry deleted by mcp-tokens and put back from an older copy: exit 6', async () => {
    const { run, dir } = newVault();
    const secret = githubClassic();
    await store(run, 'github', 'token', secret);
    const older = join(dir, '..', 'older-github_token');
    copyFileSync(join(dir, 'github_token'), older);
    await store(run, 'hass', 'url', 'http://hass.local:8123');
    expect((await run(['delete', 'github', 'token'])).code).toBe(0);
    copyFileSync(older, join(dir, 'github_token'));
    const r = await run(['load', 'github']);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain('is not in the vault\'s manifest');
    expect(r.stderr).not.toContain(secret);
  });

  it('a vault without a manifest (made before it) checks nothing until its first write makes one', async () => {
    const { run, dir } = newVault();
    const old = githubClassic();
    const now = githubClassic();
    await store(run, 'github', 'token', old);
    const older = join(dir, '..', 'older-github_token');
    copyFileSync(join(dir, 'github_token'), older);
    await store(run, 'github', 'token', now);
    rmSync(join(dir, 'manifest'));
    copyFileSync(older, join(dir, 'github_token'));
    await expectLoads(run, old); // undetectable without a manifest: the documented gap
    const d = await run(['doctor']);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout + d.stderr).toContain('no rollback manifest yet');
    await store(run, 'hass', 'url', 'http://hass.local:8123');
    expect(readdirSync(dir)).toContain('manifest');
    await expectLoads(run, old);
  });
});

describe('never a false report', () => {
  for (const step of ['manifest:opening', 'manifest:opened', 'write:github_token', 'wrote:github_token', 'write:metadata.json', 'manifest:closing']) {
    it(`kill -9 at ${step}: the vault loads (old or new value), doctor exits 0, the next write closes the manifest`, async () => {
      const { run, dir } = newVault();
      const old = githubClassic();
      const now = githubClassic();
      await store(run, 'github', 'token', old);
      const older = join(dir, '..', 'older-github_token');
      copyFileSync(join(dir, 'github_token'), older);
      const killed = await run(['store', 'github', 'token'], { MCP_TOKENS_FAILPOINT: step }, `${now}\n`);
      expect(killed.signal, killed.stderr).toBe("SIGKILL");
      const r = await run(['load', 'github', '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect([old, now]).toContain(Object.values(JSON.parse(r.stdout) as Record<string, string>)[0]);
      const d = await run(['doctor']);
      expect(d.code, d.stdout + d.stderr).toBe(0);
      if (step !== 'manifest:opening') expect(d.stdout + d.stderr).toMatch(/manifest is open/);
      // The next write closes it, and a rollback is detected again.
      const later = githubClassic();
      await store(run, 'github', 'token', later);
      await expectLoads(run, later);
      const d2 = await run(['doctor']);
      expect(d2.code, d2.stdout).toBe(0);
      expect(d2.stdout + d2.stderr).toContain('no entry is older than the vault\'s manifest');
      copyFileSync(older, join(dir, 'github_token'));
      expect((await run(['load', 'github'])).code).toBe(6);
    });
  }

  for (const at of ['before-read', 'after-read']) {
    for (const writer of ['store', 'rekey', 'passwd', 'link'] as const) {
      it(`a load held at ${at} across a ${writer} never reports a rollback`, async () => {
        const { home, env, run } = newVault();
        const old = githubClassic();
        await store(run, 'github', 'token', old);
        await store(run, 'hass', 'url', 'http://hass.local:8123');
        const spawn = (args: readonly string[], o: Parameters<typeof spawnCli>[1]) => spawnCli(args, o);
        const held = await holdAt(spawn, at, ['load', 'github', '--format', 'json'], { home, env });
        const now = githubClassic();
        let w: CliResult;
        if (writer === 'store') w = await run(['store', 'github', 'token'], {}, `${now}\n`);
        else if (writer === 'rekey') w = await run(['rekey']);
        else if (writer === 'link') w = await run(['link', 'hass', 'token', '--', '/bin/echo', 'x']);
        else {
          const next = writePassphraseFile(home, 'another passphrase here', 'next');
          w = await run(['passwd'], { MCP_TOKENS_NEW_PASSPHRASE_FILE: next });
        }
        expect(w.code, w.stderr).toBe(0);
        const r = await held.release();
        expect(r.stderr).not.toContain('manifest');
        expect(r.code, r.stderr).toBe(0);
        expect([old, now]).toContain(Object.values(JSON.parse(r.stdout) as Record<string, string>)[0]);
      });
    }
  }

  it('a plaintext file of the old script dropped in, or an entry removed by hand, is not reported as a rollback', async () => {
    const { run, dir } = newVault();
    const value = githubClassic();
    await store(run, 'github', 'token', value);
    await store(run, 'hass', 'url', 'http://hass.local:8123');
    writeFileSync(join(dir, 'notion_token'), `${githubClassic()}\n`, { mode: 0o600 });
    const list = await run(['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr + list.stdout).not.toContain('manifest');
    await expectLoads(run, value);
    const d = await run(['doctor']);
    expect(d.stdout + d.stderr).not.toMatch(/\) is older than the vault's manifest|is not in the vault's manifest/);
    expect(d.code).not.toBe(6);
    rmSync(join(dir, 'github_token'));
    const gone = await run(['load', 'github']);
    expect(gone.code, gone.stderr).not.toBe(6);
    expect(gone.stderr).not.toContain('manifest');
  });

  it('rekey and passwd leave a closed manifest that checks out', async () => {
    const { home, run, dir } = newVault();
    const value = githubClassic();
    await store(run, 'github', 'token', value);
    const ok = async () => {
      await expectLoads(run, value);
      const d = await run(['doctor']);
      expect(d.code, d.stdout + d.stderr).toBe(0);
      expect(d.stdout + d.stderr).toContain('no entry is older than the vault\'s manifest');
    };
    expect((await run(['rekey'])).code).toBe(0);
    await ok();
    const next = writePassphraseFile(home, 'another passphrase here', 'next');
    expect((await run(['passwd'], { MCP_TOKENS_NEW_PASSPHRASE_FILE: next })).code).toBe(0);
    const run2 = (args: readonly string[]) => runCli(args, { home, env: { ...passphraseEnv(home), MCP_TOKENS_PASSPHRASE_FILE: next } });
    const d = await run2(['doctor']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(d.stdout + d.stderr).toContain('no entry is older than the vault\'s manifest');
    expect(readdirSync(dir)).toContain('manifest');
  });
});

describe('through the unlock agent', () => {
  it('a reader with only the agent (no passphrase) unseals the manifest and reports an older entry; a store through the agent keeps it closed', async () => {
    const { agentVault, cli, unlockVault } = await import('../agent/support.js');
    const old = githubClassic();
    const now = githubClassic();
    const v = await agentVault([['github', 'token', old]]);
    // The seeding wrote through the library, in-process: the manifest exists and is closed.
    expect(readdirSync(v.dir)).toContain('manifest');
    const older = join(v.home, 'older-github_token');
    copyFileSync(join(v.dir, 'github_token'), older);
    await unlockVault(v);
    const s = await cli(v, ['store', 'github', 'token'], { input: `${now}\n` });
    expect(s.code, s.stderr).toBe(0);
    const ok = await cli(v, ['load', 'github', '--format', 'json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(Object.values(JSON.parse(ok.stdout) as Record<string, string>)).toEqual([now]);
    copyFileSync(older, join(v.dir, 'github_token'));
    const r = await cli(v, ['load', 'github']);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain('github token');
    expect(r.stderr).toContain('older than the vault\'s manifest');
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain(old);
  });
});
