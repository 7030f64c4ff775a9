/**
 * The only place that touches vault files. Rules (DESIGN.md §3, §6): files are created 0600 at
 * open() time with O_EXCL|O_NOFOLLOW, never chmod'ed afterwards; writes go to a temp file in the
 * same directory, are fsync'ed and renamed over the target, then the directory is fsync'ed;
 * reads never follow a symlink and refuse loose modes and foreign owners, the way OpenSSH does.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { VaultError, ioError } from '../errors.js';
import { failpoint } from './failpoint.js';

const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = fs.constants;
export const TEMP_PREFIX = '.tmp-';

function uid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

export function unsafe(path: string, problem: string, fix: string): VaultError {
  return new VaultError('UNSAFE_PERMISSIONS', `refusing to use ${path}: ${problem}`, {
    hint: `run: mcp-tokens doctor --fix   (or: ${fix})`,
  });
}

/** What a non-regular, non-directory node is, for messages. */
export function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** A FIFO, socket, device or directory where a file belongs: only a human can say what it is. */
export function notRegular(path: string, st: fs.Stats): VaultError {
  return new VaultError('UNSAFE_PERMISSIONS', `refusing to use ${path}: it is ${kindOf(st)}, not a regular file`, {
    hint: `inspect it, then move it out of the way: mv '${path}' '${path}.aside'`,
  });
}

/** OpenSSH-style check of a vault file or directory's stat. */
export function checkStat(path: string, st: fs.Stats, kind: 'file' | 'dir'): void {
  if (st.isSymbolicLink()) throw unsafe(path, 'it is a symbolic link', `remove the link and run the command again`);
  if (kind === 'dir' && !st.isDirectory()) throw unsafe(path, 'it is not a directory', `move it out of the way`);
  if (kind === 'file' && !st.isFile()) throw notRegular(path, st);
  const me = uid();
  if (me !== undefined && st.uid !== me) throw unsafe(path, `it is owned by uid ${st.uid}, not by you (uid ${me})`, `chown ${me} '${path}'`);
  if ((st.mode & 0o077) !== 0) {
    const want = kind === 'dir' ? '700' : '600';
    throw unsafe(path, `its permissions ${(st.mode & 0o777).toString(8)} let other users in`, `chmod ${want} '${path}'`);
  }
}

/** lstat that returns undefined for a missing path. */
export function lstatOrUndefined(path: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('inspect', path, e);
  }
}

/** Make sure a private directory exists (0700 at creation) and is safe to use. */
export function ensureDir(path: string, create: boolean): boolean {
  const st = lstatOrUndefined(path);
  if (st) {
    checkStat(path, st, 'dir');
    return true;
  }
  if (!create) return false;
  try {
    fs.mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError('create directory', path, e);
  }
  checkStat(path, fs.lstatSync(path), 'dir');
  return true;
}

/**
 * What ensureDir(path, true) and then writing `name` in it would meet, checked without creating
 * anything: the same refusals with the same messages. A dry run makes this check where the real
 * run would create the vault, and create() makes it before it asks for a passphrase.
 */
export function checkCreatable(path: string, name: string): void {
  if (ensureDir(path, false)) {
    try {
      fs.accessSync(path, fs.constants.W_OK | fs.constants.X_OK);
    } catch (e) {
      throw ioError('write', join(path, name), e);
    }
    return;
  }
  // mkdir -p makes the missing part: the nearest existing ancestor must be a folder we can write.
  let above = dirname(path);
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(above);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A dangling symbolic link on the way: mkdir -p fails there with this very ENOENT.
      if (code !== 'ENOENT' || dirname(above) === above || lstatOrUndefined(above)) throw ioError('create directory', path, e);
      above = dirname(above);
      continue;
    }
    if (!st.isDirectory()) throw ioError('create directory', path, Object.assign(new Error(`${above} is not a directory`), { code: 'ENOTDIR' }));
    try {
      fs.accessSync(above, fs.constants.W_OK | fs.constants.X_OK);
    } catch (e) {
      throw ioError('create directory', path, e);
    }
    return;
  }
}

/**
 * Read a vault file without following links; undefined when absent. O_NONBLOCK: opening a FIFO
 * put in its place must not wait for a writer (it would hang every command); fstat then refuses it.
 */
export function readSecure(path: string, maxBytes?: { limit: number; tooBig: () => VaultError }): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw unsafe(path, 'it is a symbolic link', 'remove the link and run the command again');
    throw ioError('read', path, e);
  }
  try {
    const st = fs.fstatSync(fd);
    checkStat(path, st, 'file');
    // The size is checked before anything is read: a huge file is refused, not loaded into memory.
    if (maxBytes && st.size > maxBytes.limit) throw maxBytes.tooBig();
    const data = fs.readFileSync(fd);
    if (maxBytes && data.length > maxBytes.limit) throw maxBytes.tooBig(); // grew after fstat
    return data;
  } catch (e) {
    if (e instanceof VaultError) throw e;
    throw ioError('read', path, e);
  } finally {
    fs.closeSync(fd);
  }
}

export function readSecureText(path: string, maxBytes?: { limit: number; tooBig: () => VaultError }): string | undefined {
  return readSecure(path, maxBytes)?.toString('utf8');
}

function tempPath(dir: string, name: string): string {
  return join(dir, `${TEMP_PREFIX}${name}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Create a new 0600 file with data, fsync'ed; never follows or overwrites anything. */
function writeNew(path: string, data: string | Uint8Array): void {
  const fd = fs.openSync(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, O_RDONLY | O_DIRECTORY);
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse directory fsync; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Called before every writeAtomic (with the data) and removeFile, with the file's folder and name: the vault's
 * manifest (manifest.ts) marks itself open before a transaction's first change to a file it covers.
 */
let writeObserver: ((dir: string, name: string, data?: string | Uint8Array) => void) | undefined;

export function setWriteObserver(fn: ((dir: string, name: string, data?: string | Uint8Array) => void) | undefined): void {
  writeObserver = fn;
}

/**
 * Atomically replace dir/name with data (temp + fsync + rename + fsync dir). With syncDir false
 * the caller fsyncs dir itself, once for a batch of writes, before anything that relies on them
 * having reached the disk (rekey: before the previous key is dropped).
 */
export function writeAtomic(dir: string, name: string, data: string | Uint8Array, { syncDir = true }: { syncDir?: boolean } = {}): void {
  writeObserver?.(dir, name, data);
  const target = join(dir, name);
  const tmp = tempPath(dir, name);
  try {
    const st = lstatOrUndefined(target);
    if (st && !st.isFile()) throw notRegular(target, st);
    writeNew(tmp, data);
    failpoint(`write:${name}`);
    fs.renameSync(tmp, target);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* not created */
    }
    if (e instanceof VaultError) throw e;
    throw ioError('write', target, e);
  }
  if (syncDir) fsyncDir(dir);
  failpoint(`wrote:${name}`);
}

/**
 * Create dir/name with data only if it does not exist yet (link(2) never replaces);
 * returns false when the name is taken, so the caller can pick another.
 */
export function writeExclusive(dir: string, name: string, data: string | Uint8Array): boolean {
  const target = join(dir, name);
  const tmp = tempPath(dir, name);
  try {
    writeNew(tmp, data);
    fs.linkSync(tmp, target);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw ioError('write', target, e);
  } finally {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* never created */
    }
    fsyncDir(dir);
  }
}

export function removeFile(path: string): boolean {
  writeObserver?.(dirname(path), basename(path));
  try {
    fs.unlinkSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError('remove', path, e);
  }
}

export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temp files left by a process that died mid-write (kill -9). */
export function staleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(TEMP_PREFIX))
    .filter((n) => {
      const m = /-(\d+)-[0-9a-f]{12}$/.exec(n);
      return !m || !pidAlive(Number(m[1]));
    })
    .map((n) => join(dir, n));
}

export function cleanStaleTemps(dir: string): number {
  let n = 0;
  for (const p of staleTemps(dir)) if (removeFile(p)) n++;
  return n;
}
