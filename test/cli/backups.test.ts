/**
 * Backups on the binary (DESIGN.md §3, §6): an update backs up the old value first, in
 * backups/{service}_{key}.{YYYYMMDDTHHMMSSmmmZ}.backup, 0600, encrypted; storing the same value
 * again makes none; restore brings the old value back and backs up the current one; prune
 * removes by the timestamp in the name, and only what is older than the cut-off; delete backs up.
 */
import { readdirSync, readFileSync, renameSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { backupValues, openVault, snapshot } from './support.js';

const NAME_RE = /^github_token\.(\d{8}T\d{9}Z)\.backup$/;
const v1 = githubClassic();
const v2 = githubClassic();
let home: string;
let env: Record<string, string>;
let dir: string;
beforeAll(() => {
  ensureBuilt();
  home = tempHome();
  env = passphraseEnv(home);
  dir = vaultDir(home);
});

const backupFiles = () => readdirSync(join(dir, 'backups')).sort();
const stampOf = (d: Date) => d.toISOString().replace(/[-:.]/g, '');

describe('backups, restore, prune', () => {
  it('an update writes one encrypted 0600 backup of the old value, named by the spec', async () => {
    const started = new Date();
    expect((await runCli(['store', 'github', 'token', '-'], { home, env, input: v1 })).code).toBe(0);
    const r = await runCli(['store', 'github', 'token', '-'], { home, env, input: v2 });
    expect(r.code).toBe(0);
    const files = backupFiles();
    expect(files).toHaveLength(1);
    const m = NAME_RE.exec(files[0]!);
    expect(m).not.toBeNull();
    expect(m![1]! >= stampOf(started).slice(0, 15)).toBe(true);
    expect(r.stderr).toContain(`backups/${files[0]}`);
    const snap = snapshot(dir);
    expect(snap['backups']!.mode).toBe('700');
    expect(snap[`backups/${files[0]}`]!.mode).toBe('600');
    const raw = readFileSync(join(dir, 'backups', files[0]!), 'utf8');
    expect(raw).not.toContain(v1);
    expect(raw).not.toContain(v1.slice(4, 20));
    const doc = JSON.parse(raw) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(['alg', 'ct', 'kid', 'nonce', 'v']);
    expect(doc['v']).toBe(2);
    const vault = await openVault(dir);
    try {
      // The backup names the key that sealed it: the vault's current key.
      expect(doc['kid']).toBe((await vault.key()).id);
      expect(await backupValues(vault, 'github', 'token')).toEqual([v1]);
    } finally {
      vault.close();
    }
  });

  it('storing the same value again makes no backup and changes no file', async () => {
    const before = snapshot(dir);
    const r = await runCli(['store', 'github', 'token', '-'], { home, env, input: v2 });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/already holds this value/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('backups --json lists it; restore brings v1 back and backs up v2', async () => {
    const list = await runCli(['backups', '--json'], { home, env });
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ file: string }>).map((b) => b.file)).toEqual(backupFiles());
    const r = await runCli(['restore', 'github', 'token'], { home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(backupFiles()).toHaveLength(2);
    const vault = await openVault(dir);
    try {
      expect(await vault.get('github', 'token')).toBe(v1);
      expect(await backupValues(vault, 'github', 'token')).toEqual([v1, v2]);
    } finally {
      vault.close();
    }
  });

  it('prune --older-than 90d removes only backups whose name is older than 90 days', async () => {
    const [first, second] = backupFiles();
    const day = 86_400_000;
    const old = `github_token.${stampOf(new Date(Date.now() - 200 * day))}.backup`;
    const recent = `github_token.${stampOf(new Date(Date.now() - 89 * day))}.backup`;
    renameSync(join(dir, 'backups', first!), join(dir, 'backups', old));
    renameSync(join(dir, 'backups', second!), join(dir, 'backups', recent));
    // An ancient mtime on the recent one: prune must go by the name, not the mtime.
    utimesSync(join(dir, 'backups', recent), new Date(0), new Date(0));
    const r = await runCli(['prune', '--older-than', '90d'], { home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Removed 1 backup/);
    expect(backupFiles()).toEqual([recent]);
  });

  it('delete backs up the value it removes', async () => {
    const r = await runCli(['delete', 'github', 'token'], { home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir)).not.toContain('github_token');
    const vault = await openVault(dir);
    try {
      expect(await vault.get('github', 'token')).toBeUndefined();
      expect((await backupValues(vault, 'github', 'token')).at(-1)).toBe(v1);
    } finally {
      vault.close();
    }
    const load = await runCli(['load', 'github'], { home, env });
    expect(load.code).toBe(3);
  });
});

describe("migrate's file backups (backups/files) in backups and prune", () => {
  it('are listed by run and file, and pruned by age except the newest run, which migrate --undo still reads', async () => {
    const h = tempHome();
    const e = passphraseEnv(h);
    const d = vaultDir(h);
    expect((await runCli(['store', 'github', 'token', '-'], { home: h, env: e, input: githubClassic() })).code).toBe(0);
    const { vaultMigrationTarget } = await import('../../src/vault/migration-target.js');
    const day = 86_400_000;
    const run = (daysAgo: number, tag: string) => `${stampOf(new Date(Date.now() - daysAgo * day))}-${tag}`;
    const oldRun = run(200, 'aaaaaa');
    const newestRun = run(150, 'bbbbbb'); // older than the cut-off too, but the newest run: kept
    const vault = await openVault(d);
    const ids: Record<string, string[]> = { [oldRun]: [], [newestRun]: [] };
    try {
      const target = vaultMigrationTarget(vault);
      for (const runId of [oldRun, newestRun]) {
        for (const path of ['/x/claude.json', '/x/cursor.json']) {
          ids[runId]!.push(await target.saveFileBackup({ runId, path, mode: 0o600, after: null }, new TextEncoder().encode(`{"config":"${runId}"}`)));
        }
      }
    } finally {
      vault.close();
    }
    const list = await runCli(['backups'], { home: h, env: {} });
    expect(list.code, list.stderr).toBe(0);
    for (const id of [...ids[oldRun]!, ...ids[newestRun]!]) expect(list.stdout).toContain(`files/${id}`);
    expect(list.stdout).toContain(oldRun);
    const asJson = JSON.parse((await runCli(['backups', '--json'], { home: h, env: {} })).stdout) as Array<{ kind?: string; run?: string; file: string }>;
    expect(asJson.filter((r) => r.kind === 'file').map((r) => r.run)).toEqual([oldRun, oldRun, newestRun, newestRun]);

    const before = await runCli(['prune', '--older-than', '1s'], { home: h, env: e });
    expect(before.code, before.stderr).toBe(0);
    expect(before.stderr).toMatch(/Removed 2 file backups of migrate \(1 run\)/);
    expect(readdirSync(join(d, 'backups', 'files')).sort()).toEqual([...ids[newestRun]!].sort());
    // The kept run is whole and still opens.
    const again = await openVault(d);
    try {
      const files = await vaultMigrationTarget(again).listFileBackups();
      expect(files.map((f) => f.runId)).toEqual([newestRun, newestRun]);
    } finally {
      again.close();
    }
    const none = await runCli(['prune', '--older-than', '1s'], { home: h, env: e });
    expect(none.stderr).toMatch(/No backups older than 1s/);
  });
});
