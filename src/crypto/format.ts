/**
 * mcp-tokens file format (DESIGN.md §5). Version 1 is frozen: golden fixtures in
 * test/fixtures/golden must open with every later version. New blobs are written as version 2.
 *
 * Sealed blob (an entry, a backup, or a wrapped file): one line of JSON, then "\n":
 *   v1: {"v":1,"alg":"xchacha20poly1305-ietf","nonce":"<base64, 24 bytes>","ct":"<base64>"}
 *   v2: {"v":2,"alg":"xchacha20poly1305-ietf","kid":"<32 hex>","nonce":"<base64, 24 bytes>","ct":"<base64>"}
 * v2 names the data key that sealed it: kid = hex(first 16 bytes of HMAC-SHA256(key = data key,
 * "mcp-tokens/v1/key-id")) — a one-way, domain-separated fingerprint that says nothing usable
 * about the key (the same id the unlock agent reports). The kid is bound by the AEAD: a v2 blob's associated data is the v1 AD below
 * followed by "/kid" ‖ u32be(len kid) ‖ kid, so a blob relabelled with another kid (or turned into
 * a v1 blob) fails to open. Readers pick the key by kid and, when the kid names no key the vault
 * holds, report "sealed under an older key" rather than "damaged" (v1 blobs: every key is tried).
 * base64 is RFC 4648 §4 with padding; a value that does not re-encode to the same text is refused.
 * Cipher: crypto_aead_xchacha20poly1305_ietf with a random 24-byte nonce; the plaintext is the
 * credential's UTF-8 bytes. Associated data binds the blob to its place:
 *   entry:   "mcp-tokens/v1"        ‖ u32be(len service) ‖ service ‖ u32be(len key) ‖ key
 *   backup:  "mcp-tokens/v1/backup" ‖ u32be(len service) ‖ service ‖ u32be(len key) ‖ key
 *   file:    "mcp-tokens/v1/file"   ‖ u32be(len label) ‖ label        (migrate's config backups)
 * so a file swapped between two names, or a backup copied over a live entry, fails to open.
 *
 * vault.json:
 *   file backend:     {"v":1,"backend":"file","createdAt":ISO,
 *                      "kdf":{"alg":"argon2id13","salt":b64(16),"opslimit":n,"memlimit":n},
 *                      "key":{"alg":"xchacha20poly1305-ietf","nonce":b64(24),"ct":b64(48)}}
 *     The 32-byte data key is sealed under crypto_pwhash(passphrase, salt, opslimit, memlimit,
 *     ARGON2ID13) with AD "mcp-tokens/v1/vault-key" ‖ u32be(len alg) ‖ alg ‖ salt ‖ u64be(opslimit)
 *     ‖ u64be(memlimit): changing any KDF parameter makes the key fail to open.
 *   keychain backend: {"v":1,"backend":"keychain","createdAt":ISO}; the data key (for backups) is
 *                     the keychain item mcp-tokens / vault-key, base64.
 * Limits checked before the KDF runs: opslimit 1..4, memlimit 8 KiB..1 GiB (the `sensitive` preset).
 */
import { VaultError } from '../errors.js';

/** vault.json's version (unchanged); blobs are written as BLOB_VERSION and read as 1 or 2. */
export const FORMAT_VERSION = 1;
export const BLOB_VERSION = 2;
export const KID_RE = /^[0-9a-f]{32}$/;
export const AEAD_ALG = 'xchacha20poly1305-ietf';
export const KDF_ALG = 'argon2id13';
export const NONCE_BYTES = 24;
export const KEY_BYTES = 32;
export const TAG_BYTES = 16;
export const SALT_BYTES = 16;

export interface SealedBlob {
  v: 1 | 2;
  alg: typeof AEAD_ALG;
  /** v2: the id of the key that sealed it (bound into the AD by withKid). */
  kid?: string;
  nonce: Uint8Array;
  ct: Uint8Array;
}

const te = new TextEncoder();

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), false);
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function lp(s: string | Uint8Array): Uint8Array {
  const bytes = typeof s === 'string' ? te.encode(s) : s;
  return concat(u32(bytes.length), bytes);
}

export type Purpose = 'entry' | 'backup';

export function entryAd(purpose: Purpose, service: string, key: string): Uint8Array {
  const prefix = purpose === 'entry' ? 'mcp-tokens/v1' : 'mcp-tokens/v1/backup';
  return concat(te.encode(prefix), lp(service), lp(key));
}

export function fileAd(label: string): Uint8Array {
  return concat(te.encode('mcp-tokens/v1/file'), lp(label));
}

export function vaultKeyAd(salt: Uint8Array, opslimit: number, memlimit: number): Uint8Array {
  return concat(te.encode('mcp-tokens/v1/vault-key'), lp(KDF_ALG), salt, u64(opslimit), u64(memlimit));
}

/** A v2 blob's associated data: the place's AD, then the sealing key's id. */
export function withKid(ad: Uint8Array, kid: string): Uint8Array {
  return concat(ad, te.encode('/kid'), lp(kid));
}

export function b64encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Strict base64: refuses anything that does not re-encode to the same text. */
export function b64decode(text: unknown, what: string, length?: number): Uint8Array {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw integrity(`${what} is not base64`);
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  if (b64encode(bytes) !== text) throw integrity(`${what} is not canonical base64`);
  if (length !== undefined && bytes.length !== length) throw integrity(`${what} has the wrong length`);
  return bytes;
}

export function encodeBlob(nonce: Uint8Array, ct: Uint8Array, kid?: string): string {
  if (kid === undefined) return `${JSON.stringify({ v: 1, alg: AEAD_ALG, nonce: b64encode(nonce), ct: b64encode(ct) })}\n`;
  return `${JSON.stringify({ v: BLOB_VERSION, alg: AEAD_ALG, kid, nonce: b64encode(nonce), ct: b64encode(ct) })}\n`;
}

/** Parse a sealed blob (v1 or v2); every deviation is an integrity failure (exit 6). */
export function decodeBlob(text: string, what: string): SealedBlob {
  if (!text.endsWith('\n') || text.indexOf('\n') !== text.length - 1) throw integrity(`${what} is damaged`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw integrity(`${what} is damaged`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw integrity(`${what} is damaged`);
  const obj = raw as Record<string, unknown>;
  const keys = Object.keys(obj).sort().join(',');
  const v = obj['v'];
  if (v !== 1 && v !== BLOB_VERSION) throw integrity(`${what} has an unknown format version`);
  if (keys !== (v === 1 ? 'alg,ct,nonce,v' : 'alg,ct,kid,nonce,v')) throw integrity(`${what} has unexpected fields`);
  if (obj['alg'] !== AEAD_ALG) throw integrity(`${what} uses an unknown algorithm`);
  let kid: string | undefined;
  if (v === BLOB_VERSION) {
    if (typeof obj['kid'] !== 'string' || !KID_RE.test(obj['kid'])) throw integrity(`${what} has a malformed key id`);
    kid = obj['kid'];
  }
  const nonce = b64decode(obj['nonce'], `${what} nonce`, NONCE_BYTES);
  const ct = b64decode(obj['ct'], `${what} ciphertext`);
  if (ct.length < TAG_BYTES) throw integrity(`${what} is truncated`);
  // One byte sequence per blob: no CR, whitespace or field-order variants of what we write.
  if (encodeBlob(nonce, ct, kid) !== text) throw integrity(`${what} is not in canonical form`);
  return kid === undefined ? { v: 1, alg: AEAD_ALG, nonce, ct } : { v: 2, alg: AEAD_ALG, kid, nonce, ct };
}

/**
 * Looks like one of our blobs, even a damaged one (used to tell an encrypted entry from a legacy
 * plaintext file): a flipped first byte must still read as "damaged", not as "old plaintext".
 */
export function looksSealed(text: string): boolean {
  return text.startsWith('{"v":') || /"(?:alg|nonce|ct)"\s*:/.test(text);
}

/** A blob sealed under a key the vault no longer holds (a write that raced a rekey, or an old copy). */
export function olderKey(what: string, kid: string, current: readonly string[]): VaultError {
  return new VaultError('INTEGRITY', `${what} was sealed under an older key (${kid}), not the vault's current key (${current.join(', ') || 'none'})`, {
    hint: 'the key that sealed it was replaced by a rekey; run mcp-tokens rekey to re-seal what can still be opened, then restore this one from a backup (mcp-tokens backups / restore) or store it again',
    reason: 'older-key',
  });
}

export function integrity(message: string, cause?: unknown): VaultError {
  return new VaultError('INTEGRITY', `integrity check failed: ${message}`, {
    hint: 'the file was changed, truncated or swapped with another; restore it from a backup (mcp-tokens backups / restore) or store the credential again',
    cause,
  });
}
