/**
 * Programs on PATH, looked up in its absolute directories only: an empty or relative entry (``,
 * `.`, `bin`) would let the folder a command runs in decide which program runs.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The first `dir/name` (+ one of `exts`) that is an executable file, in PATH's absolute directories. */
export function findOnPath(name: string, path: string | undefined, exts: readonly string[] = ['']): string | undefined {
  for (const d of (path ?? '').split(delimiter)) {
    if (d === '' || !isAbsolute(d)) continue;
    for (const e of exts) {
      const p = join(d, name + e);
      if (isExecutableFile(p)) return p;
    }
  }
  return undefined;
}
