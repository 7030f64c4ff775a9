/**
 * `setup` through the built CLI: two lines of output, and `setup --undo` cleaning every shell's
 * start-up file — not only $SHELL's — restoring the user's files byte for byte and deleting the
 * files setup itself created for the block.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, passphraseEnv, runCli, shimBin, tempHome } from '../helpers/cli.js';

beforeAll(() => ensureBuilt());

const lines = (stderr: string): string[] => stderr.split('\n').filter(Boolean);
/** An installed mcp-tokens on PATH, as the block needs (without it setup warns: test/cli/newcomer.test.ts). */
const installed = (home: string) => ({ PATH: `${shimBin(home)}:${process.env['PATH'] ?? '/usr/bin:/bin'}` });

describe('setup', () => {
  it('says in two lines what it wrote where, and how to use and undo it', async () => {
    const home = tempHome();
    writeFileSync(join(home, '.bashrc'), 'export A=1\n');
    const r = await runCli(['setup', '--shell', 'bash'], { home, env: installed(home) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const out = lines(r.stderr);
    expect(out).toHaveLength(2);
    expect(out[0]).toContain(`Added the mcp-tokens block in ${join(home, '.bashrc')}`);
    expect(out[0]).toContain('mcp-tokens run');
    expect(out[1]).toBe('Open a new shell to use it; undo with: mcp-tokens setup --undo');
    const again = await runCli(['setup', '--shell', 'bash'], { home, env: installed(home) });
    expect(lines(again.stderr)).toEqual([`${join(home, '.bashrc')} already has this block; nothing changed.`]);
  });

  it('on a file vault, the second line says new shells will ask for the passphrase', async () => {
    const home = tempHome();
    expect((await runCli(['init', '--backend', 'file', '--kdf', 'interactive'], { home, env: passphraseEnv(home) })).code).toBe(0);
    const r = await runCli(['setup', '--shell', 'zsh'], { home, env: installed(home) });
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stderr);
    expect(out).toHaveLength(2);
    expect(out[1]).toContain('it will ask for the vault passphrase: see mcp-tokens setup --help');
    const help = await runCli(['setup', '--help'], { home });
    expect(help.stdout).toContain('--passphrase-file PATH');
  });

  it('--undo removes the blocks of every shell, restores the user file exactly, deletes the files it created', async () => {
    const home = tempHome();
    const bashrc = join(home, '.bashrc');
    const zshrc = join(home, '.zshrc');
    const fish = join(home, '.config', 'fish', 'config.fish');
    const original = '# mine\nalias ll="ls -l"'; // no final newline on purpose
    writeFileSync(bashrc, original);
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = await runCli(['setup', '--shell', shell], { home, env: { SHELL: '/bin/bash' } });
      expect(r.code, r.stderr).toBe(0);
    }
    expect(existsSync(zshrc) && existsSync(fish)).toBe(true);

    const undo = await runCli(['setup', '--undo'], { home, env: { SHELL: '/bin/bash' } });
    expect(undo.code, undo.stderr).toBe(0);
    expect(lines(undo.stderr)).toEqual([
      `Removed the mcp-tokens block from ${bashrc}.`,
      `Removed ${zshrc} (setup had created it for the block alone).`,
      `Removed ${fish} (setup had created it for the block alone).`,
    ]);
    expect(readFileSync(bashrc, 'utf8')).toBe(original);
    expect(existsSync(zshrc)).toBe(false);
    expect(existsSync(fish)).toBe(false);

    const again = await runCli(['setup', '--undo'], { home });
    expect(again.code).toBe(0);
    expect(lines(again.stderr)).toEqual([`No mcp-tokens block in ${bashrc}, ${zshrc}, ${fish}; nothing changed.`]);
  });

  it('--undo --shell limits it to that shell; a file the user added to is kept', async () => {
    const home = tempHome();
    const zshrc = join(home, '.zshrc');
    const fish = join(home, '.config', 'fish', 'config.fish');
    for (const shell of ['zsh', 'fish']) expect((await runCli(['setup', '--shell', shell], { home })).code).toBe(0);
    writeFileSync(zshrc, `${readFileSync(zshrc, 'utf8')}bindkey -e\n`);
    const r = await runCli(['setup', '--undo', '--shell', 'zsh'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(zshrc, 'utf8')).toBe('bindkey -e\n');
    expect(readFileSync(fish, 'utf8')).toContain('>>> mcp-tokens setup >>>');
  });

  it('--undo goes on past a damaged file and then fails naming it', async () => {
    const home = tempHome();
    mkdirSync(join(home, '.config', 'fish'), { recursive: true });
    expect((await runCli(['setup', '--shell', 'fish'], { home })).code).toBe(0);
    writeFileSync(join(home, '.bashrc'), '# >>> mcp-tokens setup >>>\nno end marker\n');
    const r = await runCli(['setup', '--undo'], { home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Removed ${join(home, '.config', 'fish', 'config.fish')}`);
    expect(r.stderr).toContain('is damaged');
  });
});
