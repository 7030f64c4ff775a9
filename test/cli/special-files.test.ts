/**
 * No hangs on special files (issue 10): a FIFO in place of vault.json, metadata.json, the lock,
 * an entry, a backup or the passphrase file used to block every command in open(2) forever
 * (`run` hung its MCP client). Now each command exits promptly and names the path. Every run has
 * its own kill timer, so a hang fails the test instead of hanging CI.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, vaultDir, writePassphraseFile } from '../helpers/cli.js';
import { cloneVault, seedVault } from './support.js';

let base: string;
beforeAll(async () => {
  ensureBuilt();
  base = tempHome();
  await seedVault(base, [
    ['github', 'token', githubClassic()],
    ['github', 'token', githubClassic()],
  ]);
});

const HANG_MS = 20_000;
type Place = 'vault.json' | 'metadata.json' | '.lock' | 'github_token' | '@backup' | '@passphrase';

const commands: Record<string, string[]> = {
  store: ['store', 'github', 'token', '-'],
  load: ['load', 'github'],
  list: ['list'],
  run: ['run', 'github', '--', 'true'],
  doctor: ['doctor'],
  'doctor --fix': ['doctor', '--fix'],
  backups: ['backups'],
  restore: ['restore', 'github', 'token'],
  'verify --offline': ['verify', '--offline', 'github'],
};

/**
 * Which commands must refuse, for each place a FIFO sits in. Two may succeed but must not hang:
 * `store` with a FIFO for metadata.json stores the credential and warns, naming it; `backups`
 * lists names only and never opens a backup.
 */
const mayPass = new Set(['metadata.json store', '@backup backups']);
const matrix: Array<[Place, string[]]> = [
  ['vault.json', ['store', 'load', 'list', 'run', 'doctor', 'doctor --fix', 'backups', 'restore', 'verify --offline']],
  ['metadata.json', ['store', 'list', 'doctor', 'doctor --fix']],
  ['.lock', ['store', 'restore', 'doctor', 'doctor --fix']],
  ['github_token', ['store', 'load', 'run', 'verify --offline', 'doctor', 'doctor --fix']],
  ['@backup', ['backups', 'restore', 'doctor', 'doctor --fix']],
  ['@passphrase', ['store', 'load', 'run', 'restore', 'doctor']],
];

const cases = matrix.flatMap(([place, cmds]) => cmds.map((c) => [place, c] as const));

describe.concurrent('a FIFO where a file belongs', () => {
  it.each(cases)('in place of %s: `%s` exits promptly with an error naming it', async (place, cmd) => {
    const home = cloneVault(base);
    const dir = vaultDir(home);
    const env = passphraseEnv(home);
    let path: string;
    if (place === '@passphrase') {
      path = join(home, 'fifo-passphrase');
      env['MCP_TOKENS_PASSPHRASE_FILE'] = path;
    } else if (place === '@backup') {
      path = join(dir, 'backups', readdirSync(join(dir, 'backups')).find((f) => f.endsWith('.backup'))!);
    } else path = join(dir, place);
    if (place !== '@passphrase' && place !== '.lock') renameSync(path, `${path}.orig`);
    expect(spawnSync('mkfifo', ['-m', '600', path]).status).toBe(0);

    const started = Date.now();
    const r = await runCli(commands[cmd]!, { home, env, input: githubClassic(), timeoutMs: HANG_MS });
    expect(r.signal, `${cmd} hung on a FIFO at ${place}`).toBeNull();
    expect(Date.now() - started).toBeLessThan(HANG_MS);
    if (mayPass.has(`${place} ${cmd}`)) {
      if (cmd === 'store') expect(r.stderr).toContain(path);
      return;
    }
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(path);
    expect(r.stdout + r.stderr).toMatch(/FIFO/);
    // A passphrase source problem is a passphrase problem.
    if (place === '@passphrase' && cmd !== 'doctor') expect(r.code).toBe(4);
  });
});

describe('doctor reports special files', () => {
  it('a FIFO for metadata.json is named with what it is', async () => {
    const home = cloneVault(base);
    const dir = vaultDir(home);
    const pp = writePassphraseFile(home);
    renameSync(join(dir, 'metadata.json'), join(dir, 'metadata.orig'));
    spawnSync('mkfifo', ['-m', '600', join(dir, 'metadata.json')]);
    const r = await runCli(['doctor'], { home, env: { MCP_TOKENS_PASSPHRASE_FILE: pp }, timeoutMs: HANG_MS });
    expect(r.signal).toBeNull();
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(`${join(dir, 'metadata.json')}`);
    expect(r.stdout + r.stderr).toMatch(/a FIFO where a regular file belongs/);
  });
});

describe('the passphrase file (issue 14)', () => {
  it('mode 644: commands exit 4 pointing at doctor --fix; doctor reports it, --fix makes it 0600, then it works', async () => {
    const home = cloneVault(base);
    const pp = writePassphraseFile(home);
    chmodSync(pp, 0o644);
    const env = { MCP_TOKENS_PASSPHRASE_FILE: pp };
    const load = await runCli(['load', 'github'], { home, env });
    expect(load.code, load.stderr).toBe(4);
    expect(load.stderr).toContain(pp);
    expect(load.stderr).toContain('doctor --fix');

    const check = await runCli(['doctor'], { home, env });
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(new RegExp(`mode 644 lets other users in: ${pp}`));
    const fix = await runCli(['doctor', '--fix'], { home, env });
    expect(fix.code, fix.stderr).toBe(0);
    expect(statSync(pp).mode & 0o777).toBe(0o600);
    expect(fix.stderr).toContain('the passphrase file (MCP_TOKENS_PASSPHRASE_FILE) opens the vault');
    expect((await runCli(['load', 'github'], { home, env })).code).toBe(0);
  });

  it('doctor says when the passphrase file does not open the vault, and when it is a link', async () => {
    const home = cloneVault(base);
    const wrong = writePassphraseFile(home, 'not the passphrase at all');
    const r = await runCli(['doctor'], { home, env: { MCP_TOKENS_PASSPHRASE_FILE: wrong } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`does not open this vault: ${wrong}`);
    const link = join(home, 'pp-link');
    symlinkSync(writePassphraseFile(home, undefined, 'real'), link);
    const l = await runCli(['doctor'], { home, env: { MCP_TOKENS_PASSPHRASE_FILE: link } });
    expect(l.code).toBe(1);
    expect(l.stderr).toContain(`symbolic link`);
    expect(l.stderr).toContain(link);
  });

  it('passwd with no terminal names the variable it is missing: MCP_TOKENS_NEW_PASSPHRASE_FILE', async () => {
    const home = cloneVault(base);
    const r = await runCli(['passwd'], { home, env: passphraseEnv(home) });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('MCP_TOKENS_NEW_PASSPHRASE_FILE');
  });
});
