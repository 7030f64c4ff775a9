/**
 * A newcomer's first day (issue 27), each step as they met it: a store over a linked credential,
 * two github sources and setup, a Proxmox hint, a forgotten `--`, a mistyped service, and the
 * small things (import over ssh, identity without a passphrase, setup's install line, list with a
 * service, a pass entry that does not exist, rekey's help). One file vault is shared; the cases
 * that change it in a way others would see work on a copy (cloneVault).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { addLink } from '../../src/links/links.js';
import { LINKS_KEY } from '../../src/vault/reserved.js';
import { canary, ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, shimBin, tempHome, vaultDir, type CliResult } from '../helpers/cli.js';
import { cloneVault, openVault, seedVault, snapshot } from './support.js';

describe('a newcomer first day', () => {
  const home = tempHome('mcpt-newcomer-');
  const bin = join(home, 'bin');
  const personal = githubClassic();
  const linked = canary();
  let env: Record<string, string>;
  const run = (args: string[], extra: Record<string, string | undefined> = {}, h = home, input?: string): Promise<CliResult> =>
    runCli(args, { home: h, env: { ...env, ...extra }, ...(input === undefined ? {} : { input }) });

  beforeAll(async () => {
    ensureBuilt();
    await seedVault(home, [['github', 'token', personal], ['hass', 'url', 'http://ha.local:8123'], ['hass', 'token', jwt()]]);
    env = { ...passphraseEnv(home), SECRET_FOR_TEST: linked, PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}` };
    mkdirSync(bin);
    writeFileSync(join(bin, 'print-secret'), '#!/bin/sh\nprintf "%s\\n" "$SECRET_FOR_TEST"\n');
    chmodSync(join(bin, 'print-secret'), 0o755);
    // A stand-in for pass: link only looks for the entry's file; it never runs it.
    writeFileSync(join(bin, 'pass'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(bin, 'pass'), 0o755);
  }, 60_000);

  describe('1. store over a linked credential', () => {
    it('is refused (exit 2) with the unlink hint, nothing written; list keeps one row; run gets the link', async () => {
      const l = await run(['link', 'canary', 'token', '--', join(bin, 'print-secret')]);
      expect(l.code, l.stderr).toBe(0);
      const before = snapshot(vaultDir(home));
      const s = await run(['store', 'canary', 'token', '-'], {}, home, canary());
      expect(s.code).toBe(2);
      expect(s.stderr).toContain('canary token is linked');
      expect(s.stderr).toContain('mcp-tokens unlink canary token');
      expect(snapshot(vaultDir(home))).toEqual(before);
      const list = await run(['list', 'canary']);
      expect(list.stdout.split('\n').filter((r) => /^canary\s+token/.test(r))).toHaveLength(1);
      expect(list.stdout).not.toContain(linked);
    });

    it('import (storeMany) refuses the whole batch when one credential is linked; nothing written', async () => {
      const before = snapshot(vaultDir(home));
      const vault = await openVault(vaultDir(home));
      try {
        const items = [{ service: 'wikijs', key: 'url', value: 'http://wiki.local' }, { service: 'canary', key: 'token', value: canary() }];
        await expect(vault.storeMany(items)).rejects.toThrow('canary token is linked');
      } finally {
        vault.close();
      }
      expect(snapshot(vaultDir(home))).toEqual(before);
    });

    it('restore of a backup over a linked credential is refused too', async () => {
      const copy = cloneVault(home);
      const vault = await openVault(vaultDir(copy));
      try {
        await vault.store('relinked', 'token', canary());
        await vault.delete('relinked', 'token'); // its value is now a backup
        await addLink(vault, { service: 'relinked', key: 'token', command: [join(bin, 'print-secret')] });
        await expect(vault.restore('relinked', 'token')).rejects.toThrow('relinked token is linked');
        expect(await vault.get('relinked', 'token')).toBeUndefined();
      } finally {
        vault.close();
      }
    });

    it('doctor reports a credential both stored and linked (left by an older version), exit 1', async () => {
      const copy = cloneVault(home);
      const vault = await openVault(vaultDir(copy));
      try {
        // What `store` over a link wrote before it was refused: a link and a value for github token.
        await vault.putReserved(LINKS_KEY, JSON.stringify({ v: 1, links: [{ service: 'github', key: 'token', command: [join(bin, 'print-secret')] }] }));
      } finally {
        vault.close();
      }
      const d = await run(['doctor'], {}, copy);
      expect(d.code, d.stderr).toBe(1);
      expect(d.stderr).toContain('github token is both stored and linked: load and run use the link');
      expect(d.stderr).toContain('mcp-tokens unlink github token');
      expect(d.stderr).not.toContain(personal);
      expect(d.stderr).not.toContain(linked);
    });
  });

  describe('5. github and github@work, then setup', () => {
    it('setup warns once with real names; load all exports github and notes github@work; named both: refused', async () => {
      const copy = cloneVault(home);
      const work = githubClassic();
      expect((await run(['store', 'github@work', 'token', '-'], {}, copy, work)).code).toBe(0);
      const s = await run(['setup', '--shell', 'bash'], {}, copy);
      expect(s.code, s.stderr).toBe(0);
      expect(s.stderr).toContain("github and github@work both set GITHUB_PERSONAL_ACCESS_TOKEN: new shells load github's");
      expect(s.stderr).toContain('mcp-tokens run github@work -- <command>');
      expect(s.stderr).not.toContain('<key>');
      // Locked (no passphrase source): the warning still comes, from the entry file names.
      const locked = await run(['setup', '--shell', 'bash'], { MCP_TOKENS_PASSPHRASE_FILE: undefined }, copy);
      expect(locked.code, locked.stderr).toBe(0);
      expect(locked.stderr).toContain('github and github@work both set GITHUB_PERSONAL_ACCESS_TOKEN');
      const load = await run(['load', 'all', '--format', 'json'], {}, copy);
      expect(load.code, load.stderr).toBe(0);
      expect(JSON.parse(load.stdout)).toMatchObject({ GITHUB_PERSONAL_ACCESS_TOKEN: personal });
      expect(load.stderr).toContain('github@work not loaded');
      const both = await run(['setup', '--shell', 'bash', '--services', 'github,github@work'], {}, copy);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('github and github@work both set GITHUB_PERSONAL_ACCESS_TOKEN');
      const named = await run(['run', 'github', 'github@work', '--', 'true'], {}, copy);
      expect(named.code).toBe(2);
      expect(named.stderr).toContain('--env GITHUB_PERSONAL_ACCESS_TOKEN=github.token');
      expect(named.stderr).not.toContain('<key>');
    });
  });

  it('6. an invalid Proxmox token: the hint shows the whole format, the value is not echoed', async () => {
    const bad = 'PVEAPIToken=root@pam!mcp=2f1c0a7e9b3d4c5e8f6a1b2c3d4e5f60';
    const r = await run(['store', 'proxmox', 'token', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected PVEAPIToken=user@realm!tokenid=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx');
    expect(r.stderr).not.toContain('[hidden');
    expect(r.stderr).not.toContain('2f1c0a7e9b3d4c5e8f6a');
  });

  it('7. run without -- says to put -- before the command', async () => {
    const dash = await run(['run', 'github', 'sh', '-c', 'echo hi']);
    expect(dash.code).toBe(2);
    expect(dash.stderr).toContain("unknown option '-c'");
    expect(dash.stderr).toContain('put -- before the command');
    const plain = await run(['run', 'github', 'node', 'server.js']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('mcp-tokens run github -- node server.js');
    expect(dash.stdout + plain.stdout).toBe('');
  });

  it('8. load and run of a mistyped service say "did you mean", not "store githb"', async () => {
    for (const args of [['load', 'githb'], ['run', 'githb', '--', 'true']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toContain('did you mean github?');
      expect(r.stderr).not.toContain('store githb');
    }
  });

  describe('the second walk-through (fresh HOME, the README followed)', () => {
    it('delete and export of a mistyped service say "did you mean", and delete nothing', async () => {
      // the files, not the folders' mtimes (a writer takes the lock, which comes and goes)
      const files = () => Object.entries(snapshot(vaultDir(home))).flatMap(([k, n]) => (n.type === 'file' ? [`${k} ${n.mode} ${n.content}`] : []));
      const before = files();
      const del = await run(['delete', 'githb']);
      expect(del.code).toBe(3);
      expect(del.stderr).toContain('No credentials stored for githb');
      expect(del.stderr).toContain('did you mean github?');
      const key = await run(['delete', 'githb', 'token']);
      expect(key.code).toBe(3);
      expect(key.stderr).toContain('did you mean github?');
      const far = await run(['delete', 'zzzzzz']);
      expect(far.code).toBe(3);
      expect(far.stderr).toContain('see what is stored with: mcp-tokens list');
      const exp = await run(['export', 'githb', '--to', 'age1eemu034evlp8lf7pwvpvxpqzd659ux8mdh62lh9084vxctzphumqn24ert', '-o', join(home, 'never.age')]);
      expect(exp.code).toBe(3);
      expect(exp.stderr).toContain('did you mean github?');
      expect(files()).toEqual(before);
    });

    it('store under a near miss of a built-in service names the service it probably meant', async () => {
      const copy = cloneVault(home);
      const token = githubClassic();
      const r = await run(['store', 'githb', 'token', '-'], {}, copy, token);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("note: 'githb' is not a built-in service");
      expect(r.stderr).toContain('did you mean github? (if so: mcp-tokens delete githb)');
      const inst = await run(['store', 'gthub@work', 'token', '-'], {}, copy, token);
      expect(inst.stderr).toContain('did you mean github@work?');
      const own = await run(['store', 'openai', 'api-key', '-'], {}, copy, token);
      expect(own.code, own.stderr).toBe(0);
      expect(own.stderr).not.toContain('did you mean');
      expect(r.stderr + inst.stderr + own.stderr).not.toContain(token);
    });

    it('load with two services says that load takes one and run takes several', async () => {
      const r = await run(['load', 'github', 'hass']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('mcp-tokens run github hass -- <command>');
      expect(r.stdout).toBe('');
      const list = await run(['list', 'github', 'hass']);
      expect(list.code).toBe(2);
      expect(list.stderr).toContain('list takes one service');
    });

    it('store with an empty pipe says how to give the value', async () => {
      const r = await run(['store', 'github', 'token'], {}, home, '');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('Empty value on stdin');
      expect(r.stderr).toContain('pipe the value in, or run the command on a terminal');
    });

    it('setup warns when mcp-tokens is not on PATH (the block would load nothing), not when it is', async () => {
      const fresh = tempHome('mcpt-newcomer-setup-');
      const none = await run(['setup', '--shell', 'bash'], {}, fresh);
      expect(none.code, none.stderr).toBe(0);
      expect(none.stderr).toContain('mcp-tokens is not on this PATH, so the block loads nothing');
      expect(none.stderr).toContain('npm install -g . there');
      const shim = shimBin(fresh);
      const on = await run(['setup', '--shell', 'bash'], { PATH: `${shim}:${process.env['PATH'] ?? '/usr/bin:/bin'}` }, fresh);
      expect(on.code, on.stderr).toBe(0);
      expect(on.stderr).not.toContain('not on this PATH');
    });
  });

  describe('the low ones', () => {
    it('import over ssh on a locked file vault says how to unlock it', async () => {
      const r = await run(['import', '-'], { MCP_TOKENS_PASSPHRASE_FILE: undefined, SSH_CONNECTION: '10.0.0.1 50000 10.0.0.2 22' }, home, 'age-encryption.org/v1\n');
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('ssh -t <server> mcp-tokens unlock');
    });

    it('identity prints the public recipient without the passphrase once it is known', async () => {
      const first = await run(['identity']);
      expect(first.code, first.stderr).toBe(0);
      const recipient = first.stdout.trim();
      expect(recipient).toMatch(/^age1[a-z0-9]{58}$/);
      const again = await run(['identity'], { MCP_TOKENS_PASSPHRASE_FILE: undefined });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout.trim()).toBe(recipient);
      expect(statSync(join(vaultDir(home), 'identity.pub')).mode & 0o777).toBe(0o600);
      const secret = await run(['identity', '--secret'], { MCP_TOKENS_PASSPHRASE_FILE: undefined });
      expect(secret.code).toBe(4); // the secret half still needs the vault open
    });

    it("setup --help's and the systemd unit's install lines work where ~/.config/mcp-tokens is missing", async () => {
      const help = await run(['setup', '--help']);
      const unit = await run(['unlock', '--print-systemd-unit']);
      for (const text of [help.stdout, unit.stdout]) {
        const line = text.split('\n').find((l) => l.includes('install -m 600 /dev/null'))!.replace(/^#?\s*/, '');
        const scratch = tempHome('mcpt-install-');
        const r = spawnSync('/bin/sh', ['-c', line], { env: { HOME: scratch, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
        expect(r.status, `${line}: ${r.stderr}`).toBe(0);
        expect(statSync(join(scratch, '.config/mcp-tokens/passphrase')).mode & 0o777).toBe(0o600);
        expect(statSync(join(scratch, '.config/mcp-tokens')).mode & 0o777).toBe(0o700);
      }
    });

    it('list takes a service: github (with instances), a mistyped one is "did you mean"', async () => {
      const r = await run(['list', 'github']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^github\s+token/m);
      expect(r.stdout).not.toMatch(/^hass/m);
      const json = await run(['list', 'hass', '--json']);
      expect((JSON.parse(json.stdout) as { entries: { service: string }[] }).entries.map((e) => e.service)).toEqual(['hass', 'hass']);
      const typo = await run(['list', 'githb']);
      expect(typo.code).toBe(3);
      expect(typo.stderr).toContain('did you mean github?');
    });

    it('link to a pass entry that does not exist is refused; once it exists, linked', async () => {
      const store = join(home, 'password-store');
      mkdirSync(join(store, 'mcp'), { recursive: true });
      const missing = await run(['link', 'wikijs', 'token', '--', 'pass', 'show', 'mcp/wikijs'], { PASSWORD_STORE_DIR: store });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('pass has no entry mcp/wikijs');
      writeFileSync(join(store, 'mcp', 'wikijs.gpg'), 'not really gpg');
      const ok = await run(['link', 'wikijs', 'token', '--', 'pass', 'show', 'mcp/wikijs'], { PASSWORD_STORE_DIR: store });
      expect(ok.code, ok.stderr).toBe(0);
    });

    it('rekey --help says a leaked passphrase needs passwd and a leaked token a new one', async () => {
      const r = await run(['rekey', '--help']);
      expect(r.stdout).toContain('mcp-tokens passwd');
      expect(r.stdout).toContain('revoke');
    });
  });
});
