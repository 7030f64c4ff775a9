/**
 * Which real shells the tests can run here. A missing shell skips its tests with one line saying
 * what to install — except under CI=true, where a skipped shell would hide a broken eval path, so
 * the test fails instead, as the keychain suites do (keyring-session.ts).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { skippedLine } from './tools.js';

export type ShellName = 'bash' | 'dash' | 'zsh' | 'fish';

/** Absolute path of `shell` from PATH, then /usr/bin and /bin; undefined when absent. */
export function shellPath(shell: ShellName): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/bin'];
  for (const dir of dirs) {
    const p = join(dir, shell);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next directory
    }
  }
  return undefined;
}

/** Why a test cannot run without `shell` (the Debian package is named after the shell). */
export function missingShellMessage(shell: ShellName): string {
  return skippedLine(shell, `${shell} tests need ${shell} on PATH`);
}

/**
 * The shell's path, for use at the top of a test: when the shell is missing, the test is skipped
 * through `skip` (vitest's context.skip) with a one-line reason, or fails under CI=true.
 */
export function requireShell(shell: ShellName, skip: (note?: string) => never): string {
  const p = shellPath(shell);
  if (p !== undefined) return p;
  const msg = missingShellMessage(shell);
  if (process.env['CI'] === 'true') throw new Error(`CI=true and ${msg}`);
  console.warn(msg);
  return skip(msg);
}
