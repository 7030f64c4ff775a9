/**
 * What a link runs is decided on this machine, once: a bare name is recorded as the absolute path
 * found at link time in PATH's absolute directories, and an old link that still holds a bare name
 * is looked up in those directories only — never in `.`, an empty PATH entry or a relative one,
 * so a repository's own `./mysecret` never runs. The timeout ends the command's whole process
 * group, and no passphrase variable reaches the command.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/vault/vault.js';
import { LINKS_KEY } from '../../src/vault/reserved.js';
import { PASSPHRASE_VARIABLES } from '../../src/launch/env.js';
import { canary, collect, ensureBuilt, passphraseEnv, runCli, spawnCli, tempHome, vaultDir, writePassphraseFile, type CliResult } from '../helpers/cli.js';
import { passphraseBytes } from './support.js';

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

/** True while pid is a process that has not exited (a zombie counts as exited). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('link resolution, timeout and environment', () => {
  const secret = canary();
  const home = tempHome('mcpt-linktrust-');
  const bin = join(home, 'bin');
  const repo = join(home, 'repo');
  const planted = join(home, 'planted-ran');
  let env: Record<string, string>;
  const run = (args: string[], extra: Record<string, string> = {}, cwd = home): Promise<CliResult> => runCli(args, { home, cwd, env: { ...env, ...extra } });

  beforeAll(async () => {
    ensureBuilt();
    // An old vault: a link recorded as a bare name, as `link` did before it recorded paths.
    const vault = await Vault.create({ dir: vaultDir(home), backend: 'file', kdf: 'interactive', passphrase: passphraseBytes() });
    try {
      await vault.putReserved(LINKS_KEY, JSON.stringify({ v: 1, links: [{ service: 'old-link', key: 'token', command: ['mysecret'] }] }));
    } finally {
      vault.close();
    }
    mkdirSync(bin);
    mkdirSync(repo);
    env = { ...passphraseEnv(home), SECRET_FOR_TEST: secret };
    script(bin, 'mysecret', 'printf "%s\\n" "$SECRET_FOR_TEST"');
    // What a cloned repository could carry: a file of the same name that steals and lies.
    script(repo, 'mysecret', `echo ran > ${JSON.stringify(planted)}\nprintf "planted-value-0123456789\\n"`);
    script(bin, 'grandchild', `sleep 30 &\necho $! > ${JSON.stringify(join(home, 'grandchild.pid'))}\nprintf "%s\\n" "$SECRET_FOR_TEST"`);
    script(bin, 'stuck', `echo $$ > ${JSON.stringify(join(home, 'stuck.pid'))}\nsleep 60 &\necho $! >> ${JSON.stringify(join(home, 'stuck.pid'))}\nwait`);
    script(bin, 'show-env', `env > ${JSON.stringify(join(home, 'link-env'))}\nprintf "%s\\n" "$SECRET_FOR_TEST"`);
  });

  it('link records the absolute path it found; load in a repository with `.` and an empty entry on PATH runs that one', async () => {
    const l = await run(['link', 'new-link', 'token', '--', 'mysecret'], { PATH: `.::${bin}:/usr/bin:/bin` }, repo);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stderr).toContain(`Linked new-link token → ${join(bin, 'mysecret')}`);
    expect((await run(['list'])).stdout).toMatch(new RegExp(`new-link\\s+token\\s+→ ${join(bin, 'mysecret')}`));
    for (const PATH of [`.:/usr/bin:/bin`, `:/usr/bin:/bin`, `bin:/usr/bin`]) {
      const load = await run(['load', 'new-link', '--format', 'json'], { PATH }, repo);
      expect(load.code, load.stderr).toBe(0);
      expect(JSON.parse(load.stdout)).toEqual({ NEW_LINK_TOKEN: secret });
    }
    expect(existsSync(planted)).toBe(false);
  });

  it('an old link holding a bare name is looked up in absolute PATH entries only', async () => {
    const load = await run(['load', 'old-link', '--format', 'json'], { PATH: `.::${bin}:/usr/bin:/bin` }, repo);
    expect(load.code, load.stderr).toBe(0);
    expect(JSON.parse(load.stdout)).toEqual({ OLD_LINK_TOKEN: secret });
    const none = await run(['load', 'old-link', '--format', 'json'], { PATH: `.::repo` }, repo);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("mysecret was not found in PATH's absolute directories");
    expect(none.stdout).toBe('');
    expect(existsSync(planted)).toBe(false);
  });

  it('the timeout holds when a grandchild keeps stdout open, and the whole group is killed', async () => {
    expect((await run(['link', 'slow', 'token', '--', join(bin, 'grandchild')])).code).toBe(0);
    const started = Date.now();
    const r = await run(['load', 'slow'], { MCP_TOKENS_LINK_TIMEOUT: '2' });
    const took = Date.now() - started;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the link for slow token failed: grandchild did not finish within 2 s');
    expect(r.stdout).toBe('');
    // Broken, this takes the grandchild's 30 s; the bound is far from both.
    expect(took).toBeLessThan(15_000);
    const pid = Number(readFileSync(join(home, 'grandchild.pid'), 'utf8'));
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  }, 60_000);

  it.each(['SIGTERM', 'SIGINT'] as const)('%s to mcp-tokens while a link runs ends the link\'s whole group, and mcp-tokens as that signal', async (sig) => {
    const pidFile = join(home, 'stuck.pid');
    writeFileSync(pidFile, '');
    expect((await run(['link', 'stuck', 'token', '--', join(bin, 'stuck')])).code).toBe(0);
    const child = spawnCli(['load', 'stuck'], { home, env });
    const done = collect(child, { timeoutMs: 60_000 });
    let pids: number[] = [];
    for (let i = 0; i < 200 && pids.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      pids = readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number);
    }
    expect(pids).toHaveLength(2);
    // The CLI is exec'd by spawnCli's sh, so child.pid is mcp-tokens itself.
    process.kill(child.pid!, sig);
    const r = await done;
    expect(r.signal).toBe(sig);
    expect(r.stdout).toBe('');
    for (const pid of pids) {
      for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid), `pid ${pid}`).toBe(false);
    }
  }, 60_000);

  it('no passphrase variable reaches a linked command', async () => {
    const file = writePassphraseFile(home, 'new passphrase 1234', 'new-passphrase');
    // MCP_TOKENS_PASSPHRASE_FILE (from passphraseEnv) opens the vault; the others ride along
    // (an empty _FD is not read, but the variable is there to leak).
    const every: Record<string, string> = {
      ...env,
      MCP_TOKENS_PASSPHRASE: 'pp-value-1',
      MCP_TOKENS_PASSPHRASE_FD: '',
      MCP_TOKENS_NEW_PASSPHRASE: 'pp-value-2',
      MCP_TOKENS_NEW_PASSPHRASE_FILE: file,
      MCP_TOKENS_NEW_PASSPHRASE_FD: '',
      mcp_tokens_new_passphrase: 'pp-value-3',
    };
    for (const name of PASSPHRASE_VARIABLES) expect(every).toHaveProperty(name);
    expect((await run(['link', 'envcheck', 'token', '--', join(bin, 'show-env')])).code).toBe(0);
    const r = await run(['load', 'envcheck', '--format', 'json'], every);
    expect(r.code, r.stderr).toBe(0);
    const seen = readFileSync(join(home, 'link-env'), 'utf8');
    expect(seen).toContain('SECRET_FOR_TEST='); // the rest of the environment is there
    for (const name of [...PASSPHRASE_VARIABLES, 'mcp_tokens_new_passphrase']) expect(seen).not.toMatch(new RegExp(`^${name}=`, 'm'));
    expect(seen).not.toContain('pp-value-');
  });
});
