/**
 * `mcp-tokens --help` groups its commands; every command's --help shows an example, and the
 * one-line examples work when pasted into a shell (run here with bash, in order, in one scratch
 * file vault, with an `mcp-tokens` on PATH that is this repository's CLI).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, ensureBuilt, githubClassic, passphraseEnv, runCli, shimBin, tempHome } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';

const GROUPS: Record<string, string[]> = {
  'Daily use:': ['store', 'load', 'run', 'headers', 'verify', 'list', 'log', 'delete', 'link', 'unlink'],
  'Set-up:': ['init', 'setup', 'migrate', 'clients', 'services', 'doctor', 'backend', 'passwd', 'rekey', 'shell-init', 'completion'],
  'Backups:': ['backups', 'restore', 'prune'],
  'Machines and teams:': ['identity', 'export', 'import'],
  'Agent (file vaults):': ['unlock', 'lock'],
};
const ALL = Object.values(GROUPS).flat();

/** The command names listed under each heading of a help text. */
function sections(help: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let heading: string | undefined;
  for (const line of help.split('\n')) {
    if (/^\S.*:$/.test(line)) out[(heading = line)] = [];
    else if (line === '') heading = undefined;
    else if (heading !== undefined) {
      const m = /^  ([a-z-]+)\b/.exec(line);
      if (m) out[heading]!.push(m[1]!);
    }
  }
  return out;
}

describe('help', () => {
  beforeAll(() => ensureBuilt());

  it('--help (pre-rendered, and from commander) lists the commands in their groups', async () => {
    const pre = await runCli(['--help']); // stdout is a pipe: dist/cli/help.txt
    const live = await runCli(['help']); // rendered by commander
    expect(pre.code).toBe(0);
    expect(pre.stdout).toBe(live.stdout);
    const s = sections(pre.stdout);
    for (const [heading, cmds] of Object.entries(GROUPS)) expect(s[heading], heading).toEqual(cmds);
    expect(s['Help:']).toEqual(['help']);
    expect(s['Commands:']).toBeUndefined();
  });

  it.each(ALL)('%s --help shows an example', async (cmd) => {
    const r = await runCli([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(Examples?|Install)( \(.*\))?:$/m);
    expect(r.stdout).toMatch(new RegExp(`^  .*mcp-tokens (--\\S+ \\S+ )?${cmd}\\b`, 'm'));
  });

  it("completion --help's install lines work when pasted into a fresh home (the folders made first)", async (ctx) => {
    const help = (await runCli(['completion', '--help'])).stdout;
    const line = (shell: string) => new RegExp(`^  ${shell} +(.+)$`, 'm').exec(help)?.[1];
    const home = tempHome();
    const env = { ...cliEnv(home), PATH: `${shimBin(home)}:${process.env['PATH'] ?? '/usr/bin:/bin'}` };
    const bash = spawnSync('bash', ['-euo', 'pipefail', '-c', line('bash')!], { cwd: home, env, encoding: 'utf8', timeout: 30_000 });
    expect(bash.status, `${line('bash')}\n${bash.stderr}`).toBe(0);
    expect(readFileSync(join(home, '.local/share/bash-completion/completions/mcp-tokens'), 'utf8')).toContain('complete -');
    if (!requireTools('fish', ['fish'], "completion --help's fish line")) return ctx.skip();
    const fish = spawnSync('fish', ['--no-config', '-c', line('fish')!], { cwd: home, env, encoding: 'utf8', timeout: 30_000 });
    expect(fish.status, `${line('fish')}\n${fish.stderr}`).toBe(0);
    expect(readFileSync(join(home, '.config/fish/completions/mcp-tokens.fish'), 'utf8')).toContain('complete -c mcp-tokens');
  });

  it('the one-line examples work when pasted', async () => {
    const home = tempHome();
    const pass = passphraseEnv(home);
    const env = { ...cliEnv(home, pass), MCP_TOKENS_NEW_PASSPHRASE_FILE: pass['MCP_TOKENS_PASSPHRASE_FILE']!, PATH: `${shimBin(home)}:${process.env['PATH'] ?? '/usr/bin:/bin'}` };
    const example = async (cmd: string) => {
      const help = (await runCli([cmd, '--help'])).stdout;
      const m = /^Example:\n {2}(.+)$/m.exec(help);
      expect(m, `${cmd} --help has a one-line Example:`).not.toBeNull();
      return m![1]!;
    };
    // the order a user might meet them in; the prepared steps give each example something to act on
    const steps: Array<string | [string]> = [
      'init',
      [`printf '%s\\n' ${githubClassic()} | mcp-tokens store github token -`],
      [`printf '%s\\n' ${githubClassic()} | mcp-tokens store github token -`],
      'verify', 'list', 'backups', 'restore', 'prune', 'setup', 'migrate', 'clients', 'services', 'doctor', 'backend',
      'passwd', 'rekey', 'identity', 'lock', 'delete',
      ['mcp-tokens link github token -- printf x'],
      'unlink',
    ];
    for (const step of steps) {
      const line = typeof step === 'string' ? await example(step) : step[0];
      const r = spawnSync('bash', ['-euo', 'pipefail', '-c', line], { cwd: home, env, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, `${line}\n${r.stderr}`).toBe(0);
    }
  });
});
