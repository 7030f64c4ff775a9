/**
 * kill -9 in the middle of `store` (DESIGN.md §6). Each round stores a new value into a vault
 * that already has backups and SIGKILLs the CLI at a different point: as soon as it takes the
 * lock, when its backup temp file appears, when the entry's or metadata's temp file appears, or
 * after a random delay (start-up, KDF). After every round the entry holds the old or the new
 * value, every earlier backup is still there byte-for-byte and decrypts, and every backup holds
 * a value that was really stored. Then the next store cleans stray temp files and is not
 * blocked by a lock left by a dead process.
 */
import { watch, readdirSync, readFileSync, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vault } from '../../src/vault/vault.js';
import { collect, ensureBuilt, githubClassic, passphraseEnv, runCli, spawnCli, tempHome, vaultDir } from '../helpers/cli.js';
import { backupValues, openVault, seedVault } from './support.js';

type Trigger = 'lock' | 'backup temp' | 'entry temp' | 'metadata temp' | 'delay';
const TRIGGERS: Trigger[] = ['lock', 'backup temp', 'entry temp', 'metadata temp', 'delay'];
const ROUNDS = 15;

let home: string;
let dir: string;
let env: Record<string, string>;
let vault: Vault;
const stored: string[] = [];
beforeAll(async () => {
  ensureBuilt();
  home = tempHome();
  env = passphraseEnv(home);
  stored.push(githubClassic(), githubClassic());
  dir = await seedVault(home, [['github', 'token', stored[0]!], ['github', 'token', stored[1]!]]);
  vault = await openVault(dir); // reads the files afresh on every get: one KDF for the whole suite
});
afterAll(() => vault?.close());

/** Fires once when a file whose name matches appears in one of dirs. */
function onCreate(dirs: string[], match: (name: string) => boolean, fire: () => void): FSWatcher[] {
  let done = false;
  return dirs.map((d) =>
    watch(d, (_event, name) => {
      if (!done && name && match(name)) {
        done = true;
        fire();
      }
    }),
  );
}

const backupSnapshot = () => Object.fromEntries(readdirSync(join(dir, 'backups')).filter((f) => f.endsWith('.backup')).map((f) => [f, readFileSync(join(dir, 'backups', f), 'utf8')]));

describe('kill -9 during store', () => {
  it(`${ROUNDS} rounds at different points: old or new value readable, backups intact`, async () => {
    let current = stored[1]!;
    const outcomes: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const trigger = TRIGGERS[i % TRIGGERS.length]!;
      const value = githubClassic();
      stored.push(value);
      const backupsBefore = backupSnapshot();
      const child = spawnCli(['store', 'github', 'token', '-'], { home, env });
      const kill = () => setTimeout(() => child.kill('SIGKILL'), trigger === 'lock' ? Math.floor(Math.random() * 4) : 0);
      const match: Record<Trigger, (n: string) => boolean> = {
        lock: (n) => n === '.lock',
        'backup temp': (n) => n.startsWith('.tmp-github_token.'),
        'entry temp': (n) => n.startsWith('.tmp-github_token-'),
        'metadata temp': (n) => n.startsWith('.tmp-metadata.json'),
        delay: () => false,
      };
      const watchers = onCreate([dir, join(dir, 'backups')], match[trigger], kill);
      const timer = trigger === 'delay' ? setTimeout(() => child.kill('SIGKILL'), 50 + Math.random() * 500) : undefined;
      const r = await collect(child, { input: value });
      clearTimeout(timer);
      for (const w of watchers) w.close();
      outcomes.push(`${trigger}: ${r.signal ?? `exit ${r.code}`}`);
      if (r.signal === null) expect(r.code, r.stderr).toBe(0);

      const now = await vault.get('github', 'token');
      expect([current, value], `round ${i} (${trigger})`).toContain(now);
      current = now!;
      const backupsAfter = backupSnapshot();
      for (const [f, text] of Object.entries(backupsBefore)) expect(backupsAfter[f], `backup ${f} after round ${i}`).toBe(text);
      for (const v of await backupValues(vault, 'github', 'token')) expect(stored).toContain(v);
    }
    // At least some rounds must really have been cut short, or this test proved nothing.
    expect(outcomes.filter((o) => o.endsWith('SIGKILL')).length, outcomes.join('\n')).toBeGreaterThanOrEqual(5);
  });

  it('the next store cleans stray temp files, ignores a stale lock of a dead process, and works', async () => {
    const dead = await deadPid();
    writeFileSync(join(dir, '.lock'), `${dead} ${Date.now()} feedbeef\n`, { mode: 0o600 });
    writeFileSync(join(dir, `.tmp-github_token-${dead}-0123456789ab`), 'half a write', { mode: 0o600 });
    writeFileSync(join(dir, 'backups', `.tmp-github_token.x.backup-${dead}-0123456789ab`), 'half', { mode: 0o600 });
    const live = `.tmp-hass_url-${process.pid}-0123456789ab`; // a write still in progress elsewhere: kept
    writeFileSync(join(dir, live), 'in progress', { mode: 0o600 });
    const value = githubClassic();
    // The dead process's lock has a fresh mtime: a store that judged it live would wait out this
    // timeout and fail with LOCKED (exit 1) — exit 0 is the proof it was broken, not waited out.
    // (No wall-clock bound: the store runs Argon2id, seconds on a loaded machine.)
    const r = await runCli(['store', 'github', 'token', '-'], { home, env: { ...env, MCP_TOKENS_LOCK_TIMEOUT_MS: '10000' }, input: value });
    expect(r.code, r.stderr).toBe(0);
    expect(await vault.get('github', 'token')).toBe(value);
    expect(readdirSync(dir).filter((f) => f.startsWith('.tmp-') || f.startsWith('.lock'))).toEqual([live]);
    expect(readdirSync(join(dir, 'backups')).filter((f) => !f.endsWith('.backup'))).toEqual([]);
    for (const v of await backupValues(vault, 'github', 'token')) expect(stored).toContain(v);
  });
});

/** The pid of a process that has exited (so no live process owns it now). */
async function deadPid(): Promise<number> {
  const child = spawnCli(['--version'], { home: tempHome() });
  const pid = child.pid!;
  await collect(child);
  return pid;
}
