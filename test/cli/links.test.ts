/**
 * Links against real commands: `pass` with a throw-away GnuPG home and key, and scripts that
 * succeed, fail, hang, print too much, print nothing or print an invalid value. The value (a
 * canary) must reach `load`/`run`'s child and nowhere else: not `list`, not errors, not the vault.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { canary, ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome, vaultDir, type CliResult } from '../helpers/cli.js';
import { seedVault, snapshot } from './support.js';
import { requireTools } from '../helpers/tools.js';

const PASS = requireTools('pass', ['pass', 'gpg'], 'links to a real pass store (with gnupg)');

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

/** Every byte under the vault directory, for "the value was never written". */
function vaultBytes(home: string): string {
  return Object.values(snapshot(vaultDir(home)))
    .map((n) => Buffer.from(n.content ?? '', 'base64').toString('latin1'))
    .join('\n');
}

describe('links', () => {
  const secret = canary();
  const home = tempHome('mcpt-links-');
  const bin = join(home, 'bin');
  let env: Record<string, string>;
  const run = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => runCli(args, { home, env: { ...env, ...extra } });
  const noLeak = (r: CliResult) => {
    expect(r.stderr).not.toContain(secret);
    expect(r.stdout).not.toContain(secret);
  };

  beforeAll(async () => {
    ensureBuilt();
    await seedVault(home, [['hass', 'url', 'http://ha.local:8123'], ['hass', 'token', jwt()]]);
    mkdirSync(bin);
    env = { ...passphraseEnv(home), SECRET_FOR_TEST: secret };
    script(bin, 'print-secret', 'echo "diagnostic from print-secret" >&2\nprintf "%s\\n" "$SECRET_FOR_TEST"');
    script(bin, 'fail', 'echo "fail: no such item" >&2\nexit 3');
    script(bin, 'hang', 'exec sleep 60');
    script(bin, 'flood', 'head -c 70000 /dev/zero | tr "\\0" a');
    script(bin, 'nothing', 'printf "\\n"');
    script(bin, 'bad-token', 'printf "ghp_%s\\n" "$SECRET_FOR_TEST"');
  });

  it('link refuses a command that is relative, missing or not on PATH, and a bad name; nothing written', async () => {
    const before = snapshot(vaultDir(home));
    for (const [args, text] of [
      [['link', 'canary', 'token', '--', 'bin/print-secret'], 'not the relative path'],
      [['link', 'canary', 'token', '--', join(bin, 'no-such')], 'not an executable file'],
      [['link', 'canary', 'token', '--', 'no-such-command-xyz'], 'was not found on PATH'],
      [['link', 'canary', 'token'], 'needs -- and the command'],
      [['link', 'Bad_Name', 'token', '--', '/bin/echo'], 'Invalid service name'],
      [['link', 'mcp-tokens', 'links', '--', '/bin/echo'], 'reserved service name'],
      [['link', 'hass', 'url', '--', '/bin/echo'], 'holds a stored value'],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(text);
      expect(r.stdout).toBe('');
    }
    expect(snapshot(vaultDir(home))).toEqual(before);
  });

  it('a link is listed as its command (never a value), also in --json, and sealed in the vault', async () => {
    const l = await run(['link', 'canary', 'token', '--', join(bin, 'print-secret'), '--item', 'with space']);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stderr).toContain(`Linked canary token → ${join(bin, 'print-secret')} --item 'with space'`);
    const list = await run(['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/canary\s+token\s+→ \S+print-secret --item 'with space'/);
    const json = await run(['list', '--json']);
    const rows = (JSON.parse(json.stdout) as { entries: { service: string; value: string; link?: string }[] }).entries;
    expect(rows.find((r) => r.service === 'canary')).toMatchObject({ value: `→ ${join(bin, 'print-secret')} --item 'with space'`, link: `${join(bin, 'print-secret')} --item 'with space'` });
    for (const r of [list, json]) noLeak(r);
    expect(vaultBytes(home)).not.toContain('print-secret'); // the command line is sealed too
  });

  it('load and run use the command\'s output; its stderr goes to stderr; nothing reaches disk', async () => {
    const load = await run(['load', 'canary', '--format', 'json']);
    expect(load.code, load.stderr).toBe(0);
    expect(JSON.parse(load.stdout)).toEqual({ CANARY_TOKEN: secret });
    expect(load.stderr).toContain('diagnostic from print-secret');
    const out = join(home, 'child-env');
    const r = await run(['run', 'canary', 'hass', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, process.env.CANARY_TOKEN + '|' + process.env.HA_URL)`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('diagnostic from print-secret');
    expect(r.stderr).not.toContain(secret);
    expect(readFileSync(out, 'utf8')).toBe(`${secret}|http://ha.local:8123`);
    expect(vaultBytes(home)).not.toContain(secret);
  });

  it.each([
    ['fails', 'fail', 'fail exited with status 3', {}],
    ['hangs', 'hang', 'hang did not finish within 1 s', { MCP_TOKENS_LINK_TIMEOUT: '1' }],
    ['prints too much', 'flood', 'flood printed more than 64 KiB', {}],
    ['prints nothing', 'nothing', 'nothing printed nothing', {}],
    ['prints an invalid value', 'bad-token', 'bad-token printed a value that is not valid here (Invalid GitHub token format)', {}],
  ] as const)('a command that %s: exit 1 naming it, and run does not start the server', async (_n, name, text, extra) => {
    const service = name === 'bad-token' ? 'github' : `t-${name}`;
    const l = await run(['link', service, 'token', '--', name], { PATH: `${bin}:/usr/bin:/bin` });
    expect(l.code, l.stderr).toBe(0);
    const marker = join(home, `started-${name}`);
    const started = Date.now();
    const r = await run(['run', service, '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`], { PATH: `${bin}:/usr/bin:/bin`, ...extra });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`the link for ${service} token failed: ${text}`);
    expect(r.stderr).toMatch(/hint: /);
    expect(r.stdout).toBe('');
    noLeak(r);
    expect(existsSync(marker)).toBe(false);
    if (name === 'hang') expect(Date.now() - started).toBeLessThan(20_000);
    const load = await run(['load', service], { PATH: `${bin}:/usr/bin:/bin`, ...extra });
    expect(load.code).toBe(1);
    expect(load.stdout).toBe('');
    noLeak(load);
  }, 120_000);

  it('export never carries a link (its reference or its value); unlink removes it', async () => {
    const r = await run(['export', 'canary', '--to', 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p']);
    expect(r.code).toBe(3);
    const u = await run(['unlink', 'canary', 'token']);
    expect(u.code, u.stderr).toBe(0);
    expect((await run(['list'])).stdout).not.toContain('print-secret');
    expect((await run(['unlink', 'canary', 'token'])).code).toBe(3);
  });

  describe.skipIf(!PASS)('with real pass (a throw-away GnuPG home and key)', () => {
    it('link github token -- pass show mcp/github feeds load, run and verify', async () => {
      const gnupg = join(home, 'gnupg');
      mkdirSync(gnupg, { mode: 0o700 });
      const store = join(home, 'password-store');
      const penv = { ...process.env, GNUPGHOME: gnupg, PASSWORD_STORE_DIR: store };
      const gen = spawnSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'mcp-tokens test <test@example.invalid>', 'default', 'default', 'never'], { env: penv, encoding: 'utf8' });
      expect(gen.status, gen.stderr).toBe(0);
      const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(spawnSync('gpg', ['--with-colons', '--list-secret-keys'], { env: penv, encoding: 'utf8' }).stdout)![1]!;
      expect(spawnSync('pass', ['init', fpr], { env: penv, encoding: 'utf8' }).status).toBe(0);
      const token = githubClassic();
      const ins = spawnSync('pass', ['insert', '--multiline', 'mcp/github'], { env: penv, input: `${token}\n`, encoding: 'utf8' });
      expect(ins.status, ins.stderr).toBe(0);
      const extra = { GNUPGHOME: gnupg, PASSWORD_STORE_DIR: store };
      const l = await run(['link', 'github', 'token', '--', 'pass', 'show', 'mcp/github'], extra);
      expect(l.code, l.stderr).toBe(0);
      // The bare name is recorded as the absolute path found on PATH at link time.
      expect((await run(['list'], extra)).stdout).toMatch(/github\s+token\s+→ \/usr\/bin\/pass show mcp\/github/);
      const load = await run(['load', 'github', '--format', 'json'], extra);
      expect(load.code, load.stderr).toBe(0);
      expect(JSON.parse(load.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: token });
      const v = await run(['verify', 'github', '--offline', '--json'], extra);
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).not.toContain(token);
      const out = join(home, 'pass-env');
      const r = await run(['run', 'github', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, process.env.GITHUB_PERSONAL_ACCESS_TOKEN)`], extra);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
      expect(readFileSync(out, 'utf8')).toBe(token);
      expect(vaultBytes(home)).not.toContain(token);
      expect(readdirSync(vaultDir(home)).some((n) => n.startsWith('github_'))).toBe(false);
    }, 180_000);
  });
});
