/**
 * doctor's key check: blobs sealed under a key the vault no longer holds. Each v2 blob names its
 * key (format.ts); the vault's keys are named by vault.json (file vaults, keyId / previousKeyId)
 * or are the keychain's vault-key items. Nothing is decrypted: ids are compared.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { parseEntryName } from '../names.js';
import { blobKid, keyId } from '../crypto/keyhandle.js';
import type { VaultConfig } from './config.js';
import { BACKUPS_DIR } from './backups.js';

export interface OlderKeyFile {
  path: string;
  kid: string;
}

/** The ids of the keys the vault holds now, or undefined when they cannot be told without a key. */
export async function currentKeyIds(config: VaultConfig, keychainService: string | undefined): Promise<string[] | undefined> {
  if (config.backend === 'file') {
    if (config.keyId === undefined) return undefined; // a vault.json from before key ids; the next write records them
    return config.previousKeyId ? [config.keyId, config.previousKeyId] : [config.keyId];
  }
  const kc = await import('../backends/keychain.js');
  const opts = { service: kc.vaultService(config.id, keychainService || kc.KEYCHAIN_SERVICE) };
  const ids: string[] = [];
  for (const account of [kc.VAULT_KEY_ACCOUNT, kc.PREVIOUS_VAULT_KEY_ACCOUNT] as const) {
    const raw = await kc.readVaultKey({ ...opts, account }).catch(() => undefined);
    if (raw) ids.push(keyId(raw));
    raw?.fill(0);
  }
  return ids.length > 0 ? ids : undefined;
}

/** Sealed entries (file vaults), backups and file backups whose key id is not one of ids. */
export function filesUnderOlderKeys(dir: string, withEntries: boolean, ids: readonly string[]): OlderKeyFile[] {
  const out: OlderKeyFile[] = [];
  const check = (path: string) => {
    const text = readIfRegular(path);
    const kid = text === undefined ? undefined : blobKid(text);
    if (kid !== undefined && !ids.includes(kid)) out.push({ path, kid });
  };
  if (withEntries) for (const name of names(dir)) if (parseEntryName(name)) check(join(dir, name));
  const backups = join(dir, BACKUPS_DIR);
  for (const name of names(backups)) if (name.endsWith('.backup')) check(join(backups, name));
  for (const name of names(join(backups, 'files'))) if (name.endsWith('.file')) check(join(backups, 'files', name));
  return out;
}

function names(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** A regular file's text, never through a link and never blocking on a FIFO. */
export function readIfRegular(path: string): string | undefined {
  try {
    const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      return fs.fstatSync(fd).isFile() ? fs.readFileSync(fd, 'utf8') : undefined;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
