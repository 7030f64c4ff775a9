/**
 * vault.json (src/vault/config.ts): the data key wrapped under the passphrase round-trips;
 * a wrong passphrase is BAD_PASSPHRASE; every malformed or out-of-range document is refused by
 * the parser — and Vault.open refuses it without ever asking for the passphrase, so no KDF runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isVaultError } from '../../src/errors.js';
import { b64encode } from '../../src/crypto/format.js';
import { KDF_PRESETS } from '../../src/crypto/kdf.js';
import { newDataKey, newVaultId, parseConfig, serializeConfig, unwrapDataKey, wrapDataKey, type FileVaultConfig } from '../../src/vault/config.js';
import { Vault } from '../../src/vault/vault.js';
import { tempHome, vaultDir } from '../helpers/cli.js';
import { seedVault } from '../cli/support.js';

const pass = () => new TextEncoder().encode('config test passphrase');
let dataKey: Uint8Array;
let config: FileVaultConfig;
let text: string;
beforeAll(async () => {
  dataKey = await newDataKey();
  config = await wrapDataKey(dataKey, pass(), KDF_PRESETS.interactive, '2026-01-01T00:00:00.000Z');
  text = serializeConfig(config);
});

describe('wrapping the data key', () => {
  it('serializes, parses back to the same config, and unwraps to the same key', async () => {
    const parsed = parseConfig(text, 'vault.json') as FileVaultConfig;
    expect(parsed).toEqual(config);
    expect(serializeConfig(parsed)).toBe(text);
    expect(Buffer.from(await unwrapDataKey(parsed, pass())).equals(Buffer.from(dataKey))).toBe(true);
    expect(text).not.toContain(b64encode(dataKey));
  });

  it('a wrong passphrase is BAD_PASSPHRASE', async () => {
    const err = await unwrapDataKey(config, new TextEncoder().encode('wrong')).catch((e: unknown) => e);
    expect(isVaultError(err, 'BAD_PASSPHRASE')).toBe(true);
  });

  it('fresh salt and nonce on every wrap', async () => {
    const again = await wrapDataKey(dataKey, pass(), KDF_PRESETS.interactive, config.createdAt);
    expect(b64encode(again.kdf.salt)).not.toBe(b64encode(config.kdf.salt));
    expect(b64encode(again.key.nonce)).not.toBe(b64encode(config.key.nonce));
  });
});

type Doc = { v: unknown; backend: unknown; kdf: Record<string, unknown>; key: Record<string, unknown> };
const bad: Array<[string, (d: Doc) => unknown]> = [
  ['version 2', (d) => (d.v = 2)],
  ['no version', (d) => delete (d as Partial<Doc>).v],
  ['an unknown backend', (d) => (d.backend = 'memory')],
  ['no kdf', (d) => delete (d as Partial<Doc>).kdf],
  ['kdf as an array', (d) => (d.kdf = [] as never)],
  ['an unknown KDF', (d) => (d.kdf['alg'] = 'scrypt')],
  ['an unknown cipher', (d) => (d.key['alg'] = 'xsalsa20poly1305')],
  ['opslimit 5', (d) => (d.kdf['opslimit'] = 5)],
  ['memlimit 2 GiB', (d) => (d.kdf['memlimit'] = 2 * 1024 ** 3)],
  ['memlimit 1 TiB', (d) => (d.kdf['memlimit'] = 1024 ** 4)],
  ['a 15-byte salt', (d) => (d.kdf['salt'] = b64encode(new Uint8Array(15)))],
  ['a url-safe salt', (d) => (d.kdf['salt'] = String(d.kdf['salt']).replace(/[+/]/g, '-').replace(/=+$/, '') + '-_')],
  ['a 25-byte nonce', (d) => (d.key['nonce'] = b64encode(new Uint8Array(25)))],
  ['a 64-byte wrapped key', (d) => (d.key['ct'] = b64encode(new Uint8Array(64)))],
  ['a missing wrapped key', (d) => delete d.key['ct']],
];

describe('malformed vault.json', () => {
  it.each(bad)('%s: parseConfig refuses it (INTEGRITY)', (_label, edit) => {
    const doc = JSON.parse(text) as Doc;
    edit(doc);
    const err = (() => {
      try {
        parseConfig(JSON.stringify(doc), 'vault.json');
      } catch (e) {
        return e;
      }
    })();
    expect(isVaultError(err, 'INTEGRITY')).toBe(true);
  });

  it.each(['', 'null', '[]', '{"v":1', 'v=1'])('%j: refused as damaged', (t) => {
    expect(() => parseConfig(t, 'vault.json')).toThrow(/integrity check failed|format version/);
  });

  it('Vault.open refuses every one of them without asking for the passphrase (no KDF runs)', async () => {
    const home = tempHome();
    const dir = await seedVault(home, [['myapp', 'key', 'value']]);
    const seeded = JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8')) as Doc;
    const asked: string[] = [];
    for (const [label, edit] of bad) {
      const doc = structuredClone(seeded);
      edit(doc);
      writeFileSync(join(vaultDir(home), 'vault.json'), JSON.stringify(doc));
      const err = await Vault.open({ dir, passphrase: async () => (asked.push(label), pass()) }).catch((e: unknown) => e);
      expect(isVaultError(err, 'INTEGRITY'), label).toBe(true);
    }
    expect(asked).toEqual([]);
  });
});

describe('a keychain vault.json and its vault id', () => {
  const keychainDoc = (id: unknown) => JSON.stringify({ v: 1, backend: 'keychain', createdAt: '2026-01-01T00:00:00.000Z', id });

  it('round-trips the id; a vault made before ids parses without one', () => {
    const id = newVaultId();
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(newVaultId()).not.toBe(id);
    const parsed = parseConfig(keychainDoc(id), 'vault.json');
    expect(parsed).toEqual({ v: 1, backend: 'keychain', createdAt: '2026-01-01T00:00:00.000Z', id });
    expect(parseConfig(serializeConfig(parsed), 'vault.json')).toEqual(parsed);
    expect(parseConfig(keychainDoc(undefined), 'vault.json')).toEqual({ v: 1, backend: 'keychain', createdAt: '2026-01-01T00:00:00.000Z' });
  });

  it.each([['an upper-case id', 'ABCDEF0123456789'], ['a short id', 'abc'], ['a path', '../../x'], ['a number', 7], ['a colon', '0123456789abcde:'], ['empty', '']])(
    '%s is refused (INTEGRITY): it would name another keychain service',
    (_label, id) => {
      expect(() => parseConfig(keychainDoc(id), 'vault.json')).toThrow(/malformed vault id/);
    },
  );
});
