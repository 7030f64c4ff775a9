import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../src/errors.js';
import { formatExports } from '../../src/launch/format.js';
import { CREATED_NOTE, insertBlock, markCreated, removeBlocks } from '../../src/launch/rcblock.js';
import {
  applySetup,
  BLOCK_BEGIN,
  BLOCK_END,
  detectShell,
  rcPathFor,
  renderSetupBlock,
  undoSetup,
} from '../../src/launch/setup.js';
import { requireShell } from '../helpers/shells.js';
import { runShell, tempDir } from './helpers.js';

const EXISTING: Array<[string, string]> = [
  ['an empty file', ''],
  ['content with a final newline', 'alias ll="ls -l"\nexport EDITOR=vim\n'],
  ['content without a final newline', 'alias ll="ls -l"\nexport EDITOR=vim'],
  ['a lone newline', '\n'],
  ['trailing blank lines', 'set -o vi\n\n\n'],
  ['CRLF line endings', 'a=1\r\nb=2\r\n'],
  ['CRLF without a final newline', 'a=1\r\nb=2'],
  ['unicode', '# ünïcødé 🔑\nPS1="λ "\n'],
];

describe('insertBlock / removeBlocks (text)', () => {
  const block = renderSetupBlock('bash');

  it.each(EXISTING)('%s: add, add again (no change), remove → identical', (_label, original) => {
    const added = insertBlock(original, block);
    expect(added.action).toBe('added');
    expect(added.content.startsWith(original)).toBe(true);
    expect(added.content.split(BLOCK_BEGIN).length).toBe(2);
    const again = insertBlock(added.content, block);
    expect(again).toEqual({ content: added.content, action: 'unchanged' });
    expect(removeBlocks(added.content)).toEqual({ content: original, removed: 1, created: false });
  });

  it.each(EXISTING)('%s: a changed block is updated in place and still undoes exactly', (_label, original) => {
    const first = insertBlock(original, block).content;
    const updated = insertBlock(first, renderSetupBlock('bash', { services: ['github', 'hass'] }));
    expect(updated.action).toBe('updated');
    expect(updated.content.split(BLOCK_BEGIN).length).toBe(2);
    expect(updated.content).toContain('load github');
    expect(removeBlocks(updated.content).content).toBe(original);
  });

  it('lines the user added after the block survive undo', () => {
    const withBlock = insertBlock('a\n', block).content + 'b\n';
    expect(removeBlocks(withBlock).content).toBe('a\nb\n');
  });

  it('a damaged block (begin without end) is refused, not guessed at', () => {
    const damaged = `x\n${BLOCK_BEGIN}\neval stuff\n`;
    expect(() => insertBlock(damaged, block)).toThrow(/damaged/);
    expect(() => removeBlocks(damaged)).toThrow(/damaged/);
    expect(() => removeBlocks(`${BLOCK_END}\n`)).toThrow(/damaged/);
  });

  it('two blocks: setup refuses, undo removes both', () => {
    const two = `a\n${block}b\n${block}`;
    expect(() => insertBlock(two, block)).toThrow(/2 mcp-tokens setup blocks/);
    expect(removeBlocks(two)).toEqual({ content: 'a\nb\n', removed: 2, created: false });
  });

  it('a marker only mentioned inside a line is not a marker', () => {
    const text = `echo "${BLOCK_BEGIN}"\n`;
    expect(removeBlocks(text)).toEqual({ content: text, removed: 0, created: false });
  });
});

describe('applySetup / undoSetup (files)', () => {
  it.each(EXISTING)('%s on disk: idempotent, mode kept, exact undo', async (_label, original) => {
    const dir = tempDir();
    const rc = join(dir, '.bashrc');
    writeFileSync(rc, original);
    chmodSync(rc, 0o640);
    const block = renderSetupBlock('bash');

    expect((await applySetup(rc, block)).action).toBe('added');
    const once = readFileSync(rc);
    const mtime = statSync(rc).mtimeMs;
    expect(statSync(rc).mode & 0o7777).toBe(0o640);
    expect((await applySetup(rc, block)).action).toBe('unchanged');
    expect(readFileSync(rc).equals(once)).toBe(true);
    expect(statSync(rc).mtimeMs).toBe(mtime); // unchanged means not rewritten

    expect((await undoSetup(rc)).action).toBe('removed');
    expect(readFileSync(rc).equals(Buffer.from(original, 'utf8'))).toBe(true);
    expect(statSync(rc).mode & 0o7777).toBe(0o640);
    expect((await undoSetup(rc)).action).toBe('absent');
    expect(readdirSync(dir)).toEqual(['.bashrc']); // no temp file left behind
  });

  it('bytes that are not valid UTF-8 survive apply and undo', async () => {
    const rc = join(tempDir(), '.zshrc');
    const original = Buffer.from([0x23, 0x20, 0xff, 0xfe, 0xc3, 0x0a, 0x80, 0x41]); // "# \xff\xfe\xc3\n\x80A"
    writeFileSync(rc, original);
    await applySetup(rc, renderSetupBlock('zsh', { command: '/opt/ünï/mcp-tokens' }));
    expect(readFileSync(rc, 'utf8')).toContain("'/opt/ünï/mcp-tokens'");
    await undoSetup(rc);
    expect(readFileSync(rc).equals(original)).toBe(true);
  });

  it('a missing fish config is created with its directories', async () => {
    const home = tempDir();
    const rc = rcPathFor('fish', {}, home);
    expect(rc).toBe(join(home, '.config', 'fish', 'config.fish'));
    expect((await applySetup(rc, renderSetupBlock('fish'))).action).toBe('added');
    expect(readFileSync(rc, 'utf8')).toBe(markCreated(renderSetupBlock('fish')));
    expect((await undoSetup(rc)).action).toBe('deleted'); // setup made it, nothing else is in it
    expect(existsSync(rc)).toBe(false);
  });

  it('a created file keeps its mark when the block is refreshed, and is kept when the user added to it', async () => {
    const rc = join(tempDir(), '.zshrc');
    await applySetup(rc, renderSetupBlock('zsh'));
    expect((await applySetup(rc, renderSetupBlock('zsh', { services: ['github'] }))).action).toBe('updated');
    expect(readFileSync(rc, 'utf8')).toBe(markCreated(renderSetupBlock('zsh', { services: ['github'] })));
    writeFileSync(rc, `${readFileSync(rc, 'utf8')}alias g=git\n`);
    expect((await undoSetup(rc)).action).toBe('removed');
    expect(readFileSync(rc, 'utf8')).toBe('alias g=git\n');
  });

  it('a file the user had is never deleted, even when the block was all it held', async () => {
    const dir = tempDir();
    for (const [name, original] of [['.bashrc', ''], ['.zshrc', '\n']] as const) {
      const rc = join(dir, name);
      writeFileSync(rc, original);
      await applySetup(rc, renderSetupBlock('bash'));
      expect(readFileSync(rc, 'utf8')).not.toContain(CREATED_NOTE);
      expect((await undoSetup(rc)).action).toBe('removed');
      expect(readFileSync(rc, 'utf8')).toBe(original);
    }
  });

  it('a created file reached through a link is emptied, not deleted', async () => {
    const dir = tempDir();
    const rc = join(dir, '.bashrc');
    await applySetup(rc, renderSetupBlock('bash'));
    mkdirSync(join(dir, 'dotfiles'));
    renameSync(rc, join(dir, 'dotfiles', 'bashrc'));
    symlinkSync('dotfiles/bashrc', rc);
    expect((await undoSetup(rc)).action).toBe('removed');
    expect(readFileSync(join(dir, 'dotfiles', 'bashrc'), 'utf8')).toBe('');
  });

  it('a symlinked rc file: the target is edited, the link stays a link', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'dotfiles'));
    const target = join(dir, 'dotfiles', 'bashrc');
    writeFileSync(target, 'export A=1');
    const rc = join(dir, '.bashrc');
    symlinkSync('dotfiles/bashrc', rc);

    const r = await applySetup(rc, renderSetupBlock('bash'));
    expect(r).toMatchObject({ action: 'added', viaSymlink: true, target });
    expect(lstatSync(rc).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toContain(BLOCK_BEGIN);
    await undoSetup(rc);
    expect(lstatSync(rc).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('export A=1');
  });

  it('a dangling symlink is refused and nothing is created', async () => {
    const dir = tempDir();
    const rc = join(dir, '.bashrc');
    symlinkSync('nowhere/bashrc', rc);
    await expect(applySetup(rc, renderSetupBlock('bash'))).rejects.toThrow(/does not exist/);
    expect(readdirSync(dir)).toEqual(['.bashrc']);
  });

  // Root ignores directory permissions, so this can only be shown as an ordinary user.
  it.skipIf(process.getuid?.() === 0)('an unwritable directory fails cleanly and leaves the file as it was', async () => {
    const dir = tempDir();
    const rc = join(dir, '.bashrc');
    writeFileSync(rc, 'keep me\n');
    chmodSync(dir, 0o500);
    try {
      const e = await applySetup(rc, renderSetupBlock('bash')).catch((x: unknown) => x);
      expect(isVaultError(e, 'IO')).toBe(true);
      expect(readFileSync(rc, 'utf8')).toBe('keep me\n');
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});

describe('the block runs in real shells', () => {
  /** A fake mcp-tokens: logs its arguments and the passphrase-file variable, prints prepared output. */
  function fakeCli(dir: string): string {
    const bin = join(dir, "bin dir with 'quote");
    mkdirSync(bin);
    const value = `$(touch pwned) 'quoted' \\ "dq"`;
    writeFileSync(join(bin, 'out.sh'), formatExports([['GITHUB_PERSONAL_ACCESS_TOKEN', value]], 'sh'));
    writeFileSync(join(bin, 'out.fish'), formatExports([['GITHUB_PERSONAL_ACCESS_TOKEN', value]], 'fish'));
    const fake = join(bin, 'mcp-tokens');
    writeFileSync(
      fake,
      `#!/bin/sh
printf '%s\\n' "args: $*" "pwfile: \${MCP_TOKENS_PASSPHRASE_FILE:-unset}" >> "$(dirname "$0")/log"
case "$*" in *fish*) cat "$(dirname "$0")/out.fish" ;; *) cat "$(dirname "$0")/out.sh" ;; esac
`,
    );
    chmodSync(fake, 0o755);
    return fake;
  }

  it.for(['bash', 'zsh', 'fish'] as const)('%s: loads through an absolute, quoted command path', (shell, { skip }) => {
    requireShell(shell, skip);
    const dir = tempDir();
    const fake = fakeCli(dir);
    const block = renderSetupBlock(shell, { command: fake, passphraseFile: "/run/pw file's" });
    writeFileSync(join(dir, 'rc'), block);
    const check =
      shell === 'fish'
        ? `source rc\nprintf '%s' "$GITHUB_PERSONAL_ACCESS_TOKEN" > result\nset -q MCP_TOKENS_PASSPHRASE_FILE; and echo leaked\ntrue\n`
        : `. ./rc\nprintf '%s' "$GITHUB_PERSONAL_ACCESS_TOKEN" > result\n[ -n "\${MCP_TOKENS_PASSPHRASE_FILE+x}" ] && echo leaked\ntrue\n`;
    if (shell === 'fish') {
      // config.fish is read by fish scripts too; the block acts only in interactive shells.
      expect(runShell('fish', check, dir).status).toBe(0);
      expect(readFileSync(join(dir, 'result'), 'utf8')).toBe('');
    }
    const r = runShell(shell, check, dir, {}, { interactive: shell === 'fish' });
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('leaked');
    expect(readFileSync(join(dir, 'result'), 'utf8')).toBe(`$(touch pwned) 'quoted' \\ "dq"`);
    const log = readFileSync(join(dir, "bin dir with 'quote", 'log'), 'utf8');
    expect(log).toContain("pwfile: /run/pw file's");
    expect(log).toContain(shell === 'fish' ? 'args: load --format fish all' : 'args: load all');
    expect(readdirSync(dir)).not.toContain('pwned');
  });
});

describe('shell detection, paths and notes', () => {
  it.each([
    ['/bin/bash', 'bash'],
    ['/usr/bin/zsh', 'zsh'],
    ['/usr/local/bin/fish', 'fish'],
    ['/bin/dash', undefined],
    [undefined, undefined],
  ])('$SHELL=%s → %s', (shell, expected) => {
    expect(detectShell(shell)).toBe(expected);
  });

  it('rc paths honour ZDOTDIR and XDG_CONFIG_HOME', () => {
    expect(rcPathFor('bash', {}, '/h')).toBe('/h/.bashrc');
    expect(rcPathFor('zsh', {}, '/h')).toBe('/h/.zshrc');
    expect(rcPathFor('zsh', { ZDOTDIR: '/z' }, '/h')).toBe('/z/.zshrc');
    expect(rcPathFor('fish', { XDG_CONFIG_HOME: '/x' }, '/h')).toBe('/x/fish/config.fish');
  });

  it('refuses a service name that could inject shell code', () => {
    expect(() => renderSetupBlock('bash', { services: ['x; rm -rf ~'] })).toThrow(/Invalid service name/);
  });
});
