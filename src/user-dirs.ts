/**
 * Places that belong to the user by uid alone, whatever environment the process was given. MCP
 * clients start servers with a reduced environment (the MCP SDK's StdioClientTransport passes only
 * HOME, LOGNAME, PATH, SHELL, TERM and USER), so nothing that `run` must find — the unlock agent's
 * socket, the session bus — may be looked up through XDG_RUNTIME_DIR or TMPDIR.
 *
 *  - runUser: /run/user/<uid>, the runtime directory systemd-logind (or elogind) makes at login.
 *  - tmp: /tmp (not os.tmpdir(), which follows TMPDIR).
 *  - home: the user's home from the password database (os.userInfo(), not $HOME).
 *
 * Tests replace these with directories of their own through a global that only code already
 * running in the process can set (test/helpers/cli.ts loads it with `node --import`); there is no
 * environment variable, option or file that moves them.
 */
import * as fs from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export interface UserRoots {
  runUser: string;
  tmp: string;
  home: string;
}

const TEST_ROOTS = Symbol.for('mcp-tokens.test.userRoots');

export function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1;
}

export function userRoots(): UserRoots {
  const hook = (globalThis as Record<symbol, unknown>)[TEST_ROOTS] as UserRoots | undefined;
  if (hook) return hook;
  let home: string;
  try {
    home = userInfo().homedir;
  } catch {
    home = process.env['HOME'] ?? '/';
  }
  return { runUser: join('/run/user', String(uid())), tmp: '/tmp', home };
}

/**
 * The user's runtime directory when it is sound: a real directory (not a link), owned by the
 * user, mode 0700 (no group or other bits). Undefined otherwise (no logind session, a container).
 */
export function runtimeDir(roots: UserRoots = userRoots()): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(roots.runUser);
  } catch {
    return undefined;
  }
  return st.isDirectory() && st.uid === uid() && (st.mode & 0o077) === 0 ? roots.runUser : undefined;
}

/**
 * The standard session bus of the user's login, `unix:path=/run/user/<uid>/bus`, when that socket
 * exists in a sound runtime directory and is the user's; else why not (for the error message).
 */
export function standardBus(roots: UserRoots = userRoots()): { address: string } | { why: string } {
  const bus = join(roots.runUser, 'bus');
  if (!runtimeDir(roots)) return { why: `${roots.runUser} does not exist or is not a 0700 directory of yours, so there is no ${bus}` };
  let st: fs.Stats;
  try {
    st = fs.lstatSync(bus);
  } catch {
    return { why: `there is no session bus socket at ${bus}` };
  }
  if (!st.isSocket() || st.uid !== uid()) return { why: `${bus} is not a socket of yours` };
  return { address: `unix:path=${bus}` };
}

/**
 * Variables this process set in its own environment for a library to read (the bus address for
 * libdbus): `run` leaves them out of the command's environment, which gets what the client gave.
 */
export const injectedEnv = new Set<string>();
