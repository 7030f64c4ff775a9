/** vault.json: which backend holds the vault and, for the file backend, the wrapped data key. */
import { randomBytes } from 'node:crypto';
import { VaultError } from '../errors.js';
import { AEAD_ALG, b64decode, b64encode, concat, FORMAT_VERSION, integrity, KDF_ALG, KEY_BYTES, KID_RE, NONCE_BYTES, SALT_BYTES, TAG_BYTES, vaultKeyAd } from '../crypto/format.js';
import { keyId, LocalKeyHandle } from '../crypto/keyhandle.js';
import { checkKdfFloor, checkKdfParams, checkKdfPreset, deriveKey, type KdfParams } from '../crypto/kdf.js';
import { sodium } from '../crypto/sodium.js';

export const CONFIG_NAME = 'vault.json';

export interface FileVaultConfig {
  v: 1;
  backend: 'file';
  createdAt: string;
  kdf: KdfParams & { salt: Uint8Array };
  key: { nonce: Uint8Array; ct: Uint8Array };
  /** Only while a `rekey` runs (or after one was interrupted): the data key being replaced. */
  previous?: { nonce: Uint8Array; ct: Uint8Array };
  /**
   * The ids (format.ts) of the data key and of `previous`: written by every wrap since blobs carry
   * key ids; absent in vaults written before. Checked against the unwrapped keys at unlock; read
   * without a key by doctor and by the write transaction (did another command change the key?).
   */
  keyId?: string;
  previousKeyId?: string;
}

export interface KeychainVaultConfig {
  v: 1;
  backend: 'keychain';
  createdAt: string;
  /**
   * The vault's random id (16 hex digits): its keychain items live under the service
   * `mcp-tokens:<id>`, so two vaults never share an item. Absent in vaults made before ids, whose
   * items are under `mcp-tokens`; the first transaction moves them (vault/keychain-id.ts).
   */
  id?: string;
}

export const VAULT_ID_RE = /^[0-9a-f]{16}$/;

/** A fresh random vault id. */
export function newVaultId(): string {
  return randomBytes(8).toString('hex');
}

export type VaultConfig = FileVaultConfig | KeychainVaultConfig;

export function serializeConfig(c: VaultConfig): string {
  if (c.backend === 'keychain') return `${JSON.stringify({ v: c.v, backend: c.backend, createdAt: c.createdAt, ...(c.id ? { id: c.id } : {}) }, null, 2)}\n`;
  const doc = {
    v: c.v,
    backend: c.backend,
    createdAt: c.createdAt,
    kdf: { alg: KDF_ALG, salt: b64encode(c.kdf.salt), opslimit: c.kdf.opslimit, memlimit: c.kdf.memlimit },
    key: { alg: AEAD_ALG, nonce: b64encode(c.key.nonce), ct: b64encode(c.key.ct) },
    ...(c.previous ? { previous: { alg: AEAD_ALG, nonce: b64encode(c.previous.nonce), ct: b64encode(c.previous.ct) } } : {}),
    ...(c.keyId ? { keyId: c.keyId } : {}),
    ...(c.previous && c.previousKeyId ? { previousKeyId: c.previousKeyId } : {}),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Strict parse; every check runs before any KDF work. */
export function parseConfig(text: string, path: string): VaultConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw integrity(`${path} is not valid JSON`, e);
  }
  const o = asObject(raw, path);
  if (o['v'] !== FORMAT_VERSION) {
    throw new VaultError('INTEGRITY', `${path} has format version ${JSON.stringify(o['v'])}, which this mcp-tokens does not know`, {
      hint: 'upgrade mcp-tokens, or restore vault.json from a backup of the vault directory',
    });
  }
  const createdAt = typeof o['createdAt'] === 'string' ? o['createdAt'] : '';
  if (o['backend'] === 'keychain') {
    if (o['id'] === undefined) return { v: 1, backend: 'keychain', createdAt };
    if (typeof o['id'] !== 'string' || !VAULT_ID_RE.test(o['id'])) throw integrity(`${path} holds a malformed vault id`);
    return { v: 1, backend: 'keychain', createdAt, id: o['id'] };
  }
  if (o['backend'] !== 'file') throw integrity(`${path} names an unknown backend`);
  const kdf = asObject(o['kdf'], `${path} kdf`);
  const key = asObject(o['key'], `${path} key`);
  if (kdf['alg'] !== KDF_ALG) throw integrity(`${path} names an unknown KDF`);
  if (key['alg'] !== AEAD_ALG) throw integrity(`${path} names an unknown cipher`);
  const params = checkKdfParams({ opslimit: kdf['opslimit'], memlimit: kdf['memlimit'] });
  checkKdfFloor(params, path);
  checkKdfPreset(params, path);
  const config: FileVaultConfig = {
    v: 1,
    backend: 'file',
    createdAt,
    kdf: { ...params, salt: b64decode(kdf['salt'], `${path} salt`, SALT_BYTES) },
    key: wrapped(key, `${path} key`),
  };
  if (o['previous'] !== undefined) {
    const prev = asObject(o['previous'], `${path} previous`);
    if (prev['alg'] !== AEAD_ALG) throw integrity(`${path} names an unknown cipher`);
    config.previous = wrapped(prev, `${path} previous key`);
    if (o['previousKeyId'] !== undefined) config.previousKeyId = kid(o['previousKeyId'], path);
  }
  if (o['keyId'] !== undefined) config.keyId = kid(o['keyId'], path);
  return config;
}

function wrapped(o: Record<string, unknown>, what: string): { nonce: Uint8Array; ct: Uint8Array } {
  return { nonce: b64decode(o['nonce'], `${what} nonce`, NONCE_BYTES), ct: b64decode(o['ct'], what, KEY_BYTES + TAG_BYTES) };
}

function kid(v: unknown, path: string): string {
  if (typeof v !== 'string' || !KID_RE.test(v)) throw integrity(`${path} holds a malformed key id`);
  return v;
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw integrity(`${what} is damaged`);
  return v as Record<string, unknown>;
}

/** The previous key's AD: the vault-key AD plus a purpose, so the two wrapped keys cannot be swapped. */
function previousAd(salt: Uint8Array, params: KdfParams): Uint8Array {
  return concat(vaultKeyAd(salt, params.opslimit, params.memlimit), new TextEncoder().encode('/previous'));
}

/**
 * Seal a data key (and, during a rekey, the key it replaces) under a passphrase with a fresh salt
 * and nonces: one KDF run for both.
 */
export async function wrapDataKey(
  dataKey: Uint8Array,
  passphrase: Uint8Array,
  params: KdfParams,
  createdAt: string,
  previousKey?: Uint8Array,
): Promise<FileVaultConfig> {
  const s = await sodium();
  const salt = s.randombytes_buf(SALT_BYTES);
  const kek = await deriveKey(passphrase, salt, params);
  try {
    const seal = (key: Uint8Array, ad: Uint8Array) => {
      const nonce = s.randombytes_buf(NONCE_BYTES);
      return { nonce, ct: s.crypto_aead_xchacha20poly1305_ietf_encrypt(key, ad, null, nonce, kek) };
    };
    const config: FileVaultConfig = { v: 1, backend: 'file', createdAt, kdf: { ...params, salt }, key: seal(dataKey, vaultKeyAd(salt, params.opslimit, params.memlimit)), keyId: keyId(dataKey) };
    if (previousKey) {
      config.previous = seal(previousKey, previousAd(salt, params));
      config.previousKeyId = keyId(previousKey);
    }
    return config;
  } finally {
    s.memzero(kek);
  }
}

/** The data key, or BAD_PASSPHRASE. The caller zeroes it. */
export async function unwrapDataKey(c: FileVaultConfig, passphrase: Uint8Array): Promise<Uint8Array> {
  const { current, previous } = await unwrapDataKeys(c, passphrase);
  previous?.fill(0);
  return current;
}

/** The data key and, after an interrupted rekey, the key it replaces. The caller zeroes both. */
export async function unwrapDataKeys(c: FileVaultConfig, passphrase: Uint8Array): Promise<{ current: Uint8Array; previous?: Uint8Array }> {
  const s = await sodium();
  const kek = await deriveKey(passphrase, c.kdf.salt, c.kdf);
  try {
    const ad = vaultKeyAd(c.kdf.salt, c.kdf.opslimit, c.kdf.memlimit);
    const current = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c.key.ct, ad, c.key.nonce, kek);
    if (c.keyId !== undefined && keyId(current) !== c.keyId) {
      current.fill(0);
      throw integrity('vault.json names a key id that is not the id of its key');
    }
    if (!c.previous) return { current };
    let previous: Uint8Array;
    try {
      previous = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c.previous.ct, previousAd(c.kdf.salt, c.kdf), c.previous.nonce, kek);
    } catch (e) {
      current.fill(0);
      throw integrity('vault.json holds a previous key that does not open', e);
    }
    if (c.previousKeyId !== undefined && keyId(previous) !== c.previousKeyId) {
      current.fill(0);
      previous.fill(0);
      throw integrity('vault.json names a previous key id that is not the id of its previous key');
    }
    return { current, previous };
  } catch (e) {
    if (e instanceof VaultError) throw e;
    throw new VaultError('BAD_PASSPHRASE', 'wrong passphrase: the vault could not be unlocked', {
      hint: 'nothing was changed; check the passphrase (MCP_TOKENS_PASSPHRASE_FILE, MCP_TOKENS_PASSPHRASE_FD or the prompt). If it is right, vault.json itself may have been changed (its salt, KDF preset or wrapped key)',
      cause: e,
    });
  } finally {
    s.memzero(kek);
  }
}

/** The data key (and the key a rekey replaces) as handles; the raw bytes are zeroed here. */
export async function unwrapKeyHandles(c: FileVaultConfig, passphrase: Uint8Array): Promise<{ current: LocalKeyHandle; previous?: LocalKeyHandle }> {
  const { current, previous } = await unwrapDataKeys(c, passphrase);
  try {
    return previous ? { current: new LocalKeyHandle(current), previous: new LocalKeyHandle(previous) } : { current: new LocalKeyHandle(current) };
  } finally {
    current.fill(0);
    previous?.fill(0);
  }
}

/** wrapDataKey for handles (the one place, besides the keychain item, that stores the key itself). */
export async function wrapKeyHandles(key: LocalKeyHandle, passphrase: Uint8Array, params: KdfParams, createdAt: string, previous?: LocalKeyHandle): Promise<FileVaultConfig> {
  const k = key.exportKey();
  const p = previous?.exportKey();
  try {
    return await wrapDataKey(k, passphrase, params, createdAt, p);
  } finally {
    k.fill(0);
    p?.fill(0);
  }
}

/** A fresh random data key as a handle. */
export async function newKeyHandle(): Promise<LocalKeyHandle> {
  const k = await newDataKey();
  try {
    return new LocalKeyHandle(k);
  } finally {
    k.fill(0);
  }
}

export async function newDataKey(): Promise<Uint8Array> {
  return (await sodium()).randombytes_buf(KEY_BYTES);
}
