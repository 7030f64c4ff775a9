/**
 * Rollback detection (issue 29, SECURITY.md): the sealed `manifest` of a file vault records the
 * SHA-256 of every file it covers — each entry file (`{service}_{key}`, the links map
 * `mcp-tokens_links` included) and `metadata.json` — as the last transaction left them. An older
 * copy of one of them put back by hand is a valid blob under the current key; the manifest
 * tells it from the current one.
 *
 * Writers (under the lock): the manifest is rewritten `open` before a transaction's first change
 * to a covered file, and `closed` with the new hashes when the transaction ends (successfully or
 * not: under the lock, the files on disk are what the vault is). A kill -9 in between leaves it
 * open: nothing is checked until the next write closes it. Readers (no lock) read the manifest,
 * then the entries, then the manifest again; only a closed manifest whose bytes did not change
 * across the read (every writer would have rewritten it open first, with a fresh nonce) is
 * compared with what was read. An open, changed, missing or unreadable manifest means no check,
 * never a report. Keychain vaults keep no manifest (their entries are keychain items).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { VaultError } from '../errors.js';
import { fileAd, looksSealed } from '../crypto/format.js';
import { openWithHandles, type KeyHandle } from '../crypto/keyhandle.js';
import { parseEntryName } from '../names.js';
import { fsyncDir, readSecureText, removeFile, setWriteObserver, writeAtomic } from './fsutil.js';
import { METADATA_NAME } from './metadata.js';
import { failpoint } from './failpoint.js';
import { LINKS_KEY, RESERVED_SERVICE } from './reserved.js';

export const MANIFEST_NAME = 'manifest';
const AD = fileAd(MANIFEST_NAME);
const te = new TextEncoder();

export interface Manifest {
  v: 1;
  gen: number;
  open: boolean;
  /** File name → SHA-256 (hex) of its bytes. */
  files: Record<string, string>;
}

/** The files the manifest covers. */
export function covered(name: string): boolean {
  return name === METADATA_NAME || parseEntryName(name) !== undefined;
}

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function hashText(text: string): string {
  return hashBytes(te.encode(text));
}

/**
 * The hash of dir/name as it is now, as the manifest records it; undefined when absent, not a
 * regular file (a link, a FIFO: refused elsewhere, never followed here) or an entry-named file
 * that is not sealed (a plaintext token of the old shell script: never read as a credential,
 * and `doctor`/`migrate` deal with it).
 */
export function fileHash(dir: string, name: string): string | undefined {
  const path = join(dir, name);
  try {
    if (!fs.lstatSync(path).isFile()) return undefined;
    const bytes = fs.readFileSync(path);
    if (name !== METADATA_NAME && !looksSealed(bytes.toString('utf8'))) return undefined;
    return hashBytes(bytes);
  } catch {
    return undefined;
  }
}

/** What a reader logs for an entry file it read (the text read, undefined when absent): as fileHash. */
export function readHash(text: string | undefined): string | undefined {
  return text === undefined || !looksSealed(text) ? undefined : hashText(text);
}

/** Every covered file now in dir, with its hash. */
function hashDirectory(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    if (!covered(name)) continue;
    const h = fileHash(dir, name);
    if (h !== undefined) files[name] = h;
  }
  return files;
}

export interface ReadManifest {
  /** The sealed text as read (compared byte for byte by readers); undefined when there is none. */
  text?: string;
  /** The manifest, when it opened and parsed. */
  doc?: Manifest;
}

export async function readManifest(dir: string, keys: readonly KeyHandle[]): Promise<ReadManifest> {
  const path = join(dir, MANIFEST_NAME);
  let text: string | undefined;
  try {
    text = readSecureText(path);
  } catch {
    return { text: '\0unreadable' };
  }
  if (text === undefined) return {};
  try {
    const { bytes } = await openWithHandles(keys, text, AD, path);
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
    if (doc.v !== 1 || typeof doc.gen !== 'number' || typeof doc.open !== 'boolean' || typeof doc.files !== 'object' || doc.files === null) return { text };
    return { text, doc };
  } catch {
    return { text };
  }
}

async function seal(key: KeyHandle, doc: Manifest): Promise<string> {
  return key.seal(te.encode(JSON.stringify(doc)), AD);
}

function removeManifest(dir: string): void {
  if (removeFile(join(dir, MANIFEST_NAME))) fsyncDir(dir);
}

// Writers.

/** What a write needs of its transaction (transaction.ts's Tx, or metadataTransaction's state). */
export interface ManifestWriter {
  readonly dir: string;
  /** The backend vault.json names now (under the lock). */
  backend(): 'file' | 'keychain';
  keys(): Promise<readonly KeyHandle[]>;
  key(): Promise<KeyHandle>;
}

interface Active {
  openText: string;
  opened: boolean;
  touched: Set<string>;
}

/** Transactions of this process, by vault directory (the lock makes one per directory at a time). */
const active = new Map<string, Active>();

/** dir/name is a regular file holding exactly data (a write that changes nothing); data undefined: a removal of nothing. */
function unchanged(dir: string, name: string, data: string | Uint8Array | undefined): boolean {
  const path = join(dir, name);
  try {
    if (!fs.lstatSync(path).isFile()) return false;
    if (data === undefined) return false;
    return fs.readFileSync(path).equals(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  } catch {
    return data === undefined; // nothing there to remove
  }
}

function observe(dir: string, name: string, data?: string | Uint8Array): void {
  if (name === MANIFEST_NAME || !covered(name)) return;
  const a = active.get(resolve(dir));
  if (!a) return;
  // Rewriting the same bytes (metadata.json after a delete of nothing) or removing what is not
  // there changes no hash: nothing to open (a command that changes nothing leaves the vault as it was).
  if (unchanged(dir, name, data)) return;
  if (!a.opened) {
    a.opened = true;
    failpoint('manifest:opening');
    writeAtomic(dir, MANIFEST_NAME, a.openText);
    failpoint('manifest:opened');
  }
  a.touched.add(name);
}

/**
 * Under the lock, before a transaction's work: prepares the open manifest (written before its
 * first change to a covered file); returns what ends it. Where no manifest can be kept (a
 * keychain vault, a key that cannot seal), any manifest is removed first: no check, never a
 * stale one.
 */
export async function beginManifest(w: ManifestWriter): Promise<(opts?: { recompute?: boolean }) => Promise<void>> {
  const dir = resolve(w.dir);
  const startedFile = w.backend() === 'file';
  let prev: ReadManifest = {};
  let keyId: string | undefined;
  let a: Active | undefined;
  if (startedFile) {
    try {
      const key = await w.key();
      keyId = key.id;
      prev = await readManifest(dir, await w.keys());
      a = { openText: await seal(key, { v: 1, gen: (prev.doc?.gen ?? 0) + 1, open: true, files: {} }), opened: false, touched: new Set() };
    } catch {
      a = undefined;
    }
  }
  if (!a) removeManifest(dir);
  else {
    active.set(dir, a);
    setWriteObserver(observe);
  }
  return async (opts = {}) => {
    if (a) active.delete(dir);
    if (active.size === 0) setWriteObserver(undefined);
    try {
      if (w.backend() !== 'file') {
        if (startedFile) removeManifest(dir);
        return;
      }
      if (!a && startedFile) return; // could not seal: the manifest was removed; the next write makes one
      const key = await w.key();
      const sameKey = key.id === keyId;
      if (a && !a.opened && sameKey && !opts.recompute) return; // nothing covered changed
      let files: Record<string, string>;
      if (a && sameKey && !opts.recompute && prev.doc && !prev.doc.open) {
        files = { ...prev.doc.files };
        for (const name of a.touched) {
          const h = fileHash(dir, name);
          if (h === undefined) delete files[name];
          else files[name] = h;
        }
      } else {
        files = hashDirectory(dir);
      }
      const closed = await seal(key, { v: 1, gen: (prev.doc?.gen ?? 0) + 2, open: false, files });
      failpoint('manifest:closing');
      writeAtomic(dir, MANIFEST_NAME, closed);
    } catch {
      // Left open (or as it was): no check until the next write closes it.
    }
  };
}

// Readers.

/** What a reader read, by file name: the hash of the bytes read, or undefined for "absent". */
export type ReadLog = Map<string, string | undefined>;

function describe(name: string, dir: string): string {
  if (name === METADATA_NAME) return join(dir, METADATA_NAME);
  const p = parseEntryName(name);
  if (p && p.service === RESERVED_SERVICE && p.key === LINKS_KEY) return `the vault's list of links (${join(dir, name)})`;
  return p ? `${p.service} ${p.key} (${join(dir, name)})` : join(dir, name);
}

export function rollbackError(dir: string, name: string, kind: 'older' | 'unlisted'): VaultError {
  const what = describe(name, dir);
  const message =
    kind === 'older'
      ? `${what} is older than the vault's manifest: it was replaced by an older copy`
      : `${what} is not in the vault's manifest: it was deleted by mcp-tokens and an older copy was put back`;
  return new VaultError('INTEGRITY', message, {
    hint: `nothing was used from it; store the current value again (mcp-tokens store …), or restore one you trust from backups/ (mcp-tokens backups, mcp-tokens restore)`,
    reason: 'rollback',
  });
}

/**
 * The first file read that a closed manifest does not account for: a sealed file whose hash
 * differs (an older copy), or one the manifest does not list (deleted by mcp-tokens, then put
 * back). A file absent now is not reported (a deletion brings back no value; load says "not found").
 */
export function findRollback(dir: string, doc: Manifest, read: ReadLog): VaultError | undefined {
  for (const [name, h] of [...read].sort(([x], [y]) => x.localeCompare(y))) {
    if (h === undefined) continue;
    const want = doc.files[name];
    if (h === want) continue;
    return rollbackError(dir, name, want === undefined ? 'unlisted' : 'older');
  }
  return undefined;
}

/**
 * A reader's check (cli/context.ts openForRead): `before` is the manifest read before the entries,
 * `read` what was read. Throws exit 6 only when the manifest was closed and is byte for byte
 * unchanged now; metadata.json is compared too.
 */
export function checkRead(dir: string, before: ReadManifest, read: ReadLog): void {
  if (!before.doc || before.doc.open) return;
  const log: ReadLog = new Map(read);
  log.set(METADATA_NAME, fileHash(dir, METADATA_NAME));
  let now: string | undefined;
  try {
    now = readSecureText(join(dir, MANIFEST_NAME));
  } catch {
    return;
  }
  if (now !== before.text) return;
  const found = findRollback(dir, before.doc, log);
  if (found) throw found;
}

/** doctor: every covered file against the manifest; what to report (undefined: nothing to say). */
export async function checkDirectory(dir: string, keys: readonly KeyHandle[]): Promise<{ level: 'ok' | 'warn' | 'error'; message: string; error?: VaultError }> {
  const before = await readManifest(dir, keys);
  if (before.text === undefined) return { level: 'ok', message: 'no rollback manifest yet (the next write makes one)' };
  if (!before.doc) return { level: 'warn', message: `the vault's manifest (${join(dir, MANIFEST_NAME)}) could not be read: older copies of entries are not detected until the next write replaces it` };
  if (before.doc.open) {
    return { level: 'warn', message: 'the vault\'s manifest is open: a write was interrupted (or is running); older copies of entries are not detected until the next write closes it' };
  }
  const log: ReadLog = new Map();
  const names = new Set([...Object.keys(before.doc.files), ...fs.readdirSync(dir).filter(covered)]);
  for (const name of names) log.set(name, fileHash(dir, name));
  let now: string | undefined;
  try {
    now = readSecureText(join(dir, MANIFEST_NAME));
  } catch {
    now = undefined;
  }
  if (now !== before.text) return { level: 'ok', message: 'rollback manifest not checked (a write ran meanwhile)' };
  const found = findRollback(dir, before.doc, log);
  if (found) return { level: 'error', message: found.message, error: found };
  const checked = [...log.values()].filter((h) => h !== undefined).length;
  return { level: 'ok', message: `no entry is older than the vault's manifest (${checked} files checked)` };
}
