/**
 * Where the agent's socket lives, and the checks both sides make before trusting it.
 *
 * The place depends on the user (uid) and the vault only, never on the environment a client
 * kept (src/user-dirs.ts). In order:
 *  1. /run/user/<uid>/mcp-tokens/, when /run/user/<uid> is a real 0700 directory of the user's;
 *  2. /tmp/mcp-tokens-<uid>/, unless another user made that name first (squatting: anyone may
 *     create names in /tmp, and the sticky bit keeps the owner's);
 *  3. ~/.cache/mcp-tokens/ under the home directory of the password database.
 * `unlock` serves at the first of these it can use; clients look in each, in the same order.
 * The directory is created 0700 (mkdir's mode, under the process's 077 umask: never loose, not
 * even for an instant) and must be a real directory, owned by the user, with no group/other bits:
 * a symlink or a loosened mode of the user's own is refused with its path named (the user can fix
 * those); one of another user's is passed over. One agent per vault: the socket is named by a
 * hash of the vault directory; a token file beside it (0600) lets clients prove their uid
 * (SECURITY.md, "The agent").
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { VaultError, ioError } from '../errors.js';
import { runtimeDir, uid, userRoots, type UserRoots } from '../user-dirs.js';

export interface AgentPaths {
  dir: string;
  /** The per-vault base name of the socket and token files. */
  name: string;
  socket: string;
  token: string;
}

/** sun_path holds 108 bytes on Linux and 104 on macOS, the terminating NUL included. */
export const MAX_SOCKET_PATH = 103;

export interface AgentDirs {
  /** Where to look, in order; unlock serves at the first. */
  dirs: string[];
  /** Why a place was passed over (another user's /tmp/mcp-tokens-<uid>): unlock says it. */
  notice?: string;
}

/** The socket directories for this user, in order (not created; the user's own are checked on use). */
export function agentDirs(roots: UserRoots = userRoots()): AgentDirs {
  const dirs: string[] = [];
  let notice: string | undefined;
  const run = runtimeDir(roots);
  if (run) dirs.push(join(run, 'mcp-tokens'));
  const tmp = join(roots.tmp, `mcp-tokens-${uid()}`);
  const st = lstat(tmp);
  if (st && st.uid !== uid()) {
    notice = `${tmp} belongs to uid ${st.uid}, not to you (uid ${uid()}): another user made it, so the agent's socket is not put there`;
  } else {
    dirs.push(tmp);
  }
  dirs.push(join(roots.home, '.cache', 'mcp-tokens'));
  return notice ? { dirs, notice } : { dirs };
}

function vaultName(vaultDir: string): string {
  return createHash('sha256').update(resolve(vaultDir)).digest('hex').slice(0, 20);
}

/** Where unlock serves this vault: the first usable directory. */
export function agentPaths(vaultDir: string, roots: UserRoots = userRoots()): AgentPaths & { notice?: string } {
  const { dirs, notice } = agentDirs(roots);
  const name = vaultName(vaultDir);
  for (const dir of dirs) {
    const paths = socketFiles(dir, name);
    // The squatted /tmp place is worth a word only when it is what sent the agent elsewhere.
    if (Buffer.byteLength(paths.socket) <= MAX_SOCKET_PATH) return notice && dir === dirs[dirs.length - 1] ? { ...paths, notice } : paths;
  }
  const last = socketFiles(dirs[dirs.length - 1]!, name);
  throw new VaultError('USAGE', `no place for the agent's socket: ${last.socket} is longer than a Unix socket path may be (${MAX_SOCKET_PATH} bytes)`, {
    hint: `${notice ? `${notice}; ask its owner or an administrator to remove it, ` : ''}use a login that has /run/user/${uid()} (systemd-logind makes it), or give the passphrase to each command instead (MCP_TOKENS_PASSPHRASE_FILE)`,
    reason: 'agent-path',
  });
}

/** Every place a client looks for this vault's agent, in order. */
export function agentPathsAll(vaultDir: string, roots: UserRoots = userRoots()): AgentPaths[] {
  const name = vaultName(vaultDir);
  return agentDirs(roots)
    .dirs.map((dir) => socketFiles(dir, name))
    .filter((p) => Buffer.byteLength(p.socket) <= MAX_SOCKET_PATH);
}

export function socketFiles(dir: string, name: string): AgentPaths {
  return { dir, name, socket: join(dir, `${name}.sock`), token: join(dir, `${name}.token`) };
}

/** Check (and with create, make) the socket directory; false when it does not exist. */
export function checkAgentDir(dir: string, create: boolean): boolean {
  let st = lstat(dir);
  if (!st) {
    if (!create) return false;
    try {
      // ~/.cache may not exist yet (the other places' parents always do).
      fs.mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('create directory', dir, e);
    }
    st = lstat(dir)!;
  }
  if (st.isSymbolicLink()) throw refuse(dir, 'it is a symbolic link', `remove the link: rm '${dir}'`);
  if (!st.isDirectory()) throw refuse(dir, 'it is not a directory', `move it out of the way`);
  checkOwnerMode(dir, st, `chmod 700 '${dir}'`);
  return true;
}

/** The socket must be a socket, ours, and reachable by nobody else. */
export function checkSocket(path: string): boolean {
  const st = lstat(path);
  if (!st) return false;
  if (st.isSymbolicLink()) throw refuse(path, 'it is a symbolic link, not the agent socket', `remove it: rm '${path}'`);
  if (!st.isSocket()) throw refuse(path, 'it is not a socket', `remove it: rm '${path}'`);
  checkOwnerMode(path, st, `rm '${path}' (then unlock again)`);
  return true;
}

/** Read the token file without following links; it must be a 0600 regular file of ours. */
export function readToken(path: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw refuse(path, 'it is a symbolic link', `remove it: rm '${path}'`);
    throw ioError('read', path, e);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > 256) throw refuse(path, 'it is not an agent token file', `remove it: rm '${path}'`);
    checkOwnerMode(path, st, `rm '${path}'`);
    return fs.readFileSync(fd, 'utf8').trim();
  } finally {
    fs.closeSync(fd);
  }
}

function checkOwnerMode(path: string, st: fs.Stats, fix: string): void {
  if (st.uid !== uid()) throw refuse(path, `it is owned by uid ${st.uid}, not by you (uid ${uid()})`, fix);
  if ((st.mode & 0o077) !== 0) throw refuse(path, `its permissions ${(st.mode & 0o777).toString(8)} let other users in`, fix);
}

function lstat(path: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('inspect', path, e);
  }
}

function refuse(path: string, problem: string, fix: string): VaultError {
  return new VaultError('UNSAFE_PERMISSIONS', `refusing to use the agent path ${path}: ${problem}`, {
    hint: `${fix}; nothing was sent to it`,
    reason: 'agent-path',
  });
}
