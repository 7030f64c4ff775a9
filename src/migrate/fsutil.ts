/**
 * File access for migrate: never follow a symlink blindly, never write in place. A rewritten file
 * goes to a temp file in the same directory (O_EXCL|O_NOFOLLOW, the original's mode), is fsynced
 * and renamed over the original, so a crash leaves either the old or the new file, never half of
 * one. A client config or rc file that is a symlink (dotfiles managers) is followed to its final
 * target only when that target is the user's own (see readSource); the rename then happens at the
 * target's path, so the link itself is never replaced.
 */
import { constants, promises as fs } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Stats } from 'node:fs';
import { ioError, VaultError } from '../errors.js';

export interface ReadFile {
  bytes: Buffer;
  mode: number;
  ino: number;
  dev: number;
  /** The real path of the file read, when the path given was a symlink that was followed. */
  target?: string;
}

/** A refusal's `step`: what the user can do by hand, when there is something better than "check it". */
export type ReadResult = { ok: true; file: ReadFile } | { ok: false; absent: boolean; reason: string; step?: string; tooLarge?: true };

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
    if (st.size > maxBytes) {
      return { ok: false, absent: false, tooLarge: true, reason: `is larger than ${maxBytes / (1024 * 1024)} MiB (${maxBytes} bytes), the most migrate reads, so it was not read at all` };
    }
    const bytes = await handle.readFile();
    return { ok: true, file: { bytes, mode: st.mode & 0o7777, ino: st.ino, dev: st.dev } };
  } finally {
    await handle.close();
  }
}

/** Where a followed link led when the plan read it: apply writes only if it still leads there. */
export interface LinkTarget {
  target: string;
  ino: number;
  dev: number;
}

/**
 * Read a client config, .env or rc file, following it when it is a symlink to a file of the
 * user's own. The link (or chain of links) is followed only when its final target is a regular
 * file owned by the user, not writable by other users, in a folder owned by the user (or root)
 * that other users cannot write to (a sticky folder such as /tmp excepted: there nobody but the
 * owner may rename or remove the file). Otherwise another user could choose what migrate reads
 * (their token into the user's vault) or swap the file between the check and the write. A group
 * write bit is accepted only for the user's own primary group (a user-private group, what umask
 * 002 on Debian/Ubuntu gives). Refusals name both paths.
 *
 * With `expect` (apply, for a path the plan followed) the link must still lead to the same
 * target, the same inode: anything else is refused as changed since the plan.
 */
export async function readSource(path: string, maxBytes: number, expect?: LinkTarget): Promise<ReadResult> {
  let link: Stats;
  try {
    link = await fs.lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, absent: true, reason: 'absent' };
    return { ok: false, absent: false, reason: `cannot be read (${code ?? 'error'})` };
  }
  if (!link.isSymbolicLink()) {
    if (expect) return { ok: false, absent: false, reason: `is no longer a symbolic link to ${expect.target} (changed since the plan); re-run migrate` };
    return readNoFollow(path, maxBytes);
  }
  const to = await fs.readlink(path).catch(() => '?');
  let target: string;
  try {
    target = await fs.realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const step = `fix or remove the link ${path} (it leads nowhere, so the client reads no servers from it either), then re-run mcp-tokens migrate`;
    if (code === 'ELOOP') return { ok: false, absent: false, reason: `is a symbolic link (to ${to}) in a loop of links; not followed`, step };
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, absent: false, reason: `is a dangling symbolic link (to ${to}, which does not exist); not followed`, step };
    return { ok: false, absent: false, reason: `is a symbolic link (to ${to}) that cannot be resolved (${code ?? 'error'}); not followed` };
  }
  if (expect && target !== expect.target) {
    return { ok: false, absent: false, reason: `now leads to ${target}, not to ${expect.target} as when the plan was made; re-run migrate` };
  }
  const checked = await fs.lstat(target).catch(() => undefined);
  if (!checked) return { ok: false, absent: false, reason: `is a symbolic link to ${target}, which is gone; re-run migrate` };
  const why = await untrusted(target, checked);
  if (why) return { ok: false, absent: false, reason: `is a symbolic link to ${target}, ${why}; not followed`, step: linkStep(path, target) };
  // realpath resolved every link: O_NOFOLLOW refuses a target swapped for a link since.
  const read = await readNoFollow(target, maxBytes);
  if (!read.ok) return read.absent ? { ok: false, absent: false, reason: `is a symbolic link to ${target}, which is gone; re-run migrate` } : { ...read, reason: `is a symbolic link to ${target}, which ${read.reason}` };
  if (expect && (read.file.ino !== expect.ino || read.file.dev !== expect.dev)) {
    return { ok: false, absent: false, reason: `is a symbolic link to ${target}, which was replaced by another file since the plan; re-run migrate` };
  }
  // Checked on the path, read through a handle: the file read must be the file checked.
  const still = await fs.lstat(target).catch(() => undefined);
  if (checked.ino !== read.file.ino || checked.dev !== read.file.dev || !still || still.ino !== read.file.ino || still.dev !== read.file.dev || (await fs.realpath(path).catch(() => '')) !== target) {
    return { ok: false, absent: false, reason: `is a symbolic link to ${target}, which changed while it was read; re-run migrate` };
  }
  return { ok: true, file: { ...read.file, target } };
}

function linkStep(link: string, target: string): string {
  return `check ${target} by hand for tokens; if it is meant to be your own file, make it one (owned by you, in a folder only you can write, not writable by others) or replace the link ${link} with a copy of it, then re-run mcp-tokens migrate`;
}

/** Why a link's final target may not be followed, or undefined when it is the user's own. */
async function untrusted(target: string, st: Stats): Promise<string | undefined> {
  const me = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const group = typeof process.getgid === 'function' ? process.getgid() : undefined;
  if (me === undefined) return 'and links are not followed on this platform';
  if (!st.isFile()) return 'which is not a regular file';
  if (st.uid !== me) return `which is owned by another user (uid ${st.uid}), not by you`;
  if (st.mode & 0o002 || (st.mode & 0o020 && st.gid !== group)) return `which other users can write to (mode ${(st.mode & 0o777).toString(8)})`;
  const dir = await fs.stat(dirname(target));
  if (dir.uid !== me && dir.uid !== 0) return `whose folder ${dirname(target)} is owned by another user (uid ${dir.uid})`;
  const sticky = (dir.mode & 0o1000) !== 0;
  if (!sticky && (dir.mode & 0o002 || (dir.mode & 0o020 && dir.gid !== group))) {
    return `whose folder ${dirname(target)} other users can write to (mode ${(dir.mode & 0o777).toString(8)}): they could swap the file`;
  }
  return undefined;
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
