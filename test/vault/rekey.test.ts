/**
 * rekey: a new data key, every sealed file re-encrypted; an interruption at any file leaves
 * everything readable (new and previous key both recorded) and the next rekey finishes it.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/vault/vault.js';
import { vaultMigrationTarget } from '../../src/vault/migration-target.js';
import { VaultError } from '../../src/errors.js';
import { githubClassic, jwt } from '../helpers/cli.js';
import { requireKeyringOrSkip, startKeyringSession, type KeyringSession } from '../helpers/keyring-session.js';

const root = mkdtempSync(join(tmpdir(), 'mcpt-rekey-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const passphrase = async () => new TextEncoder().encode('rekey test passphrase');

interface Fixture {
  dir: string;
  values: Record<string, string>;
  oldBackup: string;
}

async function fixture(name: string, backend: 'file' | 'keychain', keychainService?: string): Promise<Fixture> {
  const dir = join(root, name);
  const vault = await Vault.open({ dir, passphrase, backend, kdf: 'interactive', keychainService }, { create: true });
  const oldToken = githubClassic();
  const values = { github_token: githubClassic(), hass_token: jwt(), hass_url: 'http://127.0.0.1:8123' };
  await vault.store('github', 'token', oldToken);
  await vault.store('github', 'token', values.github_token); // one backup, holding oldToken
  await vault.store('hass', 'token', values.hass_token);
  await vault.store('hass', 'url', values.hass_url);
  await vaultMigrationTarget(vault).saveFileBackup({ runId: '20260101T000000000Z-abc', path: '/x/config.json', mode: 0o600, after: null }, new TextEncoder().encode('{"a":1}'));
  vault.close();
  return { dir, values, oldBackup: oldToken };
}

async function expectReadable(dir: string, f: Fixture, keychainService?: string): Promise<void> {
  const vault = await Vault.open({ dir, passphrase, keychainService });
  try {
    for (const [name, value] of Object.entries(f.values)) {
      const [service, key] = name.split('_') as [string, string];
      expect(await vault.get(service, key)).toBe(value);
    }
    const [backup] = vault.backups('github', 'token');
    expect(await vault.readBackupFile(backup!.file)).toBe(f.oldBackup);
    const target = vaultMigrationTarget(vault);
    const [file] = await target.listFileBackups();
    expect(new TextDecoder().decode(await target.readFileBackup(file!.id))).toBe('{"a":1}');
  } finally {
    vault.close();
  }
}

function sealedFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      // The rollback manifest is not re-sealed by rekey's count: the transaction's end rewrites it.
      else if (!['vault.json', 'metadata.json', 'manifest'].includes(e.name)) out.set(p, readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

describe('rekey on a file vault', () => {
  it('re-seals every entry, backup and file backup; the old key opens none of them', async () => {
    const f = await fixture('full', 'file');
    const before = sealedFiles(f.dir);
    const oldConfig = join(root, 'full-vault.json.old');
    copyFileSync(join(f.dir, 'vault.json'), oldConfig);
    const vault = await Vault.open({ dir: f.dir, passphrase });
    const r = await vault.rekey();
    vault.close();
    expect(r).toEqual({ resealed: before.size, unreadable: [], olderKey: [], finished: false });
    const after = sealedFiles(f.dir);
    for (const [path, text] of before) expect(after.get(path), path).not.toBe(text);
    expect(JSON.parse(readFileSync(join(f.dir, 'vault.json'), 'utf8'))).not.toHaveProperty('previous');
    await expectReadable(f.dir, f);
    // The old wrapped key no longer opens anything.
    copyFileSync(oldConfig, join(f.dir, 'vault.json'));
    const stale = await Vault.open({ dir: f.dir, passphrase });
    await expect(stale.get('github', 'token')).rejects.toMatchObject({ code: 'INTEGRITY' });
    stale.close();
  });

  it.each([1, 2, 4])('interrupted after %i file(s): everything stays readable, passwd waits, the next rekey finishes', async (n) => {
    const f = await fixture(`interrupted-${n}`, 'file');
    const vault = await Vault.open({ dir: f.dir, passphrase });
    let steps = 0;
    await expect(
      vault.rekey(() => {
        if (++steps === n) throw new Error('simulated crash');
      }),
    ).rejects.toThrow('simulated crash');
    vault.close();
    expect(JSON.parse(readFileSync(join(f.dir, 'vault.json'), 'utf8'))).toHaveProperty('previous');
    await expectReadable(f.dir, f);
    const again = await Vault.open({ dir: f.dir, passphrase });
    await expect(again.changePassphrase()).rejects.toBeInstanceOf(VaultError);
    const r = await again.rekey();
    again.close();
    expect(r.finished).toBe(true);
    expect(JSON.parse(readFileSync(join(f.dir, 'vault.json'), 'utf8'))).not.toHaveProperty('previous');
    await expectReadable(f.dir, f);
  });
});

describe('rekey on a keychain vault', () => {
  const enabled = requireKeyringOrSkip();
  let session: KeyringSession | undefined;
  beforeAll(async () => {
    if (!enabled) return;
    session = await startKeyringSession();
    Object.assign(process.env, session.env);
  });
  afterAll(async () => session?.stop());

  it.skipIf(!enabled)('re-seals the backups under a new vault-key, also after an interruption', async () => {
    const svc = 'mcp-tokens-rekey-test';
    const f = await fixture('keychain', 'keychain', svc);
    const before = sealedFiles(f.dir);
    const vault = await Vault.open({ dir: f.dir, keychainService: svc });
    await expect(vault.rekey(() => {
      throw new Error('simulated crash');
    })).rejects.toThrow('simulated crash');
    vault.close();
    await expectReadable(f.dir, f, svc);
    const again = await Vault.open({ dir: f.dir, keychainService: svc });
    expect(await again.rekeyPending()).toBe(true);
    const r = await again.rekey();
    expect(r.finished).toBe(true);
    expect(await again.rekeyPending()).toBe(false);
    again.close();
    const after = sealedFiles(f.dir);
    for (const [path, text] of before) expect(after.get(path), path).not.toBe(text);
    await expectReadable(f.dir, f, svc);
  });
});
