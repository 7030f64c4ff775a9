import * as fs from 'node:fs';
import { basename, join } from 'node:path';
import { VaultError, ioError, isVaultError } from '../errors.js';
import { parseEntryName, splitEntryName, type EntryName } from '../names.js';
import { entryAd, looksSealed } from '../crypto/format.js';
import { openText, sealText, type KeyHandle } from '../crypto/keyhandle.js';
import { fsyncDir, readSecureText, removeFile, writeAtomic } from '../vault/fsutil.js';
import { readLegacyPlain } from '../vault/legacy.js';
import type { Backend } from './types.js';

export const FILE_BACKEND = 'file';

export interface FileBackendOptions {
  /** The vault directory, already checked (0700, ours, not a link). */
  dir: string;
  /**
   * The data key, then (during or after an interrupted rekey) the key it replaces. keys[0] seals
   * every write; a blob opens with the key its id names. Owned by the caller.
   */
  keys: readonly KeyHandle[];
  /** Told every entry file read and opened, with its text: rollback checks (vault/manifest.ts). */
  onRead?: (name: string, text: string | undefined) => void;
}

/** Encrypted files, one per entry, named `{service}_{key}` (DESIGN.md §3, §5). */
export function fileBackend(opts: FileBackendOptions): Backend {
  const { dir, keys } = opts;
  const sealer = keys[0];
  if (!sealer) throw new Error('fileBackend needs a key');
  return {
    name: FILE_BACKEND,
    async get(name) {
      const path = join(dir, name);
      let text: string | undefined;
      try {
        text = readSecureText(path);
      } catch (e) {
        // The old script wrote its files with the user's umask (often 644): such a file is a
        // plaintext token to migrate, not a damaged entry. A sealed entry with a loose mode is
        // still refused (doctor --fix).
        if (isVaultError(e, 'UNSAFE_PERMISSIONS') && readLegacyPlain(path) !== undefined) throw legacyPlaintext(path);
        throw e;
      }
      if (text === undefined) return undefined;
      if (!looksSealed(text)) throw legacyPlaintext(path);
      const { service, key } = splitEntryName(name);
      const value = await openText(keys, text, entryAd('entry', service, key), path);
      opts.onRead?.(name, text); // only what opened: a damaged or misplaced file is reported as such
      return value;
    },
    async set(name, value) {
      const { service, key } = splitEntryName(name);
      writeAtomic(dir, name, await sealText(sealer, value, entryAd('entry', service, key)));
    },
    async delete(name) {
      const removed = removeFile(join(dir, name));
      if (removed) fsyncDir(dir);
      return removed;
    },
    async list() {
      return listEntryFiles(dir);
    },
  };
}

/** Entry-named files in dir (encrypted or not, regular or not; get() tells them apart). */
export function listEntryFiles(dir: string): EntryName[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw ioError('list', dir, e);
  }
  const out: EntryName[] = [];
  for (const d of entries) {
    const parts = parseEntryName(d.name);
    // Anything but a directory under an entry's name is listed, so get() refuses it with its path
    // (a symlink, FIFO or socket there is reported, never silently skipped as "nothing stored").
    if (parts && !d.isDirectory()) out.push(parts.name);
  }
  return out;
}

export function legacyPlaintext(path: string): VaultError {
  const parts = parseEntryName(basename(path));
  const sk = parts ? `${parts.service} ${parts.key}` : '<service> <key>';
  return new VaultError('INTEGRITY', `${path} is not an encrypted mcp-tokens entry (a plaintext token left by the old shell script?)`, {
    hint: `it was not read as a credential; move it into the vault with: mcp-tokens migrate` +
      ` (or replace it: mcp-tokens store ${sk}; or remove it: mcp-tokens delete ${sk} — either keeps its value as an encrypted backup)`,
    reason: 'legacy-plaintext',
  });
}
