/**
 * `rekey`: a new data key, and every sealed file re-encrypted under it.
 *
 * Crash safety comes from never having a file that no recorded key opens. First the new key is
 * recorded *beside* the old one (file vaults: both wrapped in vault.json, the old one as
 * `previous`; keychain vaults: the old one as the keychain item `vault-key-previous`, then the new
 * one as `vault-key`). Then each entry, backup and file backup is re-sealed, one atomic rename at a
 * time; readers try the new key, then the previous. Last, the previous key is dropped. A `kill -9`
 * anywhere leaves every file readable; the next `rekey` first finishes the interrupted one (all
 * files under the then-current key, previous dropped), then starts its own. `passwd` and
 * `backend` refuse to run while a previous key is recorded.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { isVaultError } from '../errors.js';
import { parseEntryName } from '../names.js';
import { entryAd, fileAd, looksSealed } from '../crypto/format.js';
import { openBytesWithKeys, sealBytes } from '../crypto/seal.js';
import { listEntryFiles } from '../backends/file.js';
import { listBackups } from './backups.js';
import { readSecureText, writeAtomic } from './fsutil.js';

export interface ResealResult {
  /** Files now sealed under the new key that were not before. */
  resealed: number;
  /** Files no key opens (damaged before the rekey); left as they were. */
  unreadable: string[];
}

/** Re-seal every sealed file of the vault under target; keys = [target, …keys that may still be in use]. */
export async function resealAll(
  dir: string,
  backupsDir: string,
  withEntries: boolean,
  keys: readonly Uint8Array[],
  onStep?: (path: string) => void,
): Promise<ResealResult> {
  const result: ResealResult = { resealed: 0, unreadable: [] };
  const one = async (folder: string, name: string, ad: Uint8Array) => {
    const path = join(folder, name);
    const text = readSecureText(path);
    if (text === undefined || !looksSealed(text)) return; // gone meanwhile, or old plaintext (migrate's job)
    let opened: { bytes: Uint8Array; index: number };
    try {
      opened = await openBytesWithKeys(keys, text, ad, path);
    } catch (e) {
      if (!isVaultError(e, 'INTEGRITY')) throw e;
      result.unreadable.push(path);
      return;
    }
    try {
      if (opened.index === 0) return; // already under the new key
      writeAtomic(folder, name, await sealBytes(keys[0]!, opened.bytes, ad));
      result.resealed++;
      onStep?.(path);
    } finally {
      opened.bytes.fill(0);
    }
  };
  if (withEntries) {
    for (const name of listEntryFiles(dir)) {
      const { service, key } = parseEntryName(name)!;
      await one(dir, name, entryAd('entry', service, key));
    }
  }
  for (const b of listBackups(backupsDir)) await one(backupsDir, b.file, entryAd('backup', b.service, b.key));
  const files = join(backupsDir, 'files');
  let names: string[] = [];
  try {
    names = fs.readdirSync(files).filter((n) => /^[A-Za-z0-9-]{1,80}\.file$/.test(n));
  } catch {
    names = [];
  }
  for (const id of names) await one(files, id, fileAd(id));
  return result;
}
