/**
 * The old shell script's plaintext token files are never a dead end (issue 12): a file with a
 * loose mode is migrated and the exposure reported; a `hass_url` without a scheme gets the exact
 * `store` command that fixes it, and that command works; `store` and `delete` replace a legacy
 * file (its value backed up, encrypted, first) instead of exiting 6; every hint names a command
 * that works; `migrate --undo` puts the old files back at their exact path, byte for byte, with
 * their mode — in a file vault too, where the vault's entry took the file's path. Real file vaults
 * through the built CLI.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { backupValues, openVault, seedVault } from '../cli/support.js';

beforeAll(() => ensureBuilt());

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? allFiles(join(dir, d.name)) : [join(dir, d.name)]));
}

/** Every file under home holding `value` in plaintext. */
function holding(home: string, value: string): string[] {
  return allFiles(home).filter((f) => readFileSync(f).includes(Buffer.from(value)));
}

function write(path: string, content: string, mode: number): void {
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}

describe('migrate: legacy files with a loose mode, a URL without a scheme, and undo in a file vault', () => {
  const home = tempHome();
  const env = passphraseEnv(home);
  const dir = vaultDir(home);
  const gh = githubClassic();
  const ghFile = join(dir, 'github_token');
  const urlFile = join(dir, 'hass_url');
  const cursor = join(home, '.cursor', 'mcp.json');
  const cursorText = `{"mcpServers": {"gh": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${gh}"}}}}\n`;
  let storeCommand: string[] = [];
  let runId = '';

  beforeAll(async () => {
    await seedVault(home, [['wikijs', 'url', 'https://wiki.example.com']]);
    write(ghFile, `${gh}\n`, 0o644); // written by the old script under umask 022
    write(urlFile, 'homeassistant.local:8123\n', 0o600);
    mkdirSync(join(home, '.cursor'));
    write(cursor, cursorText, 0o644);
  });

  it('dry run and real run agree: the 644 file is migrated and its exposure reported, not refused', async () => {
    const dry = await runCli(['migrate', '--dry-run'], { home, env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain(`${ghFile} had mode 644: other users of this machine could read it; treat this token as exposed`);
    expect(readFileSync(ghFile, 'utf8')).toBe(`${gh}\n`);

    const r = await runCli(['migrate'], { home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('had mode 644');
    expect(r.stderr).not.toContain('refusing');
    expect(r.stderr + r.stdout).not.toContain(gh);
    runId = /migrate --undo (\S+)/.exec(r.stderr)![1]!;
    // The vault's sealed entry now sits where the plaintext file was; no file holds the token.
    expect(holding(home, gh)).toEqual([]);
    expect(statSync(ghFile).mode & 0o777).toBe(0o600);
    const vault = await openVault(dir);
    try {
      expect(await vault.get('github', 'token')).toBe(gh);
    } finally {
      vault.close();
    }
    // The URL without a scheme is left, with the exact command that fixes it.
    const m = /mcp-tokens store hass url '([^']+)'/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    storeCommand = ['store', 'hass', 'url', m![1]!];
    expect(storeCommand[3]).toBe('http://homeassistant.local:8123');
  });

  it('the command migrate gave for the URL works: the old file is replaced, its value kept as a backup', async () => {
    const r = await runCli(storeCommand, { home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`replaced the old script's plaintext file ${urlFile}`);
    const vault = await openVault(dir);
    try {
      expect(await vault.get('hass', 'url')).toBe('http://homeassistant.local:8123');
      expect(await backupValues(vault, 'hass', 'url')).toEqual(['homeassistant.local:8123']);
    } finally {
      vault.close();
    }
    expect(holding(home, 'homeassistant.local:8123\n')).toEqual([]);
  });

  it('migrate again is a no-op', async () => {
    const before = readFileSync(cursor);
    const r = await runCli(['migrate'], { home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Nothing to migrate.');
    expect(readFileSync(cursor)).toEqual(before);
  });

  it('--undo puts the old token file back at its path, byte for byte, mode 644, and the config too', async () => {
    const history = await runCli(['migrate', '--history'], { home, env });
    expect(history.stderr).toContain(`${runId}`);
    expect(history.stderr).toMatch(new RegExp(`changed +${ghFile.replace(/[.]/g, '\\.')}`));
    const r = await runCli(['migrate', '--undo'], { home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Undoing migrate run ${runId}`);
    expect(r.stderr).toMatch(new RegExp(`restored +${ghFile.replace(/[.]/g, '\\.')}: in place of the vault's github token entry`));
    expect(readFileSync(ghFile, 'utf8')).toBe(`${gh}\n`);
    expect(statSync(ghFile).mode & 0o777).toBe(0o644);
    expect(readFileSync(cursor, 'utf8')).toBe(cursorText);
    expect(statSync(cursor).mode & 0o777).toBe(0o644);
    // The value the entry held is kept, encrypted, in the backups.
    const vault = await openVault(dir);
    try {
      expect(await backupValues(vault, 'github', 'token')).toContain(gh);
    } finally {
      vault.close();
    }
    // And the whole thing can be migrated again.
    const again = await runCli(['migrate'], { home, env });
    expect(again.code, again.stderr).toBe(0);
    expect(holding(home, gh)).toEqual([]);
  });
});

describe('store and delete replace a legacy plaintext file instead of exiting 6', () => {
  it('load says which commands work; store and delete back the old value up, encrypted, then it is gone', async () => {
    const home = tempHome();
    const env = passphraseEnv(home);
    const dir = await seedVault(home, [['github', 'token', githubClassic()]]);
    const oldPve = 'PVEAPIToken=root@pam!old=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const newPve = 'PVEAPIToken=root@pam!mcp=1a2b3c4d-5e6f-4a5b-8c7d-9e8f7a6b5c4d';
    const oldHa = jwt();
    write(join(dir, 'proxmox_token'), `${oldPve}\n`, 0o644);
    write(join(dir, 'hass_token'), `${oldHa}\n`, 0o600);

    const load = await runCli(['load', 'proxmox'], { home, env });
    expect(load.code).toBe(6);
    expect(load.stderr).toContain('mcp-tokens store proxmox token');
    expect(load.stderr).toContain('mcp-tokens delete proxmox token');
    const doctor = await runCli(['doctor'], { home, env });
    expect(doctor.stderr).toContain('mcp-tokens delete hass token');

    const store = await runCli(['store', 'proxmox', 'token', '-'], { home, env, input: newPve });
    expect(store.code, store.stderr).toBe(0);
    const del = await runCli(['delete', 'hass', 'token'], { home, env });
    expect(del.code, del.stderr).toBe(0);
    expect(del.stderr).toContain('Deleted hass token');
    expect(existsSync(join(dir, 'hass_token'))).toBe(false);
    expect(statSync(join(dir, 'proxmox_token')).mode & 0o777).toBe(0o600);

    const vault = await openVault(dir);
    try {
      expect(await vault.get('proxmox', 'token')).toBe(newPve);
      expect(await backupValues(vault, 'proxmox', 'token')).toEqual([oldPve]);
      expect(await backupValues(vault, 'hass', 'token')).toEqual([oldHa]);
    } finally {
      vault.close();
    }
    for (const v of [oldPve, newPve, oldHa]) expect(holding(home, v)).toEqual([]);
    for (const r of [load, doctor, store, del]) expect(r.stdout + r.stderr).not.toMatch(/0f1e2d3c|1a2b3c4d/);
    const list = await runCli(['list', '--json'], { home, env });
    const rows = (JSON.parse(list.stdout) as { entries: { service: string; key: string; status: string }[] }).entries;
    expect(rows.map((e) => `${e.service}/${e.key}:${e.status}`).sort()).toEqual(['github/token:ok', 'proxmox/token:ok']);
  });
});
