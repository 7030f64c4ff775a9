/**
 * The built CLI on a keychain vault, inside a private Secret Service: the first store creates
 * the vault without a passphrase, the everyday commands behave as on the file backend, and the
 * values are shared with other Secret Service clients (secret-tool) in both directions.
 * Tests run in file order and build on each other's state.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { githubClassic, jwt } from '../helpers/cli.js';
import { backendOf, entryFiles, keychainCli, keychainServiceOf, requireKeyringOrSkip } from './keychain-harness.js';

const RUN = requireKeyringOrSkip();

describe.skipIf(!RUN)('CLI on a keychain vault (private D-Bus session, gnome-keyring)', () => {
  const kc = keychainCli();
  const first = githubClassic();
  const second = githubClassic();
  const hassToken = jwt();
  const loadJson = async () => {
    const r = await kc.run(['load', 'all', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, string>;
  };

  it('the first store creates a keychain vault without asking for a passphrase', async () => {
    const r = await kc.run(['store', 'github', 'token', '-'], { input: first });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Created a keychain vault');
    expect(r.stderr).not.toMatch(/passphrase/i);
    expect(r.stdout).toBe('');
    const config = JSON.parse(readFileSync(join(kc.dir, 'vault.json'), 'utf8')) as Record<string, unknown>;
    expect(config['backend']).toBe('keychain');
    expect(config).not.toHaveProperty('key'); // no wrapped key: the data key lives in the keychain
    expect(statSync(join(kc.dir, 'vault.json')).mode & 0o777).toBe(0o600);
    expect(entryFiles(kc.dir)).toEqual([]); // never a file copy of a keychain credential
    expect(await kc.lookup('vault-key')).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('secret-tool reads what mcp-tokens stored (service mcp-tokens:<vault id>, username github/token)', async () => {
    expect(await kc.lookup('github/token')).toBe(first);
  });

  it('mcp-tokens lists and loads an item another client stored with secret-tool', async () => {
    await kc.session().exec('secret-tool', ['store', '--label=from another tool', 'service', keychainServiceOf(kc.dir), 'username', 'hass/url'], 'http://127.0.0.1:8123');
    const list = await kc.run(['list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const { backend, entries } = JSON.parse(list.stdout) as { backend: string; entries: { service: string; key: string; value: string }[] };
    expect(backend).toBe('keychain');
    expect(entries.map((e) => `${e.service} ${e.key} ${e.value}`).sort()).toEqual([
      `github token ${first.slice(0, 4)}…${first.slice(-4)}`,
      'hass url http://127.0.0.1:8123',
    ]);
  });

  it('list masks secrets and shows urls whole, printing no secret anywhere', async () => {
    const r = await kc.run(['list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${first.slice(0, 4)}…${first.slice(-4)}`);
    expect(r.stdout).toContain('http://127.0.0.1:8123');
    expect(r.stdout + r.stderr).not.toContain(first);
  });

  it('load prints eval-able exports; a missing service exits 3 with the store hint', async () => {
    const r = await kc.run(['load', 'github']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`GITHUB_PERSONAL_ACCESS_TOKEN='${first}'`);
    const missing = await kc.run(['load', 'proxmox']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('No credentials stored for proxmox');
  });

  it('run hands the keychain value to the child and prints nothing of its own', async () => {
    const script = 'process.stdout.write(String(process.env.GITHUB_PERSONAL_ACCESS_TOKEN))';
    const r = await kc.run(['run', 'github', '--', process.execPath, '-e', script]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(first); // the child's output, nothing else
    expect(r.stderr).not.toContain(first);
  });

  it('storing a new value keeps an encrypted backup of the old one in the vault directory', async () => {
    const r = await kc.run(['store', 'github', 'token', '-'], { input: second });
    expect(r.code, r.stderr).toBe(0);
    expect(await kc.lookup('github/token')).toBe(second);
    const files = readdirSync(join(kc.dir, 'backups'));
    expect(files).toHaveLength(1);
    const backup = join(kc.dir, 'backups', files[0]!);
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    expect(readFileSync(backup, 'utf8')).not.toContain(first);
    expect(readFileSync(backup, 'utf8')).toMatch(/"alg":"xchacha20poly1305-ietf"/);
    const again = await kc.run(['store', 'github', 'token', '-'], { input: second });
    expect(again.code).toBe(0);
    expect(readdirSync(join(kc.dir, 'backups'))).toHaveLength(1); // the same value: no backup
  });

  it('backups lists it and restore puts the old value back (opened with the keychain data key)', async () => {
    const list = await kc.run(['backups', 'github', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { service: string; key: string }[];
    expect(rows.map((b) => `${b.service} ${b.key}`)).toEqual(['github token']);
    const r = await kc.run(['restore', 'github', 'token']);
    expect(r.code, r.stderr).toBe(0);
    expect(await kc.lookup('github/token')).toBe(first);
    expect(readdirSync(join(kc.dir, 'backups'))).toHaveLength(2); // the replaced value was backed up too
  });

  it('load hass sees the secret-tool item once the token is stored too', async () => {
    expect((await kc.run(['store', 'hass', 'token', '-'], { input: hassToken })).code).toBe(0);
    expect(await loadJson()).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: first, HA_URL: 'http://127.0.0.1:8123', HA_TOKEN: hassToken });
  });

  it('delete removes the keychain item, backs it up, and a second delete exits 3', async () => {
    const r = await kc.run(['delete', 'hass', 'token']);
    expect(r.code, r.stderr).toBe(0);
    expect(await kc.lookup('hass/token')).toBeUndefined();
    expect(readdirSync(join(kc.dir, 'backups')).some((f) => f.startsWith('hass_token.'))).toBe(true);
    expect((await kc.run(['delete', 'hass', 'token'])).code).toBe(3);
    expect(await kc.lookup('hass/url')).toBe('http://127.0.0.1:8123'); // the other key of the service stays
    expect(await loadJson()).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: first });
  });

  it('doctor reports the keychain backend and that it is reachable', async () => {
    const r = await kc.run(['doctor']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('vault backend: keychain');
    expect(r.stderr).toContain('the OS keychain is reachable');
    const j = await kc.run(['doctor', '--json']);
    const report = JSON.parse(j.stdout) as { backend: string; findings: { level: string }[] };
    expect(report.backend).toBe('keychain');
    expect(report.findings.every((f) => f.level !== 'error')).toBe(true);
  });

  it('backend (no argument) prints the backend; the vault never grew entry files', async () => {
    const r = await kc.run(['backend']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('keychain\n');
    expect(backendOf(kc.dir)).toBe('keychain');
    expect(entryFiles(kc.dir)).toEqual([]);
    expect(existsSync(join(kc.dir, 'move.json'))).toBe(false);
  });
});
