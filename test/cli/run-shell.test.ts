/**
 * The shell side of launching, through the built CLI: eval of `load` in bash, zsh, dash and fish
 * with a hostile value; `setup` idempotence and exact `--undo` on an rc file with other content;
 * `shell-init`'s load_credentials in a seed-style wrapper script.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireShell } from '../helpers/shells.js';
import { BIN, cliEnv, ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';

const HOSTILE = `it's $(touch pwned) \`touch pwned2\` "q" \\ $HOME !x ; rm -rf ./y 'end'`;
const shells = ['bash', 'zsh', 'dash', 'fish'] as const;

beforeAll(() => ensureBuilt());

describe('load output evaluated by real shells', () => {
  const home = tempHome();
  const passEnv = passphraseEnv(home);
  const token = githubClassic();

  beforeAll(async () => {
    for (const [svc, key, value] of [
      ['github', 'token', token],
      ['myapp', 'secret', HOSTILE],
    ] as const) {
      const r = await runCli(['store', svc, key, '-'], { home, env: passEnv, input: value });
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it.for(shells)('%s reproduces every value byte for byte and runs nothing', (shell, { skip }) => {
    const sh = requireShell(shell, skip);
    const cwd = join(home, `cwd-${shell}`);
    mkdirSync(cwd);
    const mt = `${process.execPath} ${BIN}`;
    const script =
      shell === 'fish'
        ? `${mt} load all --format fish | source; printf '%s' "$MYAPP_SECRET" > out1; printf '%s' "$GITHUB_PERSONAL_ACCESS_TOKEN" > out2`
        : `eval "$(${mt} load all)"; printf '%s' "$MYAPP_SECRET" > out1; printf '%s' "$GITHUB_PERSONAL_ACCESS_TOKEN" > out2`;
    const r = spawnSync(sh, ['-c', script], { cwd, env: cliEnv(home, passEnv), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(cwd, 'out1'), 'utf8')).toBe(HOSTILE);
    expect(readFileSync(join(cwd, 'out2'), 'utf8')).toBe(token);
    expect(readdirSync(cwd).sort()).toEqual(['out1', 'out2']);
  });

  it.for(shells.filter((s) => s !== 'fish'))('%s: shell-init defines load_credentials for seed-style wrapper scripts', (shell, { skip }) => {
    const sh = requireShell(shell, skip);
    const mt = `${process.execPath} ${BIN}`;
    const bindir = join(home, 'bin');
    mkdirSync(bindir, { recursive: true });
    writeFileSync(join(bindir, 'mcp-tokens'), `#!/bin/sh\nexec ${mt} "$@"\n`, { mode: 0o755 });
    const wrapper = `
      eval "$(mcp-tokens shell-init)"
      if ! load_credentials github; then echo "ERROR: Failed to load GitHub token" >&2; exit 1; fi
      printf '%s' "$GITHUB_PERSONAL_ACCESS_TOKEN" > got
      if load_credentials hass; then echo "hass should be missing" >&2; exit 9; fi
      exit 0`;
    const env = cliEnv(home, { ...passEnv, PATH: `${bindir}:${process.env['PATH'] ?? '/usr/bin:/bin'}` });
    const r = spawnSync(sh, ['-c', wrapper], { cwd: home, env, encoding: 'utf8' });
    expect(r.status, `${shell}: ${r.stderr}`).toBe(0);
    expect(readFileSync(join(home, 'got'), 'utf8')).toBe(token);
    expect(r.stderr).toContain('No credentials stored for hass');
  });
});

describe('setup', () => {
  it('adds one marked block, is idempotent, and --undo restores the file exactly', async () => {
    const home = tempHome();
    const original = '# my bashrc\nalias ll="ls -l"\nexport EDITOR=vim'; // no trailing newline on purpose
    writeFileSync(join(home, '.bashrc'), original, { mode: 0o644 });
    const first = await runCli(['setup', '--shell', 'bash'], { home });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('');
    expect(first.stderr).toContain('run'); // explains that run is the narrower choice
    const once = readFileSync(join(home, '.bashrc'), 'utf8');
    expect(once.startsWith(original)).toBe(true);
    expect(once.match(/>>> mcp-tokens setup >>>/g)).toHaveLength(1);
    const second = await runCli(['setup', '--shell', 'bash'], { home });
    expect(second.code).toBe(0);
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toBe(once);
    const printed = await runCli(['setup', '--shell', 'bash', '--print'], { home });
    expect(printed.stdout).toContain('eval "$(mcp-tokens load all)"');
    const undo = await runCli(['setup', '--shell', 'bash', '--undo'], { home });
    expect(undo.code).toBe(0);
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toBe(original);
  });

  it('detects the shell from $SHELL and writes fish config', async () => {
    const home = tempHome();
    const r = await runCli(['setup'], { home, env: { SHELL: '/usr/bin/fish' } });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(home, '.config/fish/config.fish'), 'utf8')).toContain('load --format fish all | source');
  });
});

describe('an empty vault is not an error for load all', () => {
  it('load and load all --format json exit 0 (nothing / {}), a named service still exits 3', async () => {
    for (const vault of ['none', 'empty'] as const) {
      const home = tempHome();
      const env = passphraseEnv(home);
      if (vault === 'empty') {
        const init = await runCli(['init', '--kdf', 'interactive'], { home, env });
        expect(init.code, init.stderr).toBe(0);
      }
      const sh = await runCli(['load'], { home, env });
      expect([vault, sh.code, sh.stdout, sh.stderr]).toEqual([vault, 0, '', '']);
      const json = await runCli(['load', 'all', '--format', 'json'], { home, env });
      expect([vault, json.code, json.stdout.trim()]).toEqual([vault, 0, '{}']);
      const named = await runCli(['load', 'github'], { home, env });
      expect([vault, named.code]).toEqual([vault, 3]);
      expect(named.stderr).toContain('No credentials stored for github');
    }
  });

  it.for(['bash', 'zsh'] as const)('%s: with the setup block installed, a new shell on an empty vault prints nothing', async (shell, { skip }) => {
    const sh = requireShell(shell, skip);
    const home = tempHome();
    const bindir = join(home, 'bin');
    mkdirSync(bindir);
    writeFileSync(join(bindir, 'mcp-tokens'), `#!/bin/sh\nexec ${process.execPath} ${BIN} "$@"\n`, { mode: 0o755 });
    const env = cliEnv(home, { ...passphraseEnv(home), PATH: `${bindir}:${process.env['PATH'] ?? '/usr/bin:/bin'}` });
    const setup = await runCli(['setup', '--shell', shell], { home, env });
    expect(setup.code, setup.stderr).toBe(0);
    // An interactive shell reads its rc file (~/.bashrc, ~/.zshrc): the block runs `load all`.
    const r = spawnSync(sh, ['-i', '-c', 'echo ready'], { cwd: home, env, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ready\n');
    expect(r.stderr.replace(/^.*(cannot set terminal process group|no job control).*\n/gm, '')).toBe('');
  });
});
