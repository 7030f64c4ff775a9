/**
 * Raw-key sealing for code that holds the key bytes (the unlock agent's server, tests). New blobs
 * are format v2, naming the key (see format.ts); the vault itself goes through KeyHandle.
 */
import { sodium } from './sodium.js';
import { encodeBlob, integrity, NONCE_BYTES } from './format.js';
import { LocalKeyHandle } from './keyhandle.js';

/** Seal bytes under key with the given associated data; returns the (v2) blob's text. */
export async function sealBytes(key: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Promise<string> {
  const h = new LocalKeyHandle(key);
  try {
    return await h.seal(plaintext, ad);
  } finally {
    h.dispose();
  }
}

/** A v1 blob (no key id), as written before v2: for tests of old vaults only. */
export async function sealBytesV1(key: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Promise<string> {
  const s = await sodium();
  const nonce = s.randombytes_buf(NONCE_BYTES);
  const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
  return encodeBlob(nonce, ct);
}

/** Open a v1 or v2 blob; any failure (format, tag, wrong place, another key) is INTEGRITY. Caller zeroes the result. */
export async function openBytes(key: Uint8Array, text: string, ad: Uint8Array, what: string): Promise<Uint8Array> {
  const h = new LocalKeyHandle(key);
  try {
    return await h.open(text, ad, what);
  } finally {
    h.dispose();
  }
}

export async function memzero(bytes: Uint8Array | undefined): Promise<void> {
  if (bytes) (await sodium()).memzero(bytes);
}

/**
 * Open with the first of keys that fits (during a rekey, the new key then the one it replaces).
 * Returns the bytes and the index of the key that opened them; INTEGRITY when none does.
 */
export async function openBytesWithKeys(keys: readonly Uint8Array[], text: string, ad: Uint8Array, what: string): Promise<{ bytes: Uint8Array; index: number }> {
  let last: unknown;
  for (const [index, key] of keys.entries()) {
    try {
      return { bytes: await openBytes(key, text, ad, what), index };
    } catch (e) {
      last = e;
    }
  }
  throw last ?? new Error('no key');
}
