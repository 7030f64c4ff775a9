/** vault.json: which backend holds the vault and, for the file backend, the wrapped data key. */
import { VaultError } from '../errors.js';
import { AEAD_ALG, b64decode, b64encode, FORMAT_VERSION, integrity, KDF_ALG, KEY_BYTES, NONCE_BYTES, SALT_BYTES, TAG_BYTES, vaultKeyAd } from '../crypto/format.js';
import { checkKdfParams, deriveKey, type KdfParams } from '../crypto/kdf.js';
import { sodium } from '../crypto/sodium.js';

export const CONFIG_NAME = 'vault.json';

export interface FileVaultConfig {
  v: 1;
  backend: 'file';
  createdAt: string;
  kdf: KdfParams & { salt: Uint8Array };
  key: { nonce: Uint8Array; ct: Uint8Array };
}

export interface KeychainVaultConfig {
  v: 1;
  backend: 'keychain';
  createdAt: string;
}

export type VaultConfig = FileVaultConfig | KeychainVaultConfig;

export function serializeConfig(c: VaultConfig): string {
  if (c.backend === 'keychain') return `${JSON.stringify({ v: c.v, backend: c.backend, createdAt: c.createdAt }, null, 2)}\n`;
  const doc = {
    v: c.v,
    backend: c.backend,
    createdAt: c.createdAt,
    kdf: { alg: KDF_ALG, salt: b64encode(c.kdf.salt), opslimit: c.kdf.opslimit, memlimit: c.kdf.memlimit },
    key: { alg: AEAD_ALG, nonce: b64encode(c.key.nonce), ct: b64encode(c.key.ct) },
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
  if (o['backend'] === 'keychain') return { v: 1, backend: 'keychain', createdAt };
  if (o['backend'] !== 'file') throw integrity(`${path} names an unknown backend`);
  const kdf = asObject(o['kdf'], `${path} kdf`);
  const key = asObject(o['key'], `${path} key`);
  if (kdf['alg'] !== KDF_ALG) throw integrity(`${path} names an unknown KDF`);
  if (key['alg'] !== AEAD_ALG) throw integrity(`${path} names an unknown cipher`);
  const params = checkKdfParams({ opslimit: kdf['opslimit'], memlimit: kdf['memlimit'] });
  return {
    v: 1,
    backend: 'file',
    createdAt,
    kdf: { ...params, salt: b64decode(kdf['salt'], `${path} salt`, SALT_BYTES) },
    key: {
      nonce: b64decode(key['nonce'], `${path} key nonce`, NONCE_BYTES),
      ct: b64decode(key['ct'], `${path} wrapped key`, KEY_BYTES + TAG_BYTES),
    },
  };
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw integrity(`${what} is damaged`);
  return v as Record<string, unknown>;
}

/** Seal a data key under a passphrase with fresh salt and nonce. */
export async function wrapDataKey(dataKey: Uint8Array, passphrase: Uint8Array, params: KdfParams, createdAt: string): Promise<FileVaultConfig> {
  const s = await sodium();
  const salt = s.randombytes_buf(SALT_BYTES);
  const kek = await deriveKey(passphrase, salt, params);
  try {
    const nonce = s.randombytes_buf(NONCE_BYTES);
    const ad = vaultKeyAd(salt, params.opslimit, params.memlimit);
    const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(dataKey, ad, null, nonce, kek);
    return { v: 1, backend: 'file', createdAt, kdf: { ...params, salt }, key: { nonce, ct } };
  } finally {
    s.memzero(kek);
  }
}

/** The data key, or BAD_PASSPHRASE. The caller zeroes it. */
export async function unwrapDataKey(c: FileVaultConfig, passphrase: Uint8Array): Promise<Uint8Array> {
  const s = await sodium();
  const kek = await deriveKey(passphrase, c.kdf.salt, c.kdf);
  try {
    const ad = vaultKeyAd(c.kdf.salt, c.kdf.opslimit, c.kdf.memlimit);
    return s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c.key.ct, ad, c.key.nonce, kek);
  } catch (e) {
    throw new VaultError('BAD_PASSPHRASE', 'wrong passphrase: the vault could not be unlocked', {
      hint: 'nothing was changed; check the passphrase (MCP_TOKENS_PASSPHRASE_FILE, MCP_TOKENS_PASSPHRASE_FD or the prompt)',
      cause: e,
    });
  } finally {
    s.memzero(kek);
  }
}

export async function newDataKey(): Promise<Uint8Array> {
  return (await sodium()).randombytes_buf(KEY_BYTES);
}
