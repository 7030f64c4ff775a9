/**
 * Optional programs the suite drives for real (shells, age, pass, gpg, python3, script…). A
 * missing one skips its tests with one line, `SKIPPED: <Debian package>: <what and why>`, except
 * under CI=true, where a skipped suite would hide what it tests: there it fails instead. The
 * packages are the ones .ci/run installs and README's development section lists.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Absolute path of `program` (an absolute path as given, else PATH, /usr/bin, /bin); undefined when absent. */
export function programPath(program: string): string | undefined {
  const candidates = isAbsolute(program)
    ? [program]
    : [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/bin'].map((d) => join(d, program));
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next candidate
    }
  }
  return undefined;
}

/** The skip line, the same shape everywhere: `SKIPPED: <package>: <reason> (Debian: apt-get install <package>)`. */
export function skippedLine(pkg: string, reason: string): string {
  return `SKIPPED: ${pkg}: ${reason} (Debian: apt-get install ${pkg})`;
}

/**
 * True when every program is there. Otherwise: under CI=true throw (the file fails to load, which
 * .ci/run counts as a failure); else print the SKIPPED line once and return false, for
 * `describe.skipIf(!requireTools(...))`.
 */
export function requireTools(pkg: string, programs: readonly string[], what: string): boolean {
  const missing = programs.filter((p) => programPath(p) === undefined);
  if (missing.length === 0) return true;
  const line = skippedLine(pkg, `${what} need ${missing.join(', ')}`);
  if (process.env['CI'] === 'true') throw new Error(`CI=true and ${line}`);
  console.warn(line);
  return false;
}
