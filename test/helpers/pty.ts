/**
 * The built CLI on a real pseudo-terminal (python3's pty module, driven by pty-drive.py): the
 * prompts open /dev/tty, switch echo off and back, and see Ctrl-C as a byte, exactly as for a
 * person at a terminal. Without python3 the tests are skipped with one line saying so — except
 * under CI=true, where that fails instead (as shells.ts does for missing shells).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, cliEnv } from './cli.js';
import { skippedLine } from './tools.js';

const DRIVER = join(dirname(fileURLToPath(import.meta.url)), 'pty-drive.py');

/** Wait for `expect` (after the previous step's match), then type `send` or send `signal`, or nothing. */
export type PtyStep = { expect: string; send?: string; signal?: number; delay?: number };

export interface PtyResult {
  /** Everything the terminal showed (prompts, messages, and any echoed keystroke). */
  transcript: string;
  code: number | null;
  signal: number | null;
  /** Index of the step whose text never appeared, or null. */
  timedOutAtStep: number | null;
  /** The terminal's ECHO and ICANON flags after the CLI exited. */
  echo: boolean;
  canonical: boolean;
}

let found: string | null | undefined;

/** python3 with the pty module (the system's first, then PATH's), or undefined. */
export function python(): string | undefined {
  if (found === undefined) {
    found = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import pty, termios'], { stdio: 'ignore' }).status === 0) ?? null;
  }
  return found ?? undefined;
}

export const NO_PTY = skippedLine('python3', 'pseudo-terminal tests need python3 with its pty module');

/** Call at the top of a test: skips with a one-line reason without python3, fails under CI=true. */
export function requirePty(skip: (note?: string) => never): void {
  if (process.platform === 'win32') skip('the prompts read /dev/tty: there is no pseudo-terminal to test on Windows');
  if (python() !== undefined) return;
  if (process.env['CI'] === 'true') throw new Error(`CI=true and ${NO_PTY}`);
  console.warn(NO_PTY);
  skip(NO_PTY);
}

/** Run `mcp-tokens args` on a fresh pty with the tests' minimal environment, typing `steps`. */
export function onPty(args: readonly string[], steps: PtyStep[], opts: { home: string; env?: Record<string, string | undefined>; timeoutS?: number }): PtyResult {
  const py = python();
  if (py === undefined) throw new Error(NO_PTY);
  const spec = {
    argv: [process.execPath, BIN, ...args],
    env: cliEnv(opts.home, opts.env),
    cwd: opts.home,
    timeout: opts.timeoutS ?? 45, // under the 60 s test timeout, with room for a loaded machine
    steps,
  };
  const r = spawnSync(py, [DRIVER], { input: JSON.stringify(spec), encoding: 'utf8', timeout: (spec.timeout + 10) * 1000 });
  if (r.status !== 0) throw new Error(`pty-drive.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as PtyResult;
}
