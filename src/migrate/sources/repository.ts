/**
 * Whether a file given on the command line lives in a repository (a checkout someone else wrote):
 * its values are then untrusted like a project config's. A folder is a repository when it holds
 * `.git` (a directory, or the file a worktree or submodule has). HOME's own `.git` (a dotfiles
 * repository) does not count: files there are the user's own.
 */
import { lstat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** The repository folder that holds `path`, or undefined. */
export async function repositoryOf(path: string, home: string): Promise<string | undefined> {
  const top = resolve(home);
  let dir = dirname(resolve(path));
  for (;;) {
    if (dir === top) return undefined;
    if (await exists(join(dir, '.git'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
