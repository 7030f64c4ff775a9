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
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { githubChecksum } from '../../src/services/github.js';

import { REPO } from './build.js';

export { REPO };
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
  /** Stand-ins for /run/user/<uid>, /tmp and the home directory; default testRoots(home). */
  roots?: UserRoots;
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

/** Stand-ins for /run/user/<uid>, /tmp and the user's home (src/user-dirs.ts). */
export interface UserRoots {
  runUser: string;
  tmp: string;
  home: string;
}

/**
 * The stand-ins every CLI child of a test gets, all inside its HOME: `<home>/run` plays
 * /run/user/<uid> (absent unless the test makes it, 0700), HOME itself plays /tmp (so the agent's
 * fallback is `<home>/mcp-tokens-<uid>`), and HOME the user's home. No test touches the real
 * /run/user/<uid>, /tmp/mcp-tokens-<uid> or session bus, and agents of parallel tests never meet.
 */
export function testRoots(home: string): UserRoots {
  return { runUser: join(home, 'run'), tmp: home, home };
}

/**
 * Node options that set the stand-ins in a child before the CLI starts: a module given to
 * `node --import` (a data: URL) assigns the global src/user-dirs.ts reads. It travels in argv, so
 * it reaches a child however little environment its parent passes (an MCP client's).
 */
export function rootsArgs(roots: UserRoots): string[] {
  const code = `globalThis[Symbol.for('mcp-tokens.test.userRoots')] = ${JSON.stringify(roots)};`;
  return ['--import', `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`];
}

/** The same stand-ins for code under test in this (vitest) process. */
export function setTestRoots(roots: UserRoots | undefined): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for('mcp-tokens.test.userRoots')] = roots;
}

/** Start the CLI; the caller owns the child (used for kill -9 and concurrency tests). */
export function spawnCli(args: readonly string[], opts: CliOptions = {}): ChildProcess {
  const home = opts.home ?? tempHome();
  return spawn('/bin/sh', ['-c', 'umask 000; exec "$@"', 'sh', process.execPath, ...rootsArgs(opts.roots ?? testRoots(home)), BIN, ...args], {
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

/**
 * `<home>/bin/mcp-tokens`, a shell script that runs this repository's CLI (with the test
 * stand-ins of testRoots(home)), for tests that run commands as a user types them. Returns the
 * directory to put first on PATH.
 */
export function shimBin(home: string): string {
  const dir = join(home, 'bin');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const argv = [process.execPath, ...rootsArgs(testRoots(home)), BIN].map(q).join(' ');
  writeFileSync(join(dir, 'mcp-tokens'), `#!/bin/sh\nexec ${argv} "$@"\n`, { mode: 0o700 });
  return dir;
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

export { ensureBuilt } from './build.js';
