/**
 * Modes (DESIGN.md §3): under `umask 000` the CLI still creates the directory 0700 and every
 * file 0600. Loose modes on the directory, an entry, vault.json, metadata.json, backups/, a
 * backup or the passphrase file are refused the way OpenSSH refuses a loose key — exit 1
 * (UNSAFE_PERMISSIONS), the path and the fix named, nothing "fixed" silently — until
 * `doctor --fix` repairs them. A file owned by someone else is refused too.
 */
import { chmodSync, chownSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, vaultDir, writePassphraseFile, PASSPHRASE } from '../helpers/cli.js';
import { cloneVault, seedVault, snapshot } from './support.js';

const token = githubClassic();
let base: string;
let backupFile: string;
beforeAll(async () => {
  ensureBuilt();
  base = tempHome();
  const dir = await seedVault(base, [
    ['github', 'token', githubClassic()],
    ['github', 'token', token],
  ]);
  backupFile = join('backups', readdirSync(join(dir, 'backups'))[0]!);
});

describe('modes at creation', () => {
  it('under umask 000: directory and backups/ 0700, every file 0600, nothing left behind', async () => {
    const home = tempHome();
    const env = passphraseEnv(home);
    expect((await runCli(['init', '--kdf', 'interactive'], { home, env })).code).toBe(0);
    expect((await runCli(['store', 'github', 'token', '-'], { home, env, input: githubClassic() })).code).toBe(0);
    expect((await runCli(['store', 'github', 'token', '-'], { home, env, input: githubClassic() })).code).toBe(0);
    const snap = snapshot(vaultDir(home));
    const names = Object.keys(snap).sort();
    expect(names.filter((n) => !n.startsWith('backups/'))).toEqual(['backups', 'github_token', 'manifest', 'metadata.json', 'vault.json']);
    expect(names.filter((n) => n.startsWith('backups/'))).toEqual([expect.stringMatching(/^backups\/github_token\.\d{8}T\d{9}Z\.backup$/)]);
    for (const [path, st] of Object.entries(snap)) expect(`${path} ${st.mode}`).toBe(`${path} ${st.type === 'dir' ? '700' : '600'}`);
    expect(snapshot(home)['.mcp_tokens']!.mode).toBe('700');
  });
});

const loose: Array<[string, string, number, string[]]> = [
  ['the vault directory', '', 0o755, ['load', 'github']],
  ['the vault directory (group-writable only)', '', 0o720, ['list']],
  ['an entry', 'github_token', 0o644, ['load', 'github']],
  ['an entry (other-readable only)', 'github_token', 0o604, ['load', 'github']],
  ['vault.json', 'vault.json', 0o640, ['load', 'github']],
  ['metadata.json', 'metadata.json', 0o644, ['list']],
  ['backups/', 'backups', 0o755, ['backups']],
  ['backups/ (for a store that writes a backup)', 'backups', 0o750, ['store', 'github', 'token', '-']],
  ['a backup', '@backup', 0o644, ['restore', 'github', 'token']],
];

describe.concurrent('loose permissions are refused, naming the path and the fix', () => {
  it.each(loose)('%s (%s) at mode %o → exit 1, nothing changed', async (_label, rel, mode, args) => {
    const home = cloneVault(base);
    const path = join(vaultDir(home), rel === '@backup' ? backupFile : rel);
    chmodSync(path, mode);
    const before = snapshot(home);
    const r = await runCli(args, { home, env: passphraseEnv(tempHome()), input: githubClassic() });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`refusing to use ${path.replace(/\/$/, '')}`);
    expect(r.stderr).toMatch(/let other users in/);
    expect(r.stderr).toContain('mcp-tokens doctor --fix');
    expect(r.stderr).toContain(`chmod ${rel === '' || rel === 'backups' ? '700' : '600'} '${path.replace(/\/$/, '')}'`);
    expect(r.stderr).not.toContain(token);
    // A command that writes (store, restore) takes the vault lock before it reads anything
    // (DESIGN.md §6): the lock file's coming and going touches the directory's mtime, and
    // nothing else may change.
    const after = snapshot(home);
    if (args[0] === 'store' || args[0] === 'restore') after['.mcp_tokens'] = { ...after['.mcp_tokens']!, mtimeMs: before['.mcp_tokens']!.mtimeMs };
    expect(after).toEqual(before);
  });

  it('a passphrase file readable by others → exit 4 (a passphrase problem), naming it', async () => {
    const home = cloneVault(base);
    const file = writePassphraseFile(tempHome(), PASSPHRASE);
    chmodSync(file, 0o644);
    const r = await runCli(['load', 'github'], { home, env: { MCP_TOKENS_PASSPHRASE_FILE: file } });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`refusing to use ${file}`);
  });

  it.skipIf(process.getuid?.() !== 0)('an entry owned by another user → exit 1, naming the owner (needs root to chown)', async () => {
    const home = cloneVault(base);
    const path = join(vaultDir(home), 'github_token');
    chownSync(path, 4242, 4242);
    const r = await runCli(['load', 'github'], { home, env: passphraseEnv(tempHome()) });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`refusing to use ${path}: it is owned by uid 4242`);
  });
});

describe('doctor --fix', () => {
  it('reports every loose mode, then repairs them; the vault works again', async () => {
    const home = cloneVault(base);
    const dir = vaultDir(home);
    const env = passphraseEnv(tempHome());
    chmodSync(dir, 0o755);
    for (const f of ['github_token', 'vault.json', 'metadata.json', backupFile]) chmodSync(join(dir, f), 0o644);
    chmodSync(join(dir, 'backups'), 0o777);

    const report = await runCli(['doctor', '--json'], { home, env });
    expect(report.code, report.stderr).toBe(1);
    expect(report.stderr).toBe('');
    const findings = (JSON.parse(report.stdout) as { findings: Array<{ level: string; path?: string; fix?: string }> }).findings;
    const flagged = findings.filter((f) => f.level === 'error').map((f) => f.path);
    expect(flagged.sort()).toEqual([dir, ...['github_token', 'vault.json', 'metadata.json', backupFile, 'backups'].map((f) => join(dir, f))].sort());
    expect(snapshot(dir)['github_token']!.mode).toBe('644'); // doctor without --fix changes nothing

    const fixed = await runCli(['doctor', '--fix'], { home, env });
    expect(fixed.code, fixed.stderr).toBe(0);
    for (const [path, st] of Object.entries(snapshot(dir))) expect(`${path} ${st.mode}`).toBe(`${path} ${st.type === 'dir' ? '700' : '600'}`);
    expect(snapshot(home)['.mcp_tokens']!.mode).toBe('700');
    const load = await runCli(['load', 'github'], { home, env });
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toBe(`export GITHUB_PERSONAL_ACCESS_TOKEN='${token}'\n`);
  });
});
