/**
 * dist/ for the tests that run the built CLI, rebuilt only when src/ is newer. vitest's global
 * setup (test/global-setup.ts) calls it once, strictly, before any test file; the files call it
 * again (a no-op then) so that one run on its own still builds. No vitest import here: the global
 * setup runs outside any test file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let built = false;

/**
 * Build dist/ (tsc) when any file under src/ is newer than dist/cli/main.js. Parallel test
 * workers take turns through a lock directory so only one tsc runs. Type errors do not stop tsc
 * from emitting: strict (the global setup) fails the run on them, as `npm run build` would;
 * otherwise they are reported on stderr and the tests then show whether the binary works.
 */
export function ensureBuilt(opts: { strict?: boolean } = {}): void {
  if (built) return;
  const lock = join(tmpdir(), `mcp-tokens-build-${Buffer.from(REPO).toString('hex').slice(-24)}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (stale()) {
      const r = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: REPO, encoding: 'utf8' });
      if (r.status !== 0 && opts.strict) throw new Error(`the build failed: tsc reported errors:\n${r.stdout}${r.stderr}`);
      if (r.status !== 0) process.stderr.write(`ensureBuilt: tsc reported errors (dist was still emitted):\n${r.stdout}${r.stderr}`);
      // Same as `npm run build`: refresh the pre-rendered --help so it is never stale.
      spawnSync(process.execPath, [join(REPO, 'scripts/render-help.mjs')], { cwd: REPO, encoding: 'utf8' });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  if (!existsSync(join(REPO, 'dist/cli/main.js'))) throw new Error('dist/cli/main.js is missing after the build');
  built = true;
}

function stale(): boolean {
  const main = join(REPO, 'dist/cli/main.js');
  if (!existsSync(main)) return true;
  const builtAt = statSync(main).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((d) => {
      const p = join(dir, d.name);
      return d.isDirectory() ? newer(p) : d.name.endsWith('.ts') && statSync(p).mtimeMs > builtAt;
    });
  return newer(join(REPO, 'src'));
}
