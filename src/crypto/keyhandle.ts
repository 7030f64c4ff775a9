/**
 * A data key used through a handle: the one way the vault seals and opens blobs.
 *
 * Why a handle and not the key bytes: code that holds a Uint8Array key can copy it, log it or
 * keep it after the vault closed; code that holds a KeyHandle can only ask for seal/open. The
 * local implementation below keeps the key in this process; another implementation (an agent,
 * issue 13) can forward the same two calls over a socket and never hand the key out. Keep the
 * interface this small: anything added here must also be implementable without the key.
 *
 * Blobs written through a handle are format v2 (src/crypto/format.ts): they carry the handle's
 * id, bound into the associated data.
 */
import { createHmac } from 'node:crypto';
import { decodeBlob, encodeBlob, integrity, KEY_BYTES, NONCE_BYTES, olderKey, withKid } from './format.js';
import { sodium } from './sodium.js';

export interface KeyHandle {
  /** The key id (32 hex digits, see format.ts); written into, and bound by, every blob it seals. */
  readonly id: string;
  /** Seal plaintext for the place described by ad (entryAd / fileAd); returns the v2 blob's text. */
  seal(plaintext: Uint8Array, ad: Uint8Array): Promise<string>;
  /**
   * Open a blob (v1, or v2 sealed by this key) for the place ad; `what` names it in errors.
   * Any failure is an INTEGRITY VaultError. The caller zeroes the result.
   */
  open(text: string, ad: Uint8Array, what: string): Promise<Uint8Array>;
}

const KEY_ID_CONTEXT = new TextEncoder().encode('mcp-tokens/v1/key-id');

/** The id of a key: 16 bytes of HMAC-SHA256(key, context), in hex — names a key without revealing it. */
export function keyId(key: Uint8Array): string {
  return createHmac('sha256', key).update(KEY_ID_CONTEXT).digest().subarray(0, 16).toString('hex');
}

/**
 * A handle over keys held here that seals under the first and opens with whichever sealed the
 * blob (the unlock agent's server uses this shape). The vault itself uses LocalKeyHandle per key.
 */
export function localKeyHandle(key: Uint8Array, previous?: Uint8Array): KeyHandle {
  const handles = previous ? [new LocalKeyHandle(key), new LocalKeyHandle(previous)] : [new LocalKeyHandle(key)];
  return {
    id: handles[0]!.id,
    seal: (plaintext, ad) => handles[0]!.seal(plaintext, ad),
    open: async (text, ad, what) => (await openWithHandles(handles, text, ad, what)).bytes,
  };
}

/** A key held in this process. Owns a copy of the bytes; dispose() zeroes it. */
export class LocalKeyHandle implements KeyHandle {
  readonly id: string;
  #key: Uint8Array | undefined;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new Error('a data key is 32 bytes');
    this.#key = new Uint8Array(key);
    this.id = keyId(this.#key);
  }

  async seal(plaintext: Uint8Array, ad: Uint8Array): Promise<string> {
    const s = await sodium();
    const nonce = s.randombytes_buf(NONCE_BYTES);
    const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, withKid(ad, this.id), null, nonce, this.bytes());
    return encodeBlob(nonce, ct, this.id);
  }

  async open(text: string, ad: Uint8Array, what: string): Promise<Uint8Array> {
    const blob = decodeBlob(text, what);
    if (blob.kid !== undefined && blob.kid !== this.id) throw olderKey(what, blob.kid, [this.id]);
    const s = await sodium();
    try {
      return s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, blob.ct, blob.kid === undefined ? ad : withKid(ad, blob.kid), blob.nonce, this.bytes());
    } catch (e) {
      throw integrity(`${what} could not be decrypted (tampered, or moved from another name)`, e);
    }
  }

  /**
   * A copy of the key, for the two places that store the key itself: wrapping it under a
   * passphrase (vault.json) and the keychain's vault-key item. The caller zeroes the copy.
   */
  exportKey(): Uint8Array {
    return new Uint8Array(this.bytes());
  }

  dispose(): void {
    this.#key?.fill(0);
    this.#key = undefined;
  }

  private bytes(): Uint8Array {
    if (!this.#key) throw new Error('the key handle was disposed (vault closed)');
    return this.#key;
  }
}

/**
 * Open a blob with whichever of handles sealed it (during a rekey: the new key, then the one it
 * replaces). v2 blobs go straight to the handle their kid names; v1 blobs try each in turn.
 * Returns the bytes and the index of the handle that opened them. A v2 blob whose kid names none
 * of them fails with reason 'older-key'; anything else that does not open is INTEGRITY.
 */
export async function openWithHandles(handles: readonly KeyHandle[], text: string, ad: Uint8Array, what: string): Promise<{ bytes: Uint8Array; index: number }> {
  const blob = decodeBlob(text, what);
  if (blob.kid !== undefined) {
    const index = handles.findIndex((h) => h.id === blob.kid);
    if (index < 0) throw olderKey(what, blob.kid, handles.map((h) => h.id));
    return { bytes: await handles[index]!.open(text, ad, what), index };
  }
  let last: unknown;
  for (const [index, h] of handles.entries()) {
    try {
      return { bytes: await h.open(text, ad, what), index };
    } catch (e) {
      last = e;
    }
  }
  throw last ?? integrity(`${what} could not be decrypted: no key`);
}

const td = new TextDecoder('utf-8', { fatal: true });
const te = new TextEncoder();

export async function sealText(handle: KeyHandle, value: string, ad: Uint8Array): Promise<string> {
  const bytes = te.encode(value);
  try {
    return await handle.seal(bytes, ad);
  } finally {
    bytes.fill(0);
  }
}

export async function openText(handles: readonly KeyHandle[], text: string, ad: Uint8Array, what: string): Promise<string> {
  const { bytes } = await openWithHandles(handles, text, ad, what);
  try {
    return td.decode(bytes);
  } catch (e) {
    throw integrity(`${what} does not hold UTF-8 text`, e);
  } finally {
    bytes.fill(0);
  }
}

/** The kid of a sealed blob's text, or undefined (v1, or not a blob): doctor reads it without a key. */
export function blobKid(text: string): string | undefined {
  try {
    return decodeBlob(text, 'blob').kid;
  } catch {
    return undefined;
  }
}
