/**
 * Symlinks are refused, never followed (DESIGN.md §3): in place of the vault directory, an
 * entry, vault.json, backups/ or a backup, every command exits 1 naming the link, and the
 * link's target is left exactly as it was — a write never lands there. A legacy plaintext token
 * file (the seed's layout) is never read as a credential: `load` points to `mcp-tokens migrate`
 * and `list` marks it, without printing its value.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { cloneVault, seedVault, snapshot } from './support.js';

const token = githubClassic();
let base: string;
beforeAll(async () => {
  ensureBuilt();
  base = tempHome();
  await seedVault(base, [
    ['github', 'token', githubClassic()],
    ['github', 'token', token],
  ]);
});

/** Replace vault-relative `rel` by a link to a copy of it outside the vault; returns the outside root. */
function linkOut(dir: string, rel: string, keepTarget = true): { outside: string; target: string } {
  const outside = tempHome('mcpt-outside-');
  const target = join(outside, 'target');
  if (keepTarget) renameSync(join(dir, rel), target);
  else unlinkSync(join(dir, rel));
  symlinkSync(target, join(dir, rel));
  return { outside, target };
}

const cases: Array<[string, string, string[], boolean]> = [
  ['an entry', 'github_token', ['load', 'github'], true],
  ['an entry (store over it)', 'github_token', ['store', 'github', 'token', '-'], true],
  ['an entry (delete)', 'github_token', ['delete', 'github', 'token'], true],
  ['a dangling entry link (store must not create the target)', 'github_token', ['store', 'github', 'token', '-'], false],
  ['vault.json', 'vault.json', ['load', 'github'], true],
  ['backups/ (store writes a backup)', 'backups', ['store', 'github', 'token', '-'], true],
  ['backups/ (listing)', 'backups', ['backups'], true],
  ['a backup (restore)', '@backup', ['restore', 'github', 'token'], true],
];

describe.concurrent('symlinks are refused and never followed', () => {
  it.each(cases)('%s → exit 1, the target untouched', async (_label, rel0, args, keep) => {
    const home = cloneVault(base);
    const dir = vaultDir(home);
    const rel = rel0 === '@backup' ? join('backups', readdirSync(join(dir, 'backups'))[0]!) : rel0;
    const { outside, target } = linkOut(dir, rel, keep);
    const outsideBefore = snapshot(outside);
    const r = await runCli(args, { home, env: passphraseEnv(tempHome()), input: githubClassic() });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(join(dir, rel));
    expect(r.stderr).toMatch(/symbolic link/);
    expect(r.stderr).not.toContain(token);
    expect(snapshot(outside)).toEqual(outsideBefore);
    if (!keep) expect(existsSync(target)).toBe(false);
  });

  it('the vault directory itself → exit 1 for reads and writes; the real directory untouched', async () => {
    const home = cloneVault(base);
    const real = join(tempHome('mcpt-outside-'), 'real');
    renameSync(vaultDir(home), real);
    symlinkSync(real, vaultDir(home));
    const before = snapshot(real);
    for (const args of [['load', 'github'], ['store', 'github', 'token', '-'], ['list']]) {
      const r = await runCli(args, { home, env: passphraseEnv(tempHome()), input: githubClassic() });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(`refusing to use ${vaultDir(home)}: it is a symbolic link`);
    }
    expect(snapshot(real)).toEqual(before);
  });
});

describe('legacy plaintext token files', () => {
  const legacy = githubClassic();

  it('in the seed layout (no vault yet): load points to migrate, list marks the file, nothing printed or written', async () => {
    const home = tempHome();
    const dir = vaultDir(home);
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'github_token'), `${legacy}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'hass_url'), 'http://hass.local:8123\n', { mode: 0o600 });
    const before = snapshot(home);
    const env = passphraseEnv(tempHome());
    const load = await runCli(['load', 'github'], { home, env });
    expect([3, 6]).toContain(load.code);
    expect(load.stdout).toBe('');
    expect(load.stderr).toContain('mcp-tokens migrate');
    const list = await runCli(['list'], { home, env });
    expect(list.stderr).toContain('github_token');
    expect(list.stderr).toContain('mcp-tokens migrate');
    const json = await runCli(['list', '--json'], { home, env });
    expect((JSON.parse(json.stdout) as { legacyPlaintext?: string[] }).legacyPlaintext).toEqual(['github_token', 'hass_url']);
    for (const r of [load, list, json]) expect(r.stdout + r.stderr).not.toContain(legacy);
    expect(snapshot(home)).toEqual(before);
  });

  it('among encrypted entries: load exits 6 pointing to migrate; list shows it as plaintext', async () => {
    const home = cloneVault(base);
    const dir = vaultDir(home);
    copyFileSync(join(dir, 'github_token'), join(dir, 'hass_url')); // a sealed entry, in the wrong place
    writeFileSync(join(dir, 'proxmox_token'), `PVEAPIToken=root@pam!old=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n`, { mode: 0o600 });
    const env = passphraseEnv(tempHome());
    const before = snapshot(home);
    const load = await runCli(['load', 'proxmox'], { home, env });
    expect(load.code).toBe(6);
    expect(load.stdout).toBe('');
    expect(load.stderr).toContain('mcp-tokens migrate');
    const list = await runCli(['list', '--json'], { home, env });
    expect(list.code).toBe(0);
    const rows = (JSON.parse(list.stdout) as { entries: Array<{ service: string; key: string; status: string; value: string }> }).entries;
    expect(rows.find((e) => e.service === 'proxmox')).toMatchObject({ status: 'plaintext', value: '' });
    expect(rows.find((e) => e.service === 'hass')).toMatchObject({ status: 'damaged', value: '' });
    expect(rows.find((e) => e.service === 'github')).toMatchObject({ status: 'ok' });
    for (const r of [load, list]) expect(r.stdout + r.stderr).not.toContain('0f1e2d3c-4b5a');
    expect(snapshot(home)).toEqual(before);
  });
});
