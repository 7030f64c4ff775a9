/**
 * Where the agent's socket lives, and the checks both sides make before trusting it.
 *
 * The directory is `$XDG_RUNTIME_DIR/mcp-tokens/` when XDG_RUNTIME_DIR is set and is a directory
 * owned by the user, else `<tmpdir>/mcp-tokens-<uid>/`. It is created 0700 (mkdir's mode, under
 * the process's 077 umask: never loose, not even for an instant) and must be a real directory,
 * owned by the user, with no group/other bits: a symlink, a directory planted by someone else or
 * a loosened mode is refused with its path named. One agent per vault: the socket is named by a
 * hash of the vault directory; a token file beside it (0600) lets clients prove their uid
 * (SECURITY.md, "The agent").
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VaultError, ioError } from '../errors.js';

export interface AgentPaths {
  dir: string;
  /** The per-vault base name of the socket and token files. */
  name: string;
  socket: string;
  token: string;
}

function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1;
}

/** The socket directory for this user (not created, not checked). */
export function agentDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg && xdg.startsWith('/')) {
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(xdg);
    } catch {
      st = undefined;
    }
    if (st?.isSymbolicLink()) throw refuse(xdg, 'XDG_RUNTIME_DIR is a symbolic link', 'point XDG_RUNTIME_DIR at the real directory');
    if (st?.isDirectory() && st.uid === uid()) return join(xdg, 'mcp-tokens');
  }
  return join(tmpdir(), `mcp-tokens-${uid()}`);
}

export function agentPaths(vaultDir: string, env: NodeJS.ProcessEnv = process.env): AgentPaths {
  const dir = agentDir(env);
  const name = createHash('sha256').update(resolve(vaultDir)).digest('hex').slice(0, 20);
  return socketFiles(dir, name);
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
