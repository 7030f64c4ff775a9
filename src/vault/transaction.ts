/**
 * The vault's one way to write (DESIGN.md §6, STYLE.md 13): lock, re-read vault.json, check that
 * the key and backend this process opened the vault with are still the vault's, then act.
 *
 * Why: a command unlocks the vault before it takes the lock (so it can prompt first, and so
 * Argon2id runs outside the lock). Meanwhile another command may rekey, change the passphrase or
 * move the vault to the other backend. Writing with what was read at open would seal under a
 * dropped key or into a store the vault has left — every command reporting success. Under the
 * lock we follow what can be followed (the same data key re-wrapped by passwd, a rekey's
 * `previous` dropped, a keychain vault whose key is simply re-read) and refuse the rest with
 * "the vault changed while this command waited", before anything is written.
 */
import { VaultError } from '../errors.js';
import { LocalKeyHandle, type KeyHandle } from '../crypto/keyhandle.js';
import type { Backend } from '../backends/types.js';
import { join } from 'node:path';
import { CONFIG_NAME, parseConfig, serializeConfig, type FileVaultConfig, type VaultConfig } from './config.js';
import { readSecureText, writeAtomic } from './fsutil.js';

export interface TxOptions {
  /**
   * vault.json must be byte-for-byte what the vault was opened with: for commands that replace
   * vault.json with something computed before the lock (passwd, rekey, backend moves), so that
   * they cannot undo another command's passwd or rekey.
   */
  sameConfig?: boolean;
  /** The data key must still have this id (something was sealed or wrapped with it before the lock). */
  expectKeyId?: string;
  /** Refuse while a rekey is unfinished (a previous key is recorded); names the command. */
  refuseWhileRekeying?: string;
}

/** What a write runs on: the state found under the lock. */
export interface Tx {
  /** The vault directory. */
  readonly dir: string;
  readonly config: VaultConfig;
  /** The backend of that config; a file backend seals with the current key. */
  readonly backend: Backend;
  /** [current data key, the key an unfinished rekey replaces?] of that state. */
  keys(): Promise<readonly KeyHandle[]>;
  /** The current data key (seals backups and file backups). */
  key(): Promise<KeyHandle>;
  /** Replace vault.json (atomically); the vault follows it, with these keys when they change. */
  writeConfig(next: VaultConfig, keys?: KeyHandle[]): void;
  /** The time to record (tests fix it). */
  now(): Date;
}

export function changedWhileWaiting(what: string): VaultError {
  return new VaultError('FAILED', `the vault changed while this command waited (${what}); nothing was written`, {
    hint: 'another mcp-tokens command (rekey, passwd or a backend move) ran meanwhile; run the command again',
    reason: 'vault-changed',
  });
}

function sameWrap(a: { nonce: Uint8Array; ct: Uint8Array } | undefined, b: { nonce: Uint8Array; ct: Uint8Array } | undefined): boolean {
  if (!a || !b) return a === b;
  return Buffer.from(a.nonce).equals(Buffer.from(b.nonce)) && Buffer.from(a.ct).equals(Buffer.from(b.ct));
}

/**
 * The key ids a file vault.json stands for. Ids are recorded since blobs carry them; for an older
 * vault.json, an unchanged wrap (same salt and ciphertext) still means the same key.
 */
function idsOf(found: FileVaultConfig, opened: FileVaultConfig, keys: readonly KeyHandle[]): { current?: string; previous?: string } {
  const sameSalt = Buffer.from(found.kdf.salt).equals(Buffer.from(opened.kdf.salt));
  const current = found.keyId ?? (sameSalt && sameWrap(found.key, opened.key) ? keys[0]?.id : undefined);
  if (!found.previous) return current === undefined ? {} : { current };
  const previous = found.previousKeyId ?? (sameSalt && sameWrap(found.previous, opened.previous) ? keys[1]?.id : undefined);
  return { ...(current === undefined ? {} : { current }), ...(previous === undefined ? {} : { previous }) };
}

/**
 * Under the lock, with vault.json as found: the keys to use, or changedWhileWaiting. `keys` are
 * those unwrapped at open for `opened`; a previous key that is no longer recorded is dropped.
 */
export function followFileVault(opened: FileVaultConfig, found: FileVaultConfig, keys: KeyHandle[]): KeyHandle[] {
  const ids = idsOf(found, opened, keys);
  if (ids.current === undefined || ids.current !== keys[0]?.id) throw changedWhileWaiting('its data key was replaced by a rekey, or vault.json was rewritten');
  if (!found.previous) {
    for (const k of keys.slice(1)) if (k instanceof LocalKeyHandle) k.dispose();
    return keys.slice(0, 1);
  }
  if (ids.previous === undefined || ids.previous !== keys[1]?.id) throw changedWhileWaiting('a rekey started');
  return keys;
}

export function sameConfig(a: VaultConfig, b: VaultConfig): boolean {
  return serializeConfig(a) === serializeConfig(b);
}

/** The key itself, for the operations that store it (keychain item, a wrap); never an agent's. */
export function localOnly(k: KeyHandle): LocalKeyHandle {
  if (!(k instanceof LocalKeyHandle)) throw new Error('this operation needs the key in this process, not an agent handle');
  return k;
}

/** Under the lock: vault.json as it is now, and its text. */
export function readCurrentConfig(dir: string): { found: VaultConfig; text: string } {
  const path = join(dir, CONFIG_NAME);
  const text = readSecureText(path);
  if (text === undefined) throw changedWhileWaiting(`${path} was removed`);
  return { found: parseConfig(text, path), text };
}

/**
 * Under the lock: the state to run on, from vault.json as found, checked against the one the
 * vault was opened with (`opened`, whose keys are `keys`), or changedWhileWaiting. Keys that state
 * no longer uses are disposed. `text` is set when vault.json was rewritten (key ids recorded).
 */
export function followState(
  dir: string,
  opened: VaultConfig,
  found: VaultConfig,
  keys: KeyHandle[] | undefined,
  opts: TxOptions,
): { config: VaultConfig; keys: KeyHandle[] | undefined; text?: string } {
  const path = join(dir, CONFIG_NAME);
  if (found.backend !== opened.backend) throw changedWhileWaiting(`it moved to the ${found.backend} backend`);
  if (opts.sameConfig && !sameConfig(found, opened)) throw changedWhileWaiting(`${path} was rewritten`);
  if (found.backend === 'keychain') {
    // Keychain: the key lives in the keychain; whatever it is now is what this transaction uses.
    for (const k of keys ?? []) if (k instanceof LocalKeyHandle) k.dispose();
    return { config: found, keys: undefined };
  }
  const followed = followFileVault(opened as FileVaultConfig, found, keys ?? []);
  if (found.keyId !== undefined) return { config: found, keys: followed };
  // A vault.json from before key ids: record them, so doctor can tell stale blobs without a key.
  const config: FileVaultConfig = { ...found, keyId: followed[0]!.id, ...(found.previous && followed[1] ? { previousKeyId: followed[1].id } : {}) };
  const text = serializeConfig(config);
  writeAtomic(dir, CONFIG_NAME, text);
  return { config, keys: followed, text };
}
