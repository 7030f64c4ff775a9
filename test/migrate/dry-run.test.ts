/**
 * `migrate --dry-run` makes every check the real run makes and writes nothing (issue 12): a case
 * the real run refuses is refused by the dry run, with the same list of what is left and the same
 * exit code. The case that used to differ: `--shell-rc` with an export inside `if … fi` — the dry
 * run planned to edit .bashrc and exited 0, the real run refused the edit (bash -n) and exited 1.
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';
import { seedVault, snapshot } from '../cli/support.js';

beforeAll(() => ensureBuilt());

/** What the last "Left in plaintext" list of a run's stderr names (file, where, masked value). */
function leftList(stderr: string): string[] {
  const lines = stderr.split('\n');
  const start = lines.findLastIndex((l) => /^(Will be left|Left) in plaintext: /.test(l));
  if (start < 0) return [];
  // The list ends at the next unindented line (the summary, the Unlock paragraph…).
  const end = lines.findIndex((l, i) => i > start && !l.startsWith(' '));
  return lines.slice(start + 1, end < 0 ? undefined : end).filter((l) => /^  \S/.test(l)).map((l) => l.trim());
}

describe('migrate --dry-run agrees with the real run', () => {
  it('an rc edit that would break .bashrc: refused by both, the same list left, both exit 1; the dry run writes nothing', async () => {
    const home = tempHome();
    const env = passphraseEnv(home);
    await seedVault(home, [['wikijs', 'url', 'https://wiki.example.com']]);
    const gh = githubClassic();
    writeFileSync(join(home, '.bashrc'), `alias ll='ls -l'\nif [ -n "$PS1" ]; then\n  export GITHUB_PERSONAL_ACCESS_TOKEN=${gh}\nfi\n`, { mode: 0o644 });
    mkdirSync(join(home, '.cursor'));
    writeFileSync(join(home, '.cursor', 'mcp.json'), `{"mcpServers": {"gh": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${gh}"}}}}\n`);
    const before = snapshot(home);

    const dry = await runCli(['migrate', '--dry-run', '--shell-rc'], { home, env });
    expect(snapshot(home)).toEqual(before);
    expect(dry.stderr).toContain('bash cannot parse');
    expect(dry.stderr).not.toMatch(/edit +.*\.bashrc/);
    expect(dry.stderr + dry.stdout).not.toContain(gh);

    const real = await runCli(['migrate', '--shell-rc'], { home, env });
    expect(real.stderr).toContain('bash cannot parse');
    expect(real.code).toBe(1);
    expect(dry.code).toBe(real.code);
    const left = leftList(real.stderr);
    expect(left).toEqual([expect.stringMatching(/\.bashrc: line 3 env GITHUB_PERSONAL_ACCESS_TOKEN ghp_/)]);
    expect(leftList(dry.stderr)).toEqual(left);
  });
});

/**
 * With no vault yet, the real run creates one first; the dry run makes the same checks (backend,
 * a folder it can make, a passphrase source for a new file vault) without creating anything, and
 * refuses with the same message and exit code. These used to pass the dry run (exit 0) and fail
 * the real run.
 */
describe('migrate --dry-run with no vault yet checks what creating it would meet', () => {
  function homeWithConfig(): { home: string; gh: string } {
    const home = tempHome();
    const gh = githubClassic();
    mkdirSync(join(home, '.cursor'));
    writeFileSync(join(home, '.cursor', 'mcp.json'), `{"mcpServers": {"gh": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${gh}"}}}}\n`);
    return { home, gh };
  }

  async function bothRefuse(home: string, env: Record<string, string>, message: RegExp, code: number): Promise<void> {
    const before = snapshot(home);
    const dry = await runCli(['migrate', '--dry-run'], { home, env });
    expect(snapshot(home)).toEqual(before);
    const real = await runCli(['migrate'], { home, env });
    expect(snapshot(home)).toEqual(before);
    expect(real.code, real.stderr).toBe(code);
    expect(real.stderr).toMatch(message);
    expect(dry.code, dry.stderr).toBe(real.code);
    // The keychain probe's account name holds the pid: the one part allowed to differ.
    const same = (t: string) => t.replace(/probe-\d+-[a-z0-9]+/g, 'probe-*');
    expect(same(dry.stderr)).toBe(same(real.stderr));
  }

  it('no passphrase source and no terminal for a new file vault: both exit 4 with the same message', async () => {
    const { home } = homeWithConfig();
    await bothRefuse(home, {}, /a new file vault needs a passphrase and there is no terminal to ask on\n  hint: .*MCP_TOKENS_PASSPHRASE_FILE/, 4);
  });

  it('--backend keychain for the new vault where no keychain answers: both exit 5 with the same message', async () => {
    const { home } = homeWithConfig();
    await bothRefuse(home, { ...passphraseEnv(home), MCP_TOKENS_BACKEND: 'keychain' }, /the OS keychain is not available/, 5);
  });

  it('a vault folder that cannot be made (a dangling symbolic link on its path): both refuse alike', async () => {
    const { home } = homeWithConfig();
    symlinkSync(join(home, 'gone'), join(home, 'link'));
    const env = { ...passphraseEnv(home), MCP_TOKENS_DIR: join(home, 'link', 'vault') };
    await bothRefuse(home, env, /cannot create directory .*link\/vault \(ENOENT\)/, 1);
  });

  it('a regular file where ~/.mcp_tokens should be: both refuse alike', async () => {
    const { home } = homeWithConfig();
    writeFileSync(join(home, '.mcp_tokens'), 'not a folder\n', { mode: 0o600 });
    await bothRefuse(home, passphraseEnv(home), /refusing to use .*\.mcp_tokens: it is not a directory/, 1);
  });

  it("the old script's ~/.mcp_tokens with mode 755 (no vault in it yet): both refuse alike, naming the chmod", async () => {
    const { home } = homeWithConfig();
    mkdirSync(join(home, '.mcp_tokens'));
    chmodSync(join(home, '.mcp_tokens'), 0o755);
    writeFileSync(join(home, '.mcp_tokens', 'github_token'), `${githubClassic()}\n`, { mode: 0o600 });
    await bothRefuse(home, passphraseEnv(home), /its permissions 755 let other users in\n {2}hint: .*chmod 700/, 1);
  });

  it('a dry run that passes these checks still creates nothing', async () => {
    const { home, gh } = homeWithConfig();
    const env = passphraseEnv(home);
    const before = snapshot(home);
    const dry = await runCli(['migrate', '--dry-run'], { home, env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('Dry run: nothing was changed.');
    expect(dry.stderr + dry.stdout).not.toContain(gh);
    expect(snapshot(home)).toEqual(before);
  });
});
