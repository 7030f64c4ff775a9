/**
 * Editing a shell start-up file in place, safely: read, edit in memory, write a temp file beside
 * it (O_EXCL|O_NOFOLLOW), give it the original's mode, fsync, rename over, fsync the directory.
 * A crash leaves the old file or the new one, never half of either.
 *
 * Symlinks: dotfile managers (GNU Stow, yadm, home-manager…) often make ~/.bashrc a link into a
 * repository. We never write *through* a link: we resolve it once, explicitly, and atomically
 * replace the file it points to, so the link itself stays a link and the managed copy gets the
 * change, as if the user had edited it. A link into a read-only place (the Nix store) fails with a
 * clear error and changes nothing; `mcp-tokens setup --print` shows the block to add by hand.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { lstat, mkdir, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VaultError, ioError } from '../errors.js';
import { createdBySetup, insertBlock, markCreated, removeBlocks } from './rcblock.js';

export interface SetupResult {
  /** `deleted`: the block was removed and so was the file, which setup had created for it. */
  action: 'added' | 'updated' | 'unchanged' | 'removed' | 'deleted' | 'absent';
  /** The path given (e.g. ~/.bashrc). */
  rcPath: string;
  /** The file actually read and written: rcPath, or the target of the link rcPath is. */
  target: string;
  /** True when rcPath is a symbolic link and its target was edited. */
  viaSymlink: boolean;
}

/**
 * Add or refresh the block in rcPath (created, with its directory, if missing). A file created
 * here gets a block that says so, and keeps saying so when the block is refreshed.
 */
export async function applySetup(rcPath: string, block: string): Promise<SetupResult> {
  const file = await readTarget(rcPath);
  const created = !file.exists || createdBySetup(file.content, file.target);
  const edit = insertBlock(file.content, asBytes(created ? markCreated(block) : block), file.target);
  if (edit.action !== 'unchanged') await replaceFile(file, edit.content);
  return { action: edit.action, rcPath, target: file.target, viaSymlink: file.viaSymlink };
}

/**
 * Remove the block from rcPath; the rest of the file is restored byte for byte. A file setup
 * created that holds nothing else is deleted (never through a link: a dotfile manager owns it).
 */
export async function undoSetup(rcPath: string): Promise<SetupResult> {
  const file = await readTarget(rcPath);
  const result = (action: SetupResult['action']): SetupResult => ({ action, rcPath, target: file.target, viaSymlink: file.viaSymlink });
  if (!file.exists) return result('absent');
  const edit = removeBlocks(file.content, file.target);
  if (edit.removed === 0) return result('absent');
  if (edit.created && edit.content === '' && !file.viaSymlink) {
    try {
      await checkUnchanged(file);
      await unlink(file.target);
      await syncDir(dirname(file.target));
    } catch (e) {
      throw e instanceof VaultError ? e : ioError('remove', file.target, e);
    }
    return result('deleted');
  }
  await replaceFile(file, edit.content);
  return result('removed');
}

/**
 * Files are handled as latin1 strings, one character per byte, so bytes that are not valid UTF-8
 * survive the edit unchanged; the block (UTF-8 text) is converted to the same representation.
 */
function asBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

interface TargetFile {
  target: string;
  viaSymlink: boolean;
  exists: boolean;
  content: string;
  mode: number;
  /** Identity and state when read, to refuse overwriting a concurrent edit. */
  stamp: string | undefined;
}

async function readTarget(rcPath: string): Promise<TargetFile> {
  let target = rcPath;
  let viaSymlink = false;
  try {
    if ((await lstat(rcPath)).isSymbolicLink()) {
      viaSymlink = true;
      target = await realpath(rcPath);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && viaSymlink) {
      throw new VaultError('FAILED', `${rcPath} is a symbolic link to a file that does not exist`, {
        hint: 'fix or remove the link, or add the block by hand (mcp-tokens setup --print)',
      });
    }
    if (code !== 'ENOENT') throw ioError('read', rcPath, e);
  }
  try {
    const st = await stat(target);
    if (!st.isFile()) throw new VaultError('FAILED', `${target} is not a regular file`);
    const content = await readFile(target, 'latin1');
    return { target, viaSymlink, exists: true, content, mode: st.mode & 0o7777, stamp: stampOf(st) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e instanceof VaultError ? e : ioError('read', target, e);
    return { target, viaSymlink, exists: false, content: '', mode: 0o600, stamp: undefined };
  }
}

async function replaceFile(file: TargetFile, content: string): Promise<void> {
  const dir = dirname(file.target);
  if (!file.exists) await mkdir(dir, { recursive: true, mode: 0o700 }).catch((e: unknown) => Promise.reject(ioError('create', dir, e)));
  const tmp = join(dir, `.${basename(file.target)}.mcp-tokens-${randomBytes(6).toString('hex')}.tmp`);
  let created = false;
  try {
    const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    created = true;
    try {
      await fh.writeFile(content, 'latin1');
      await fh.chmod(file.mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await checkUnchanged(file);
    await rename(tmp, file.target);
    created = false;
    await syncDir(dir);
  } catch (e) {
    if (created) await unlink(tmp).catch(() => undefined);
    throw e instanceof VaultError ? e : ioError('write', file.target, e);
  }
}

/** Between our read and our rename someone else may have edited the file: do not undo their work. */
async function checkUnchanged(file: TargetFile): Promise<void> {
  const now = await stat(file.target).then(stampOf, (e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (now !== file.stamp) {
    throw new VaultError('FAILED', `${file.target} changed while mcp-tokens was editing it; nothing was written`, {
      hint: 'run the command again',
    });
  }
}

function stampOf(st: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself has been done.
  } finally {
    await fh.close();
  }
}
