/**
 * The frozen file format of src/crypto/format.ts: sealed-blob round trip and exact shape, the
 * associated-data layouts (which bind a blob to its service/key and purpose), strict base64,
 * strict blob parsing, and the KDF parameter caps checked before any KDF runs.
 */
import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../src/errors.js';
import { b64decode, b64encode, decodeBlob, encodeBlob, entryAd, fileAd, looksSealed, vaultKeyAd } from '../../src/crypto/format.js';
import { checkKdfParams, KDF_PRESETS } from '../../src/crypto/kdf.js';
import { LocalKeyHandle, openText, sealText } from '../../src/crypto/keyhandle.js';

// Through the one way keys are used (a KeyHandle), as every writer does.
const sealString = (k: Uint8Array, value: string, ad: Uint8Array) => sealText(new LocalKeyHandle(k), value, ad);
const openString = (k: Uint8Array, text: string, ad: Uint8Array, what: string) => openText([new LocalKeyHandle(k)], text, ad, what);

const key = new Uint8Array(32).map((_, i) => i);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isVaultError(e) ? e.code : `unexpected ${String(e)}`;
  }
};
const codeAsync = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return isVaultError(e) ? e.code : `unexpected ${String(e)}`;
  }
};

describe('sealed blobs', () => {
  it.each(['', 'a', 'ünïcödé 🔑', "'$(x)`\"\\", 'x'.repeat(16384)])('round trip of %j, in the documented shape', async (value) => {
    const ad = entryAd('entry', 'github', 'token');
    const text = await sealString(key, value, ad);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.indexOf('\n')).toBe(text.length - 1);
    const doc = JSON.parse(text) as Record<string, string>;
    // New blobs are v2: they name the sealing key (test/crypto/keyhandle.test.ts covers the id).
    expect(Object.keys(doc)).toEqual(['v', 'alg', 'kid', 'nonce', 'ct']);
    expect(doc).toMatchObject({ v: 2, alg: 'xchacha20poly1305-ietf' });
    expect(b64decode(doc['nonce'], 'nonce')).toHaveLength(24);
    expect(b64decode(doc['ct'], 'ct')).toHaveLength(Buffer.byteLength(value) + 16);
    expect(await openString(key, text, ad, 'x')).toBe(value);
    expect(await sealString(key, value, ad)).not.toBe(text); // a fresh nonce every time
  });

  it('opens only under the same key, purpose, service and key', async () => {
    const text = await sealString(key, 'secret', entryAd('entry', 'github', 'token'));
    const otherKey = key.map((b) => b ^ 1);
    const wrong = [
      () => openString(otherKey, text, entryAd('entry', 'github', 'token'), 'x'),
      () => openString(key, text, entryAd('entry', 'hass', 'token'), 'x'),
      () => openString(key, text, entryAd('entry', 'github', 'api'), 'x'),
      () => openString(key, text, entryAd('backup', 'github', 'token'), 'x'),
      () => openString(key, text, entryAd('entry', 'githu', 'btoken'), 'x'),
      () => openString(key, text, fileAd('github_token'), 'x'),
    ];
    for (const fn of wrong) expect(await codeAsync(fn)).toBe('INTEGRITY');
  });
});

describe('associated data layouts (frozen)', () => {
  it('entry and backup: prefix ‖ u32be len ‖ service ‖ u32be len ‖ key', () => {
    const tail = `00000006${Buffer.from('github').toString('hex')}00000005${Buffer.from('token').toString('hex')}`;
    expect(hex(entryAd('entry', 'github', 'token'))).toBe(Buffer.from('mcp-tokens/v1').toString('hex') + tail);
    expect(hex(entryAd('backup', 'github', 'token'))).toBe(Buffer.from('mcp-tokens/v1/backup').toString('hex') + tail);
    // Length prefixes keep ("ab","c") and ("a","bc") apart.
    expect(hex(entryAd('entry', 'ab', 'c'))).not.toBe(hex(entryAd('entry', 'a', 'bc')));
  });

  it('file label and vault key', () => {
    expect(hex(fileAd('cfg'))).toBe(Buffer.from('mcp-tokens/v1/file').toString('hex') + '00000003' + Buffer.from('cfg').toString('hex'));
    const salt = new Uint8Array(16).fill(0xab);
    expect(hex(vaultKeyAd(salt, 2, 67108864))).toBe(
      Buffer.from('mcp-tokens/v1/vault-key').toString('hex') + '0000000a' + Buffer.from('argon2id13').toString('hex') + 'ab'.repeat(16) + '0000000000000002' + '0000000004000000',
    );
  });
});

describe('strict base64', () => {
  it.each(['', 'AA==', 'AAE=', 'AAEC', '+/8=', b64encode(new Uint8Array(24).fill(255))])('accepts canonical %j', (t) => {
    expect(b64encode(b64decode(t, 'x'))).toBe(t);
  });

  it.each(['AA', 'AAE', 'AB==', 'AAF=', 'AA=', 'AA===', '-_8=', 'AA AA', 'AAEC\n', '====', 'AA==AA==', 'ÄÄ==', 7, null, undefined])('refuses %j', (t) => {
    expect(code(() => b64decode(t, 'x'))).toBe('INTEGRITY');
  });

  it('refuses the wrong length', () => {
    expect(code(() => b64decode('AAEC', 'x', 4))).toBe('INTEGRITY');
    expect(b64decode('AAEC', 'x', 3)).toHaveLength(3);
  });
});

describe('blob parsing', () => {
  const nonce = new Uint8Array(24).fill(1);
  const ct = new Uint8Array(20).fill(2);
  const good = encodeBlob(nonce, ct);
  const doc = JSON.parse(good) as Record<string, unknown>;
  const line = (o: unknown) => `${JSON.stringify(o)}\n`;

  it('reads what it writes; only blobs look sealed', () => {
    expect(decodeBlob(good, 'x')).toEqual({ v: 1, alg: 'xchacha20poly1305-ietf', nonce, ct });
    expect(looksSealed(good)).toBe(true);
    expect(looksSealed('ghp_plaintexttoken\n')).toBe(false);
  });

  it.each([
    ['no final newline', good.slice(0, -1)],
    ['two lines', good + good],
    ['CRLF', good.replace('\n', '\r\n')],
    ['not JSON', '{"v":1,\n'],
    ['an array', '[1]\n'],
    ['null', 'null\n'],
    ['an extra field', line({ ...doc, extra: 1 })],
    ['a missing field', line({ v: 1, alg: doc['alg'], nonce: doc['nonce'] })],
    ['version 2', line({ ...doc, v: 2 })],
    ['version "1"', line({ ...doc, v: '1' })],
    ['another algorithm', line({ ...doc, alg: 'aes-256-gcm' })],
    ['a 23-byte nonce', line({ ...doc, nonce: b64encode(new Uint8Array(23)) })],
    ['a ciphertext shorter than the tag', line({ ...doc, ct: b64encode(new Uint8Array(15)) })],
    ['a non-canonical ciphertext (padding bits set)', line({ ...doc, ct: String(doc['ct']).replace(/I=$/, 'J=') })],
    ['spaces inside the JSON', good.replace('"v":1', '"v": 1')],
    ['fields in another order', line({ alg: doc['alg'], v: 1, nonce: doc['nonce'], ct: doc['ct'] })],
  ])('refuses %s', (_label, text) => {
    expect(code(() => decodeBlob(text, 'x'))).toBe('INTEGRITY');
  });
});

describe('KDF parameter caps', () => {
  it('presets are those of DESIGN.md §5', () => {
    const MiB = 1024 * 1024;
    expect(KDF_PRESETS).toEqual({
      interactive: { opslimit: 2, memlimit: 64 * MiB },
      default: { opslimit: 3, memlimit: 64 * MiB },
      moderate: { opslimit: 3, memlimit: 256 * MiB },
      sensitive: { opslimit: 4, memlimit: 1024 * MiB },
    });
  });

  it.each([...Object.values(KDF_PRESETS), { opslimit: 1, memlimit: 8192 }])('accepts %j', (p) => {
    expect(checkKdfParams(p)).toEqual(p);
  });

  it.each([
    { opslimit: 5, memlimit: 64 * 1024 * 1024 },
    { opslimit: 0, memlimit: 64 * 1024 * 1024 },
    { opslimit: -1, memlimit: 64 * 1024 * 1024 },
    { opslimit: 2.5, memlimit: 64 * 1024 * 1024 },
    { opslimit: '2', memlimit: 64 * 1024 * 1024 },
    { opslimit: Number.NaN, memlimit: 64 * 1024 * 1024 },
    { opslimit: 2, memlimit: 1024 ** 3 + 1 },
    { opslimit: 2, memlimit: 8191 },
    { opslimit: 2, memlimit: 2 ** 53 },
    { opslimit: 2, memlimit: Number.POSITIVE_INFINITY },
    { opslimit: 2, memlimit: null },
  ])('refuses %j with an integrity error', (p) => {
    expect(code(() => checkKdfParams(p))).toBe('INTEGRITY');
  });
});
