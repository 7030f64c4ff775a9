/**
 * File access for migrate: never follow a symlink, never write in place. A rewritten file goes to
 * a temp file in the same directory (O_EXCL|O_NOFOLLOW, the original's mode), is fsynced and
 * renamed over the original, so a crash leaves either the old or the new file, never half of one.
 */
import { constants, promises as fs } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ioError, VaultError } from '../errors.js';

export interface ReadFile {
  bytes: Buffer;
  mode: number;
  ino: number;
  dev: number;
}

export type ReadResult = { ok: true; file: ReadFile } | { ok: false; absent: boolean; reason: string };

/** Read a regular file without following a symlink; absent or refused files are results, not throws. */
export async function readNoFollow(path: string, maxBytes: number): Promise<ReadResult> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, absent: true, reason: 'absent' };
    if (code === 'ELOOP') return { ok: false, absent: false, reason: 'is a symbolic link; not followed' };
    return { ok: false, absent: false, reason: `cannot be read (${code ?? 'error'})` };
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { ok: false, absent: false, reason: 'is not a regular file' };
    if (st.size > maxBytes) return { ok: false, absent: false, reason: `is larger than ${maxBytes} bytes` };
    const bytes = await handle.readFile();
    return { ok: true, file: { bytes, mode: st.mode & 0o7777, ino: st.ino, dev: st.dev } };
  } finally {
    await handle.close();
  }
}

/**
 * The refusal reason for a source that failed in a way nobody foresaw (a parser's RangeError, an
 * EACCES on a directory). Only the error's class and code are named: a message could quote the
 * file's content, which may be a credential.
 */
export function unreadable(e: unknown): string {
  if (e instanceof VaultError) return `could not be read (${e.code}); skipped`;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const name = e instanceof Error ? e.name : 'error';
  return `could not be read (${typeof code === 'string' ? code : name}); skipped`;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Replace `path` with `content` atomically, with permission bits `mode`. */
export async function atomicWrite(path: string, content: Uint8Array, mode: number): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.mcp-tokens-${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    await handle.chmod(mode); // open()'s mode is cut by the umask; the original's bits are wanted
    await handle.writeFile(content);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw ioError('write', path, e);
  }
  await syncDir(dir);
}

/**
 * Overwrite a plaintext file with zeros and unlink it — but only if it still holds `expected`
 * and is still the same inode: the vault (file backend in the same directory) may already have
 * renamed an encrypted entry into its place, which must not be touched. Returns what happened.
 */
export async function shredIfUnchanged(path: string, expected: Uint8Array): Promise<'removed' | 'replaced' | 'absent'> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'absent';
    if (code === 'ELOOP') return 'replaced';
    throw ioError('open', path, e);
  }
  try {
    const st = await handle.stat();
    const now = await handle.readFile();
    if (!st.isFile() || !Buffer.from(expected).equals(now)) return 'replaced';
    await handle.write(Buffer.alloc(now.length), 0, now.length, 0);
    await handle.sync();
    const still = await fs.lstat(path);
    if (still.ino !== st.ino || still.dev !== st.dev) return 'replaced';
    await fs.unlink(path);
  } catch (e) {
    throw e instanceof VaultError ? e : ioError('remove', path, e);
  } finally {
    await handle.close();
  }
  await syncDir(dirname(path));
  return 'removed';
}

/** Make a rename or unlink durable. Some file systems refuse fsync on a directory: not fatal. */
async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
