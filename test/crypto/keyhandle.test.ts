/**
 * Blob format v2 (src/crypto/format.ts) through KeyHandle: the sealing key's id is in the blob and
 * bound by the AEAD; a blob sealed under a key the reader does not hold is reported as "sealed
 * under an older key", not "damaged"; v1 blobs (old vaults, golden fixtures) still open.
 */
import { describe, expect, it } from 'vitest';
import { isVaultError, VaultError } from '../../src/errors.js';
import { b64decode, entryAd, KID_RE } from '../../src/crypto/format.js';
import { blobKid, keyId, LocalKeyHandle, openText, openWithHandles, sealText } from '../../src/crypto/keyhandle.js';
import { sealBytesV1 } from '../../src/crypto/seal.js';

/** A v1 blob (no key id), as vaults written before key ids hold. */
const sealV1 = (key: Uint8Array, value: string, ad: Uint8Array) => sealBytesV1(key, new TextEncoder().encode(value), ad);

const raw = (seed: number) => new Uint8Array(32).map((_, i) => (i * 7 + seed) & 0xff);
const ad = entryAd('entry', 'github', 'token');

async function failure(p: Promise<unknown>): Promise<VaultError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isVaultError(e)) throw new Error(`expected a VaultError, got ${String(e)}`);
  return e;
}

describe('key ids', () => {
  it('are 16 hex digits, stable for a key, different between keys, and not the key', () => {
    const a = keyId(raw(1));
    expect(a).toMatch(KID_RE);
    expect(keyId(raw(1))).toBe(a);
    expect(keyId(raw(2))).not.toBe(a);
    expect(Buffer.from(raw(1)).toString('hex')).not.toContain(a);
    expect(new LocalKeyHandle(raw(1)).id).toBe(a);
  });
});

describe('v2 blobs', () => {
  it('carry the sealing key id, in the documented shape, and round-trip', async () => {
    const h = new LocalKeyHandle(raw(1));
    const text = await sealText(h, 'secret value', ad);
    const doc = JSON.parse(text) as Record<string, string>;
    expect(Object.keys(doc)).toEqual(['v', 'alg', 'kid', 'nonce', 'ct']);
    expect(doc).toMatchObject({ v: 2, alg: 'xchacha20poly1305-ietf', kid: h.id });
    expect(b64decode(doc['nonce'], 'nonce')).toHaveLength(24);
    expect(blobKid(text)).toBe(h.id);
    expect(await openText([h], text, ad, 'x')).toBe('secret value');
  });

  it('bind the key id: relabelled or downgraded to v1, the blob does not open', async () => {
    const h = new LocalKeyHandle(raw(1));
    const text = await sealText(h, 'secret', ad);
    const other = new LocalKeyHandle(raw(2));
    // The same key, claimed under another id (the reader is tricked into using the right key).
    const relabelled = text.replace(h.id, other.id);
    const asOther = new LocalKeyHandle(raw(1));
    Object.defineProperty(asOther, 'id', { value: other.id });
    expect((await failure(openText([asOther], relabelled, ad, 'x'))).code).toBe('INTEGRITY');
    const v1 = `${JSON.stringify({ v: 1, alg: 'xchacha20poly1305-ietf', nonce: (JSON.parse(text) as { nonce: string }).nonce, ct: (JSON.parse(text) as { ct: string }).ct })}\n`;
    const e = await failure(openText([h], v1, ad, 'x'));
    expect(e.code).toBe('INTEGRITY');
    expect(e.reason).toBeUndefined();
  });

  it('say "sealed under an older key" when the id names no key the reader holds', async () => {
    const old = new LocalKeyHandle(raw(1));
    const current = new LocalKeyHandle(raw(2));
    const text = await sealText(old, 'secret', ad);
    const e = await failure(openText([current], text, ad, 'github_token'));
    expect(e.code).toBe('INTEGRITY');
    expect(e.reason).toBe('older-key');
    expect(e.message).toContain('sealed under an older key');
    expect(e.message).toContain(old.id);
    expect(e.message).not.toContain('damaged');
    // With the previous key still held (a rekey under way), it opens, and says which key did.
    const opened = await openWithHandles([current, old], text, ad, 'x');
    expect(opened.index).toBe(1);
  });

  it('tampered v2 blobs are damaged (INTEGRITY, no older-key reason)', async () => {
    const h = new LocalKeyHandle(raw(1));
    const text = await sealText(h, 'secret', ad);
    const doc = JSON.parse(text) as Record<string, string>;
    const ct = Buffer.from(doc['ct']!, 'base64');
    ct[0]! ^= 1;
    const bad = `${JSON.stringify({ ...doc, ct: ct.toString('base64') })}\n`;
    const e = await failure(openText([h], bad, ad, 'x'));
    expect(e.code).toBe('INTEGRITY');
    expect(e.reason).toBeUndefined();
    expect((await failure(openText([h], text, entryAd('entry', 'hass', 'token'), 'x'))).code).toBe('INTEGRITY');
  });
});

describe('v1 blobs', () => {
  it('still open through a handle (old vaults, golden fixtures); no key id', async () => {
    const h = new LocalKeyHandle(raw(1));
    const text = await sealV1(raw(1), 'old value', ad);
    expect(blobKid(text)).toBeUndefined();
    expect(await openText([new LocalKeyHandle(raw(3)), h], text, ad, 'x')).toBe('old value');
    expect((await failure(openText([new LocalKeyHandle(raw(3))], text, ad, 'x'))).code).toBe('INTEGRITY');
  });

  it('a disposed handle refuses to work', async () => {
    const h = new LocalKeyHandle(raw(1));
    h.dispose();
    await expect(sealText(h, 'x', ad)).rejects.toThrow(/disposed/);
  });
});
