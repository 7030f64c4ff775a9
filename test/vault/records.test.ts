/**
 * The records verify and export keep in metadata.json (issue 10), in-process with two Vault
 * objects on one directory standing for two commands: the record is written under the lock onto
 * metadata.json as it is then (nothing another command wrote is lost), a rekey that ran since the
 * command opened the vault does not fail it (nothing is sealed), and a verdict about a value that
 * was stored again meanwhile is not kept.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/vault/vault.js';

const root = mkdtempSync(join(tmpdir(), 'mcpt-records-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const passphrase = async () => new TextEncoder().encode('records test passphrase');
const open = (dir: string) => Vault.open({ dir, passphrase });
const meta = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as { entries: Record<string, { storedAt?: string; verifyStatus?: string }>; exports?: { entries: string[] }[] };

describe('verify and export records in metadata.json', () => {
  it('a rekey since the command opened the vault does not fail its record, and keeps what others wrote', async () => {
    const dir = join(root, 'rekey');
    const first = await Vault.open({ dir, passphrase, backend: 'file', kdf: 'interactive' }, { create: true });
    await first.store('a', 'secret', 'value-a-0123456789');
    await first.store('b', 'secret', 'value-b-0123456789');
    const seen = first.metadata();
    const other = await open(dir);
    await other.rekey();
    await other.recordExport({ at: new Date().toISOString(), to: ['age1other'], entries: ['b_secret'] });
    other.close();
    // `first` unlocked the key the rekey dropped: a sealed write would be refused, these records are not.
    await first.recordVerifications([{ service: 'a', key: 'secret', status: 'ok', at: new Date(), storedAt: seen['a_secret']?.storedAt }]);
    await first.recordExport({ at: new Date().toISOString(), to: ['age1first'], entries: ['a_secret'] });
    first.close();
    const m = meta(dir);
    expect(m.entries['a_secret']?.verifyStatus).toBe('ok');
    expect(m.exports?.map((e) => e.entries[0])).toEqual(['b_secret', 'a_secret']);
  });

  it('no verdict is kept for a value stored again after it was checked', async () => {
    const dir = join(root, 'restored');
    const v = await Vault.open({ dir, passphrase, backend: 'file', kdf: 'interactive' }, { create: true });
    await v.store('a', 'secret', 'value-a-0123456789');
    await v.store('b', 'secret', 'value-b-0123456789');
    const seen = v.metadata();
    await new Promise((r) => setTimeout(r, 5)); // a later storedAt
    await v.store('a', 'secret', 'value-a-replaced-0123');
    const at = new Date();
    await v.recordVerifications([
      { service: 'a', key: 'secret', status: 'invalid', at, storedAt: seen['a_secret']?.storedAt },
      { service: 'b', key: 'secret', status: 'ok', at, storedAt: seen['b_secret']?.storedAt },
    ]);
    v.close();
    const m = meta(dir);
    expect(m.entries['a_secret']?.verifyStatus).toBeUndefined();
    expect(m.entries['b_secret']?.verifyStatus).toBe('ok');
  });
});
