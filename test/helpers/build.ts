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
 * Build dist/ (tsc, then the one-file CLI) when any file under src/ is newer than
 * dist/cli/bundle.js. Parallel test workers take turns through a lock directory so only one
 * build runs. Type errors do not stop tsc
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
      // Same as `npm run build`: the one-file CLI that bin/ runs (scripts/bundle.mjs), then the
      // pre-rendered --help, so neither is ever stale. A failed bundle always fails: bin would
      // otherwise run the previous one.
      for (const b of ['dist/cli/bundle.js', 'dist/cli/bundle-fast.js']) rmSync(join(REPO, b), { force: true });
      const b = spawnSync(process.execPath, [join(REPO, 'scripts/bundle.mjs')], { cwd: REPO, encoding: 'utf8' });
      if (b.status !== 0) throw new Error(`the build failed: scripts/bundle.mjs:\n${b.stdout}${b.stderr}`);
      spawnSync(process.execPath, [join(REPO, 'scripts/render-help.mjs')], { cwd: REPO, encoding: 'utf8' });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  for (const b of ['dist/cli/bundle.js', 'dist/cli/bundle-fast.js']) if (!existsSync(join(REPO, b))) throw new Error(`${b} is missing after the build`);
  built = true;
}

function stale(): boolean {
  const main = join(REPO, 'dist/cli/bundle.js');
  if (!existsSync(main)) return true;
  const builtAt = statSync(main).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((d) => {
      const p = join(dir, d.name);
      return d.isDirectory() ? newer(p) : d.name.endsWith('.ts') && statSync(p).mtimeMs > builtAt;
    });
  return newer(join(REPO, 'src'));
}
