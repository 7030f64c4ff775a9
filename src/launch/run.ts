/**
 * `mcp-tokens run`: start a program with credentials in its environment and get out of the way.
 *
 * - No shell: the command and its arguments go to the kernel as given, so nothing in them is
 *   re-parsed, and credentials travel only in the environment, never in any argv.
 * - stdin, stdout and stderr are inherited, not piped: a stdio MCP server's JSON-RPC reaches the
 *   client byte for byte, and this module writes nothing anywhere.
 * - On Node ≥ 22.15 (POSIX) `process.execve` replaces this process with the command: same pid, so
 *   the MCP client's signals reach the server directly and its exit status is the server's own.
 *   Node 20 lacks it: there we spawn, forward SIGINT/SIGTERM/SIGHUP, and resolve the child's exit
 *   code or 128 + signal number, as shells report it. (A Ctrl-C on a terminal signals the whole
 *   foreground process group, so the child may see that SIGINT twice; a program's SIGINT handling
 *   is idempotent in practice, and keeping the child in our group keeps job control working.)
 * - A command that cannot be started is a VaultError('FAILED') raised before the child exists.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { VaultError } from '../errors.js';
import { assertEnvPair, scrubEnv } from './env.js';
import { injectedEnv } from '../user-dirs.js';

export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface RunOptions {
  /** Environment to start from (before scrubbing); default process.env. */
  baseEnv?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Use process.execve where Node provides it (default true; never with `cwd`); false spawns. */
  execve?: boolean;
}

type Execve = (file: string, args: string[], env: Record<string, string>) => never;

/** Run `command args…` with `extraEnv` on top of the scrubbed environment; see the header. */
export async function runWithEnv(
  command: string,
  args: readonly string[],
  extraEnv: Readonly<Record<string, string>>,
  opts: RunOptions = {},
): Promise<number> {
  if (command === '') {
    throw new VaultError('USAGE', 'No command to run', { hint: 'mcp-tokens run <service…> -- <command> [args…]' });
  }
  if ([command, ...args].some((a) => a.includes('\0'))) {
    throw new VaultError('USAGE', 'The command line contains a NUL character');
  }
  for (const [name, value] of Object.entries(extraEnv)) assertEnvPair(name, value);
  // Scrub after merging, so not even extraEnv can hand the passphrase on.
  const base = { ...(opts.baseEnv ?? process.env) };
  for (const name of injectedEnv) delete base[name]; // ours for libdbus, not the client's
  const env = scrubEnv({ ...base, ...extraEnv });
  const cwd = opts.cwd ?? process.cwd();

  const execve = (process as unknown as { execve?: Execve }).execve;
  if (opts.execve !== false && typeof execve === 'function' && process.platform !== 'win32' && opts.cwd === undefined) {
    const file = resolveCommand(command, env['PATH'], cwd);
    try {
      execve(file, [command, ...args], env);
    } catch (e) {
      throw cannotStart(command, e);
    }
  }
  return spawnAndWait(command, args, env, cwd);
}

function spawnAndWait(command: string, args: readonly string[], env: Record<string, string>, cwd: string): Promise<number> {
  return new Promise<number>((resolvePromise, reject) => {
    let child;
    try {
      child = spawn(command, [...args], { stdio: 'inherit', env, cwd, shell: false, windowsHide: false });
    } catch (e) {
      reject(cannotStart(command, e)); // invalid arguments are thrown synchronously
      return;
    }
    const forward = (signal: NodeJS.Signals): void => {
      // The child may already be gone (race with its exit); nothing to forward to then.
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    const handlers = FORWARDED_SIGNALS.map((sig) => [sig, () => forward(sig)] as const);
    const detach = (): void => {
      for (const [sig, fn] of handlers) process.removeListener(sig, fn);
    };
    // Installed synchronously after spawn() returned: the pid exists from here on, and a signal
    // arriving before the 'spawn' event is still forwarded instead of killing us alone.
    for (const [sig, fn] of handlers) process.on(sig, fn);

    // With a pid the child runs, and a later 'error' (a failed kill) is not a start failure:
    // 'exit' still settles the promise.
    if (child.pid === undefined) {
      child.once('error', (e) => {
        detach();
        reject(cannotStart(command, e));
      });
    } else {
      child.on('error', () => undefined);
    }
    child.once('exit', (code, signal) => {
      detach();
      resolvePromise(exitStatus(code, signal));
    });
  });
}

/** The child's exit code, or 128 + the signal number when a signal ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal !== null) return 128 + (osConstants.signals[signal] ?? 0);
  return code ?? 1;
}

/**
 * execve(2) does not search PATH, so do what execvp would: a name with a slash is a path, else
 * the first executable regular file in PATH (an empty entry means the current directory).
 */
export function resolveCommand(command: string, pathEnv: string | undefined, cwd: string): string {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (pathEnv ?? '').split(delimiter).map((dir) => resolve(cwd, dir === '' ? '.' : dir, command));
  let denied: unknown;
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') denied ??= e;
    }
  }
  const err = denied ?? Object.assign(new Error(`${command} not found`), { code: 'ENOENT' });
  throw cannotStart(command, err);
}

function cannotStart(command: string, e: unknown): VaultError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const shown = JSON.stringify(command);
  if (code === 'ENOENT') {
    return new VaultError('FAILED', `cannot start ${shown}: command not found`, {
      hint: 'check that it is installed and on the PATH the MCP client passes (or give an absolute path)',
      cause: e,
      exitCode: 127, // as shells report a command not found
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new VaultError('FAILED', `cannot start ${shown}: permission denied`, {
      hint: `check that ${command} is an executable file (chmod +x) on a file system mounted with exec`,
      cause: e,
      exitCode: 126, // as shells report a command found but not executable
    });
  }
  const reason = code ?? (e instanceof Error ? e.message : String(e));
  return new VaultError('FAILED', `cannot start ${shown}: ${reason}`, { cause: e });
}
