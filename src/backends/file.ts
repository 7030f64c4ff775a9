import * as fs from 'node:fs';
import { join } from 'node:path';
import { VaultError, ioError } from '../errors.js';
import { parseEntryName, splitEntryName, type EntryName } from '../names.js';
import { entryAd, integrity, looksSealed } from '../crypto/format.js';
import { localKeyHandle, type KeyHandle } from '../crypto/keyhandle.js';
import { fsyncDir, readSecureText, removeFile, writeAtomic } from '../vault/fsutil.js';
import type { Backend } from './types.js';

export const FILE_BACKEND = 'file';

export interface FileBackendOptions {
  /** The vault directory, already checked (0700, ours, not a link). */
  dir: string;
  /** The 32-byte data key; owned by the caller, who zeroes it. Not needed with a handle. */
  dataKey?: Uint8Array | undefined;
  /** During (or after an interrupted) rekey: the key being replaced, tried when dataKey does not fit. */
  previousKey?: Uint8Array | undefined;
  /** Seal/open through this handle instead (the unlock agent's). */
  handle?: KeyHandle | undefined;
}

const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });

/** Encrypted files, one per entry, named `{service}_{key}` (DESIGN.md §3, §5). */
export function fileBackend(opts: FileBackendOptions): Backend {
  const { dir } = opts;
  const handle = opts.handle ?? localKeyHandle(mustKey(opts.dataKey), opts.previousKey);
  return {
    name: FILE_BACKEND,
    async get(name) {
      const path = join(dir, name);
      const text = readSecureText(path);
      if (text === undefined) return undefined;
      if (!looksSealed(text)) throw legacyPlaintext(path);
      const { service, key } = splitEntryName(name);
      const bytes = await handle.open(text, entryAd('entry', service, key), path);
      try {
        return td.decode(bytes);
      } catch (e) {
        throw integrity(`${path} does not hold UTF-8 text`, e);
      } finally {
        bytes.fill(0);
      }
    },
    async set(name, value) {
      const { service, key } = splitEntryName(name);
      const bytes = te.encode(value);
      try {
        writeAtomic(dir, name, await handle.seal(bytes, entryAd('entry', service, key)));
      } finally {
        bytes.fill(0);
      }
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

function mustKey(key: Uint8Array | undefined): Uint8Array {
  if (!key) throw new Error('file backend needs a data key or a key handle');
  return key;
}

/** Entry-shaped regular files in dir (encrypted or not; get() tells them apart). */
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
    if (parts && (d.isFile() || d.isSymbolicLink())) out.push(parts.name);
  }
  return out;
}

export function legacyPlaintext(path: string): VaultError {
  return new VaultError('INTEGRITY', `${path} is not an encrypted mcp-tokens entry (a plaintext token left by the old shell script?)`, {
    hint: 'it was not read as a credential; run: mcp-tokens migrate --dry-run, then mcp-tokens migrate',
    reason: 'legacy-plaintext',
  });
}
