/**
 * Whether a file given on the command line lives in a repository (a checkout someone else wrote):
 * its values are then untrusted like a project config's. A folder is a repository when it holds
 * `.git` (a directory, or the file a worktree or submodule has). HOME's own `.git` (a dotfiles
 * repository) does not count: files there are the user's own.
 */
import { lstat, realpath } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * The repository folder that holds `path` or, when it is a link, its target (a link into a
 * cloned repository is as untrusted as the file it leads to); undefined when neither is in one.
 */
export async function repositoryOf(path: string, home: string): Promise<string | undefined> {
  const target = await realpath(path).catch(() => undefined);
  return (await folderRepository(path, home)) ?? (target !== undefined && target !== resolve(path) ? folderRepository(target, home) : undefined);
}

async function folderRepository(path: string, home: string): Promise<string | undefined> {
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
