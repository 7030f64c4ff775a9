/**
 * The native XChaCha20-Poly1305 (node:crypto + our HChaCha20) must be libsodium's, byte for byte:
 * every vault written so far was sealed by libsodium. Checked against the published vectors of
 * draft-irtf-cfrg-xchacha-03 and against libsodium itself on random inputs, both directions.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hchacha20 } from '../../src/crypto/hchacha20.js';
import { libsodium, native, sodium } from '../../src/crypto/sodium.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const range = (start: number, n: number) => Uint8Array.from({ length: n }, (_, i) => start + i);

describe('HChaCha20', () => {
  it('matches draft-irtf-cfrg-xchacha-03 §2.2.1', () => {
    const out = hchacha20(range(0, 32), hex('000000090000004a0000000031415927'));
    expect(toHex(out)).toBe('82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
  });

  it('matches libsodium crypto_core_hchacha20 on random keys and nonces', async () => {
    const s = await libsodium();
    for (let i = 0; i < 50; i++) {
      const key = new Uint8Array(randomBytes(32));
      const nonce = new Uint8Array(randomBytes(16));
      expect(toHex(hchacha20(key, nonce))).toBe(toHex(s.crypto_core_hchacha20(nonce, key, null)));
    }
  });

  it('refuses wrong lengths', () => {
    expect(() => hchacha20(new Uint8Array(31), new Uint8Array(16))).toThrow(RangeError);
    expect(() => hchacha20(new Uint8Array(32), new Uint8Array(24))).toThrow(RangeError);
  });
});

describe('native XChaCha20-Poly1305-IETF', () => {
  const key = range(0x80, 32);
  const nonce = range(0x40, 24);
  const ad = hex('50515253c0c1c2c3c4c5c6c7');
  const plaintext = new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  const expected =
    'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb' +
    '731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452' +
    '2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9' +
    '21f9664c97637da9768812f615c68b13b52e' +
    'c0875924c1c7987947deafd8780acf49';

  it('seals and opens the draft §A.3.1 vector', () => {
    expect(toHex(native.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key))).toBe(expected);
    const opened = native.crypto_aead_xchacha20poly1305_ietf_decrypt(null, hex(expected), ad, nonce, key);
    expect(new TextDecoder().decode(opened)).toBe(new TextDecoder().decode(plaintext));
  });

  it('agrees with libsodium both ways on random inputs (lengths 0–300, with and without AD)', async () => {
    const s = await libsodium();
    for (let i = 0; i < 120; i++) {
      const k = new Uint8Array(randomBytes(32));
      const n = new Uint8Array(randomBytes(24));
      const m = new Uint8Array(randomBytes(i === 0 ? 0 : (i * 37) % 301));
      const a = i % 3 === 0 ? null : new Uint8Array(randomBytes(i % 40));
      const ours = native.crypto_aead_xchacha20poly1305_ietf_encrypt(m, a, null, n, k);
      const theirs = s.crypto_aead_xchacha20poly1305_ietf_encrypt(m, a, null, n, k);
      expect(toHex(ours)).toBe(toHex(theirs));
      expect(toHex(native.crypto_aead_xchacha20poly1305_ietf_decrypt(null, theirs, a, n, k))).toBe(toHex(m));
      expect(toHex(s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ours, a, n, k))).toBe(toHex(m));
    }
  });

  it('treats an empty AD like none, as libsodium does', () => {
    const m = new Uint8Array(randomBytes(20));
    const a = native.crypto_aead_xchacha20poly1305_ietf_encrypt(m, null, null, nonce, key);
    const b = native.crypto_aead_xchacha20poly1305_ietf_encrypt(m, new Uint8Array(0), null, nonce, key);
    expect(toHex(a)).toBe(toHex(b));
  });

  it.each([
    ['a flipped ciphertext bit', (c: Uint8Array) => (c[3]! ^= 1)],
    ['a flipped tag bit', (c: Uint8Array) => (c[c.length - 1]! ^= 0x80)],
  ])('refuses %s', (_name, tamper) => {
    const c = hex(expected);
    tamper(c);
    expect(() => native.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c, ad, nonce, key)).toThrow();
  });

  it('refuses another AD, another nonce, another key and a truncated blob', () => {
    const c = hex(expected);
    const open = (cc: Uint8Array, aa: Uint8Array | null, nn: Uint8Array, kk: Uint8Array) => () =>
      native.crypto_aead_xchacha20poly1305_ietf_decrypt(null, cc, aa, nn, kk);
    expect(open(c, hex('50515253c0c1c2c3c4c5c6c8'), nonce, key)).toThrow();
    expect(open(c, null, nonce, key)).toThrow();
    const n2 = nonce.slice();
    n2[0]! ^= 1; // a byte that only HChaCha20 sees
    expect(open(c, ad, n2, key)).toThrow();
    const k2 = key.slice();
    k2[31]! ^= 1;
    expect(open(c, ad, nonce, k2)).toThrow();
    expect(open(c.subarray(0, 15), ad, nonce, key)).toThrow();
  });

  it('refuses keys and nonces of the wrong length', () => {
    expect(() => native.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce.subarray(0, 12), key)).toThrow(RangeError);
    expect(() => native.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key.subarray(0, 16))).toThrow(RangeError);
  });

  it('is what sodium() hands the vault on this Node', async () => {
    expect(await sodium()).toBe(native);
  });
});

describe('randombytes_buf and memzero', () => {
  it('returns fresh random bytes of the asked length and zeroes in place', () => {
    const a = native.randombytes_buf(32);
    const b = native.randombytes_buf(32);
    expect(a).toHaveLength(32);
    expect(toHex(a)).not.toBe(toHex(b));
    native.memzero(a);
    expect(a.every((x) => x === 0)).toBe(true);
  });
});
