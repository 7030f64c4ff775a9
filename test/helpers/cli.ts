/**
 * Black-box runner for the built CLI (`node bin/mcp-tokens.js`), shared by every test/cli suite.
 *
 * Each run gets a throw-away HOME and a minimal environment built from scratch: PATH, HOME,
 * LANG and whatever the test passes. Nothing of the developer's environment leaks in — no real
 * HOME, no MCP_TOKENS_* variables, no DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR, so
 * `--backend auto` finds no keychain and picks the file backend. The child runs under
 * `umask 000` (via `sh -c 'umask 000; exec …'`) so every test also checks that files get their
 * modes at creation, not from a friendly umask. It starts in a new session (detached) so it has
 * no controlling terminal: a prompt fails at once instead of hanging on the developer's tty.
 *
 * Usage:
 *   ensureBuilt();                                  // once, in beforeAll: rebuilds dist if stale
 *   const home = tempHome();
 *   const env = passphraseEnv(home);                // MCP_TOKENS_PASSPHRASE_FILE → a 0600 file
 *   const r = await runCli(['store', 'github', 'token', '-'], { home, env, input: githubClassic() });
 *   expect(r.code).toBe(0);
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { githubChecksum } from '../../src/services/github.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(REPO, 'bin', 'mcp-tokens.js');
/** The passphrase passphraseEnv() writes unless told otherwise. */
export const PASSPHRASE = 'correct horse battery staple';

export interface CliOptions {
  /** HOME for the child; default: a fresh tempHome(). The vault is then `${home}/.mcp_tokens`. */
  home?: string;
  /** Extra variables on top of the minimal env; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  /** Bytes for stdin; stdin is always a pipe (closed at once when no input is given). */
  input?: string | Buffer;
  /** Working directory; default: home. */
  cwd?: string;
  /** Kill the child (SIGKILL) after this long; default 30 s. */
  timeoutMs?: number;
}

export interface CliResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The exact bytes written to stdout (for byte-for-byte checks). */
  stdoutBytes: Buffer;
}

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh 0700 directory to use as HOME, removed after the test file. */
export function tempHome(prefix = 'mcpt-cli-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** The vault directory the CLI uses for this HOME (the default `~/.mcp_tokens`). */
export function vaultDir(home: string): string {
  return join(home, '.mcp_tokens');
}

/** The environment a child gets: minimal, plus `extra`. */
export function cliEnv(home: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    // Cheap Argon2id for the vaults tests make (src/crypto/kdf.ts); `undefined` in extra unsets it.
    MCP_TOKENS_INSECURE_TEST_KDF: '1',
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Start the CLI; the caller owns the child (used for kill -9 and concurrency tests). */
export function spawnCli(args: readonly string[], opts: CliOptions = {}): ChildProcess {
  const home = opts.home ?? tempHome();
  return spawn('/bin/sh', ['-c', 'umask 000; exec "$@"', 'sh', process.execPath, BIN, ...args], {
    cwd: opts.cwd ?? home,
    env: cliEnv(home, opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
}

/** Run the CLI to completion and collect its exit code and output. */
export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, opts);
  return collect(child, opts);
}

/** Wait for a spawned child (feeding `input` to stdin) and collect its output. */
export function collect(child: ChildProcess, opts: Pick<CliOptions, 'input' | 'timeoutMs'> = {}): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  child.stdin!.on('error', () => {}); // a child that exits before reading stdin is not our failure
  child.stdin!.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolvePromise({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
  });
}

/** Write a 0600 passphrase file in `dir` and return its path. */
export function writePassphraseFile(dir: string, passphrase = PASSPHRASE, name = 'passphrase'): string {
  const path = join(dir, name);
  writeFileSync(path, `${passphrase}\n`, { mode: 0o600 });
  return path;
}

/** `{ MCP_TOKENS_PASSPHRASE_FILE }` pointing at a fresh 0600 file in home (outside the vault). */
export function passphraseEnv(home: string, passphrase = PASSPHRASE): Record<string, string> {
  return { MCP_TOKENS_PASSPHRASE_FILE: writePassphraseFile(home, passphrase, `passphrase-${randomBytes(3).toString('hex')}`) };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(n: number): string {
  return [...randomBytes(n)].map((b) => ALNUM[b % ALNUM.length]).join('');
}

/** A classic GitHub token with a correct checksum (no "may be mistyped" warning). */
export function githubClassic(prefix: 'ghp' | 'gho' | 'ghu' | 'ghs' | 'ghr' = 'ghp'): string {
  const body = randomAlnum(30);
  return `${prefix}_${body}${githubChecksum(body)}`;
}

/** A fine-grained GitHub token: github_pat_ + 22 + '_' + 59 of [A-Za-z0-9_]. */
export function githubFineGrained(): string {
  return `github_pat_${randomAlnum(22)}_${randomAlnum(29)}_${randomAlnum(29)}`;
}

/** A JWT-shaped token (header and payload are JSON; the signature is random bytes). */
export function jwt(payload: Record<string, unknown> = { iss: randomAlnum(16), iat: 1_700_000_000 }): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}.${randomBytes(32).toString('base64url')}`;
}

export function proxmoxToken(user = 'root@pam', tokenId = 'mcp'): string {
  return `PVEAPIToken=${user}!${tokenId}=${randomUUID()}`;
}

/** A unique, greppable secret for leak checks (valid for user-defined services). */
export function canary(): string {
  return `CANARY-${randomAlnum(24)}`;
}

let built = false;

/**
 * Build dist/ (tsc) when any file under src/ is newer than dist/cli/main.js. Parallel test
 * workers take turns through a lock directory so only one tsc runs. Type errors elsewhere in
 * the tree do not stop tsc from emitting; they are reported on stderr, and the tests then show
 * whether the binary works.
 */
export function ensureBuilt(): void {
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
