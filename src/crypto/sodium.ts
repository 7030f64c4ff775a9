/**
 * The few primitives the vault uses, behind one lazy accessor.
 *
 * Why not always libsodium: its WebAssembly build costs tens of milliseconds to load and ~11 MB
 * of memory that never shrinks, on every `load` and `run`, and `run`'s parent stays resident while
 * the MCP server lives. Node's OpenSSL already has ChaCha20-Poly1305 (RFC 8439); XChaCha20-
 * Poly1305-IETF is that AEAD under a subkey from HChaCha20 of the first 16 nonce bytes, with the
 * last 8 as the nonce (draft-irtf-cfrg-xchacha-03 §2.3) — byte for byte what libsodium's
 * crypto_aead_xchacha20poly1305_ietf_* produce (test/crypto checks both against each other and
 * against the draft's vectors). libsodium still runs Argon2id, in a worker (kdf.ts), and is the
 * fallback where OpenSSL lacks the cipher.
 */
import type Sodium from 'libsodium-wrappers-sumo';
import { createCipheriv, createDecipheriv, getCiphers, randomFillSync } from 'node:crypto';
import { hchacha20 } from './hchacha20.js';

export type SodiumApi = typeof Sodium;

/** The subset of libsodium's API the vault calls, with libsodium's signatures. */
export interface CryptoApi {
  crypto_aead_xchacha20poly1305_ietf_encrypt(message: Uint8Array, ad: Uint8Array | null, nsec: null, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  crypto_aead_xchacha20poly1305_ietf_decrypt(nsec: null, ciphertext: Uint8Array, ad: Uint8Array | null, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  randombytes_buf(length: number): Uint8Array;
  memzero(bytes: Uint8Array): void;
}

const TAG = 16;
const CIPHER = 'chacha20-poly1305';

let api: Promise<CryptoApi> | undefined;
let wasm: Promise<SodiumApi> | undefined;

/** The vault's primitives: native when OpenSSL has ChaCha20-Poly1305, else libsodium. */
export function sodium(): Promise<CryptoApi> {
  api ??= getCiphers().includes(CIPHER) ? Promise.resolve(native) : libsodium();
  return api;
}

/** libsodium itself, loaded on first use only: the WebAssembly start-up is not free. */
export function libsodium(): Promise<SodiumApi> {
  wasm ??= import('libsodium-wrappers-sumo').then(async (mod) => {
    const s = (mod as unknown as { default: SodiumApi }).default ?? (mod as unknown as SodiumApi);
    await s.ready;
    return s;
  });
  return wasm;
}

export const native: CryptoApi = {
  crypto_aead_xchacha20poly1305_ietf_encrypt(message, ad, _nsec, nonce, key) {
    return withSubkey(key, nonce, (subkey, iv) => {
      const c = createCipheriv(CIPHER, subkey, iv, { authTagLength: TAG });
      if (ad) c.setAAD(ad, { plaintextLength: message.length });
      const body = c.update(message);
      c.final();
      return join(body, c.getAuthTag());
    });
  },
  crypto_aead_xchacha20poly1305_ietf_decrypt(_nsec, ciphertext, ad, nonce, key) {
    if (ciphertext.length < TAG) throw new Error('ciphertext is too short');
    return withSubkey(key, nonce, (subkey, iv) => {
      const d = createDecipheriv(CIPHER, subkey, iv, { authTagLength: TAG });
      const bodyLength = ciphertext.length - TAG;
      d.setAuthTag(ciphertext.subarray(bodyLength));
      if (ad) d.setAAD(ad, { plaintextLength: bodyLength });
      const body = d.update(ciphertext.subarray(0, bodyLength));
      try {
        d.final(); // throws when the tag does not match: nothing is returned then
      } catch (e) {
        body.fill(0);
        throw e;
      }
      return join(body);
    });
  },
  randombytes_buf(length) {
    return randomFillSync(new Uint8Array(length));
  },
  memzero(bytes) {
    bytes.fill(0);
  },
};

function withSubkey<T>(key: Uint8Array, nonce: Uint8Array, fn: (subkey: Uint8Array, iv: Uint8Array) => T): T {
  if (key.length !== 32) throw new RangeError('key must be 32 bytes');
  if (nonce.length !== 24) throw new RangeError('nonce must be 24 bytes');
  const subkey = hchacha20(key, nonce.subarray(0, 16));
  const iv = new Uint8Array(12);
  iv.set(nonce.subarray(16), 4);
  try {
    return fn(subkey, iv);
  } finally {
    subkey.fill(0);
  }
}

/** Copy into a fresh Uint8Array the caller owns, and zero the Buffers (they may be pooled). */
function join(...parts: Buffer[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
    p.fill(0);
  }
  return out;
}
