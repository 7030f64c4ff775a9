/**
 * `shell-init` run as `node /path/bin/mcp-tokens.js shell-init` (or through npx), with no
 * `mcp-tokens` on PATH: the load_credentials it defines must call that same CLI. The CLI is
 * copied to a directory whose name holds spaces and a single quote, so the embedded path only
 * works when it is quoted right for each shell.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireShell, type ShellName } from '../helpers/shells.js';
import { REPO, ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';

const home = tempHome('mcpt-init-path-');
const pkg = join(home, "my tools/it's here/mcp-tokens");
const CLI = join(pkg, 'bin', 'mcp-tokens.js');
const token = githubClassic();
let passEnv: Record<string, string>;

beforeAll(async () => {
  ensureBuilt();
  mkdirSync(pkg, { recursive: true });
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(REPO, part), join(pkg, part), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
  passEnv = passphraseEnv(home);
  expect((await runCli(['init', '--backend', 'file', '--kdf', 'interactive'], { home, env: passEnv })).code).toBe(0);
  const r = await runCli(['store', 'github', 'token', '-'], { home, env: passEnv, input: token });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

const SCRIPTS: Record<ShellName, string> = {
  bash: `source <("$NODE" "$CLI" shell-init --shell bash)`,
  zsh: `source <("$NODE" "$CLI" shell-init --shell zsh)`,
  dash: `eval "$("$NODE" "$CLI" shell-init)"`,
  fish: `"$NODE" "$CLI" shell-init --shell fish | source`,
};

describe('shell-init from a CLI that is not on PATH', () => {
  it.for(['bash', 'zsh', 'dash', 'fish'] as const)('%s: load_credentials calls the CLI by its quoted absolute path', (shell, { skip }) => {
    const sh = requireShell(shell, skip);
    const cwd = tempHome('mcpt-init-cwd-');
    const tail =
      shell === 'fish'
        ? `\ncommand -q mcp-tokens; and echo on-path\nload_credentials github; or exit 7\nprintf '%s' "$GITHUB_PERSONAL_ACCESS_TOKEN" > got\n`
        : `\ncommand -v mcp-tokens && echo on-path\nload_credentials github || exit 7\nprintf '%s' "$GITHUB_PERSONAL_ACCESS_TOKEN" > got\n`;
    const env = {
      PATH: '/usr/bin:/bin',
      HOME: home,
      LANG: 'C.UTF-8',
      MCP_TOKENS_INSECURE_TEST_KDF: '1',
      NODE: process.execPath,
      CLI,
      XDG_CONFIG_HOME: join(cwd, '.config'),
      XDG_DATA_HOME: join(cwd, '.data'),
      ...passEnv,
    };
    const r = spawnSync(sh, [...(shell === 'zsh' ? ['-f'] : []), '-c', SCRIPTS[shell] + tail], { cwd, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).not.toContain('on-path'); // the test means nothing if mcp-tokens were on PATH
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(cwd, 'got'), 'utf8')).toBe(token);
  });

  it('the printed function names node and the script, each quoted as one word', async () => {
    const r = spawnSync(process.execPath, [CLI, 'shell-init'], { env: { PATH: '/usr/bin:/bin', HOME: home }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`'${process.execPath}' '${CLI.replace(/'/g, `'\\''`)}' load --format sh "$1"`);
    const f = spawnSync(process.execPath, [CLI, 'shell-init', '--shell', 'fish'], { env: { PATH: '/usr/bin:/bin', HOME: home }, encoding: 'utf8' });
    expect(f.stdout).toContain(`'${process.execPath}' '${CLI.replace(/'/g, `\\'`)}' load --format fish $argv[1]`);
  });
});
