/**
 * Symlinked configs, .env and rc files (dotfiles managers: ~/.cursor/mcp.json ->
 * ~/dotfiles/cursor-mcp.json), through the built CLI (issue 12). A link is followed only to a
 * regular file of the user's own in a folder other users cannot write; the target is rewritten in
 * place of itself (the link stays a link), both paths are shown in the plan, the result, --history
 * and undo, and undo restores the target byte for byte with its mode. Anything else is listed as
 * left, with the reason and both paths, and nothing of it is read into the vault. A link pointed
 * elsewhere (or a target replaced) between plan and write is refused.
 */
import { chmodSync, chownSync, copyFileSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, spawnCli, tempHome } from '../helpers/cli.js';
import { holdAt } from './race-support.js';

beforeAll(() => ensureBuilt());

/** A file vault with the cheap KDF preset, so each command's unlock stays quick. */
async function init(home: string, env: Record<string, string>): Promise<void> {
  const r = await runCli(['--backend', 'file', 'init', '--kdf', 'interactive'], { home, env });
  expect(r.code, r.stderr).toBe(0);
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? allFiles(join(dir, d.name)) : d.isFile() ? [join(dir, d.name)] : []));
}

function expectNowhere(home: string, secrets: readonly string[]): void {
  for (const f of allFiles(home)) {
    const bytes = readFileSync(f);
    for (const s of secrets) expect(bytes.includes(Buffer.from(s)), `${s.slice(0, 6)}… in ${f}`).toBe(false);
  }
}

const config = (token: string) =>
  `\uFEFF{\r\n  "mcpServers": {\r\n    "github": {\r\n      "command": "npx",\r\n      "args": ["-y", "@modelcontextprotocol/server-github"],\r\n      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${token}" }\r\n    }\r\n  }\r\n}\r\n`;

describe('a symlinked config, .env and rc file of your own', () => {
  const home = tempHome();
  const passEnv = passphraseEnv(home);
  const token = githubClassic();
  const haToken = jwt();
  const wiki = jwt();
  const dotfiles = join(home, 'dotfiles');
  const target = join(dotfiles, 'cursor-mcp.json');
  const link = join(home, '.cursor', 'mcp.json');
  const envTarget = join(dotfiles, 'project.env');
  const envLink = join(home, 'project.env');
  const rcTarget = join(dotfiles, 'bashrc');
  const rcLink = join(home, '.bashrc');
  const extraTarget = join(dotfiles, 'extra-mcp.json');
  const extraLink = join(home, 'extra.json');
  const original = config(token);
  const envOriginal = `# mine\nHA_TOKEN=${haToken}\nHA_URL=http://127.0.0.1:8123\n`;
  const rcOriginal = `alias ll='ls -l'\nexport WIKIJS_TOKEN=${wiki}\n`;

  beforeAll(async () => {
    await init(home, passEnv);
    mkdirSync(dotfiles, { mode: 0o755 });
    mkdirSync(join(home, '.cursor'));
    writeFileSync(target, original);
    chmodSync(target, 0o640);
    writeFileSync(envTarget, envOriginal);
    chmodSync(envTarget, 0o600);
    writeFileSync(rcTarget, rcOriginal);
    chmodSync(rcTarget, 0o644);
    // Relative and absolute links, as dotfiles managers make them.
    symlinkSync('../dotfiles/cursor-mcp.json', link);
    symlinkSync(envTarget, envLink);
    symlinkSync('dotfiles/bashrc', rcLink);
    writeFileSync(extraTarget, config(token), { mode: 0o600 });
    symlinkSync(extraTarget, extraLink);
  });

  it('rewrites the targets (mode, BOM, CRLF kept), leaves the links, and shows both paths', async () => {
    const args = ['migrate', '--env-file', envLink, '--config', extraLink, '--shell-rc'];
    const dry = await runCli([...args, '--dry-run'], { home, env: passEnv });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain(`rewrite  ${link} → ${target} (symbolic link followed`);
    expect(dry.stderr).toContain(`edit     ${envLink} → ${envTarget}`);
    expect(dry.stderr).toContain(`edit     ${rcLink} → ${rcTarget}`);
    expect(dry.stderr).toContain(`rewrite  ${extraLink} → ${extraTarget}`);

    const r = await runCli(args, { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`rewritten +${link} → ${target}`));
    expect(r.stderr).toMatch(new RegExp(`rewritten +${envLink} → ${envTarget}`));
    expect(r.stderr).toMatch(new RegExp(`rewritten +${extraLink} → ${extraTarget}`));
    expect(readlinkSync(extraLink)).toBe(extraTarget);
    expect(statSync(extraTarget).mode & 0o7777).toBe(0o600);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('../dotfiles/cursor-mcp.json');
    expect(readlinkSync(envLink)).toBe(envTarget);
    expect(readlinkSync(rcLink)).toBe('dotfiles/bashrc');
    const text = readFileSync(target, 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
    expect(JSON.parse(text.slice(1)).mcpServers.github.args).toEqual(['run', 'github', '--', 'npx', '-y', '@modelcontextprotocol/server-github']);
    expect(statSync(target).mode & 0o7777).toBe(0o640);
    expect(statSync(envTarget).mode & 0o7777).toBe(0o600);
    expect(readFileSync(rcTarget, 'utf8')).toBe("alias ll='ls -l'\n");
    expectNowhere(home, [token, haToken, wiki]);
    const load = await runCli(['load', 'github', '--format', 'json'], { home, env: passEnv });
    expect(JSON.parse(load.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: token });
  });

  it('a second run is a no-op; --history shows link and target', async () => {
    const before = readFileSync(target);
    const again = await runCli(['migrate', '--env-file', envLink, '--config', extraLink, '--shell-rc'], { home, env: passEnv });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('Nothing to migrate.');
    expect(readFileSync(target).equals(before)).toBe(true);
    const h = await runCli(['migrate', '--history'], { home, env: passEnv });
    expect(h.code, h.stderr).toBe(0);
    expect(h.stderr).toContain(`${link} → ${target}`);
    const j = await runCli(['migrate', '--history', '--json'], { home, env: passEnv });
    const files = (JSON.parse(j.stdout) as { files: { path: string; link?: string }[] }[])[0]!.files;
    expect(files).toContainEqual({ path: target, link, state: 'changed' });
    expect(files).toContainEqual({ path: rcTarget, link: rcLink, state: 'changed' });
  });

  it('--undo restores each target byte for byte with its mode; the links stay links', async () => {
    const u = await runCli(['migrate', '--undo'], { home, env: passEnv });
    expect(u.code, u.stderr).toBe(0);
    expect(u.stderr).toContain(`restored  ${link} → ${target}`);
    expect(readFileSync(target, 'utf8')).toBe(original);
    expect(statSync(target).mode & 0o7777).toBe(0o640);
    expect(readFileSync(envTarget, 'utf8')).toBe(envOriginal);
    expect(statSync(envTarget).mode & 0o7777).toBe(0o600);
    expect(readFileSync(rcTarget, 'utf8')).toBe(rcOriginal);
    expect(statSync(rcTarget).mode & 0o7777).toBe(0o644);
    expect(readFileSync(extraTarget, 'utf8')).toBe(original);
    expect(lstatSync(extraLink).isSymbolicLink()).toBe(true);
    for (const [l, to] of [[link, '../dotfiles/cursor-mcp.json'], [envLink, envTarget], [rcLink, 'dotfiles/bashrc']] as const) {
      expect(lstatSync(l).isSymbolicLink(), l).toBe(true);
      expect(readlinkSync(l)).toBe(to);
    }
  });
});

describe('links that are not followed: listed as left with the reason and both paths', () => {
  const home = tempHome();
  const passEnv = passphraseEnv(home);
  const theirs = githubClassic();
  const loose = githubClassic();

  beforeAll(async () => {
    await init(home, passEnv);
    // Another user's file (uid 65534, nobody), in a folder of theirs.
    const other = join(home, 'other');
    mkdirSync(other, { mode: 0o755 });
    writeFileSync(join(other, 'mcp.json'), config(theirs), { mode: 0o644 });
    chownSync(join(other, 'mcp.json'), 65534, 65534);
    chownSync(other, 65534, 65534);
    mkdirSync(join(home, '.cursor'));
    symlinkSync(join(other, 'mcp.json'), join(home, '.cursor', 'mcp.json'));
    // Your own file, but in a folder everyone can write (not sticky): it could be swapped.
    const shared = join(home, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    writeFileSync(join(shared, 'windsurf.json'), config(loose), { mode: 0o600 });
    mkdirSync(join(home, '.codeium', 'windsurf'), { recursive: true });
    symlinkSync(join(shared, 'windsurf.json'), join(home, '.codeium', 'windsurf', 'mcp_config.json'));
    // Dangling, a loop, a device.
    mkdirSync(join(home, '.config', 'Claude'), { recursive: true });
    symlinkSync(join(home, 'gone.json'), join(home, '.config', 'Claude', 'claude_desktop_config.json'));
    symlinkSync(join(home, 'loop-b'), join(home, 'loop-a'));
    symlinkSync(join(home, 'loop-a'), join(home, 'loop-b'));
    symlinkSync(join(home, 'loop-a'), join(home, '.claude.json'));
    mkdirSync(join(home, '.config', 'Code', 'User'), { recursive: true });
    symlinkSync('/dev/null', join(home, '.config', 'Code', 'User', 'mcp.json'));
  });

  it('each is left with its reason, nothing is read into the vault, nothing is written', async () => {
    const r = await runCli(['migrate', '--dry-run', '--json'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(1);
    const left = (JSON.parse(r.stdout) as { left: { path: string; where: string; reason: string }[] }).left;
    const reason = (rel: string) => left.find((l) => l.path === join(home, rel) && l.where === 'the whole file')?.reason;
    expect(reason('.cursor/mcp.json')).toBe(`is a symbolic link to ${join(home, 'other', 'mcp.json')}, which is owned by another user (uid 65534), not by you; not followed: check it by hand for tokens`);
    expect(reason('.codeium/windsurf/mcp_config.json')).toMatch(new RegExp(`^is a symbolic link to ${join(home, 'shared', 'windsurf.json')}, whose folder ${join(home, 'shared')} other users can write to \\(mode 777\\)`));
    expect(reason('.config/Claude/claude_desktop_config.json')).toBe(`is a dangling symbolic link (to ${join(home, 'gone.json')}, which does not exist); not followed: check it by hand for tokens`);
    expect(reason('.claude.json')).toMatch(/^is a symbolic link \(to .*loop-a\) in a loop of links; not followed/);
    expect(reason('.config/Code/User/mcp.json')).toBe('is a symbolic link to /dev/null, which is not a regular file; not followed: check it by hand for tokens');

    const real = await runCli(['migrate'], { home, env: passEnv });
    expect(real.code, real.stderr).toBe(1);
    expect(real.stderr + real.stdout).not.toContain(theirs);
    expect(real.stderr).toContain(`${join(home, '.cursor', 'mcp.json')}: the whole file`);
    expect(readFileSync(join(home, 'other', 'mcp.json'), 'utf8')).toBe(config(theirs));
    expect(readFileSync(join(home, 'shared', 'windsurf.json'), 'utf8')).toBe(config(loose));
    const load = await runCli(['load', 'github', '--format', 'json'], { home, env: passEnv });
    expect(load.code).not.toBe(0);
  });
});

describe('a link pointed elsewhere, or its target replaced, between plan and write', () => {
  it('is refused and nothing is written', async () => {
    const home = tempHome();
    const passEnv = passphraseEnv(home);
    await init(home, passEnv);
    const token = githubClassic();
    const dotfiles = join(home, 'dotfiles');
    mkdirSync(dotfiles);
    mkdirSync(join(home, '.cursor'));
    const target = join(dotfiles, 'cursor.json');
    writeFileSync(target, config(token), { mode: 0o600 });
    const link = join(home, '.cursor', 'mcp.json');
    symlinkSync(target, link);

    // Pointed at a copy with the very same bytes: only the link's target tells them apart.
    const held = await holdAt(spawnCli, 'before-write', ['migrate'], { home, env: passEnv });
    const copy = join(dotfiles, 'copy.json');
    copyFileSync(target, copy);
    rmSync(link);
    symlinkSync(copy, link);
    const r = await held.release();
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`skipped           ${link} → ${target}: ${link} now leads to ${copy}, not to ${target} as when the plan was made; re-run migrate`);
    expect(readFileSync(target, 'utf8')).toBe(config(token));
    expect(readFileSync(copy, 'utf8')).toBe(config(token));
    expect(readlinkSync(link)).toBe(copy);

    // The target replaced in place by another file with the same bytes (another inode).
    const held2 = await holdAt(spawnCli, 'before-write', ['migrate'], { home, env: passEnv });
    const swap = join(dotfiles, 'swap.json');
    copyFileSync(copy, swap);
    renameSync(swap, copy);
    const r2 = await held2.release();
    expect(r2.code, r2.stderr).toBe(1);
    expect(r2.stderr).toContain(`${link} is a symbolic link to ${copy}, which was replaced by another file since the plan; re-run migrate`);
    expect(readFileSync(copy, 'utf8')).toBe(config(token));
  });
});
