/**
 * Helpers specific to the vault suites in test/cli: directory snapshots (to prove "nothing was
 * written"), vaults seeded in-process (fast: one KDF), and evaluating `load` output in real shells.
 * The CLI runner itself lives in test/helpers/cli.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Vault } from '../../src/vault/vault.js';
import { shellPath } from '../helpers/shells.js';
import { BIN, PASSPHRASE, REPO, cliEnv, tempHome, vaultDir } from '../helpers/cli.js';

export interface NodeState {
  type: 'file' | 'dir' | 'link' | 'other';
  mode: string;
  mtimeMs: number;
  content?: string;
}

/** Every path under root (recursively, links not followed) with type, mode, mtime and bytes. */
export function snapshot(root: string): Record<string, NodeState> {
  const out: Record<string, NodeState> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = { type: 'link', mode, mtimeMs: st.mtimeMs, content: readlinkSync(p) };
      else if (st.isDirectory()) {
        out[r] = { type: 'dir', mode, mtimeMs: st.mtimeMs };
        walk(p, r);
      } else if (st.isFile()) out[r] = { type: 'file', mode, mtimeMs: st.mtimeMs, content: readFileSync(p).toString('base64') };
      else out[r] = { type: 'other', mode, mtimeMs: st.mtimeMs };
    }
  };
  walk(root, '');
  return out;
}

/**
 * snapshot() without the access log (issue 29: every load, run, export and verify appends to
 * access.log and replaces access.log.tail) and without the vault folder's mtime, which those
 * appends change: what a read must leave alone is everything else.
 */
export function snapshotExceptLog(root: string): Record<string, NodeState> {
  const out = snapshot(root);
  for (const k of Object.keys(out)) {
    if (/(^|\/)access\.log(\.1|\.tail)?$/.test(k)) delete out[k];
    else if (/(^|\/)\.mcp_tokens$/.test(k)) out[k] = { ...out[k]!, mtimeMs: 0 };
  }
  return out;
}

export type Entry = readonly [service: string, key: string, value: string];

export const passphraseBytes = (p = PASSPHRASE) => async () => new TextEncoder().encode(p);

/**
 * Create a file vault in `${home}/.mcp_tokens` in-process (interactive KDF) holding `entries`.
 * Storing an entry twice leaves a backup of the first value, as the CLI would.
 */
export async function seedVault(home: string, entries: readonly Entry[], passphrase = PASSPHRASE): Promise<string> {
  const dir = vaultDir(home);
  const vault = await Vault.create({ dir, backend: 'file', kdf: 'interactive', passphrase: passphraseBytes(passphrase) });
  try {
    for (const [service, key, value] of entries) await vault.store(service, key, value);
  } finally {
    vault.close();
  }
  return dir;
}

/** A fresh HOME holding a copy of `home`'s vault (modes and mtimes kept), for a test that spoils it. */
export function cloneVault(home: string): string {
  const copy = tempHome();
  cpSync(vaultDir(home), vaultDir(copy), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  // Node 22+ creates the copied directories with the umask's mode, not the source's: set every
  // mode from the source (chmod leaves mtimes alone), so the copy is the vault, modes included.
  copyModes(vaultDir(home), vaultDir(copy));
  return copy;
}

function copyModes(from: string, to: string): void {
  const st = lstatSync(from);
  if (st.isSymbolicLink()) return;
  chmodSync(to, st.mode & 0o7777);
  if (st.isDirectory()) for (const name of readdirSync(from)) copyModes(join(from, name), join(to, name));
}

export interface Golden {
  home: string;
  dir: string;
  passphrase: string;
  expected: {
    values: Record<string, string>;
    backup: { file: string; service: string; key: string; value: string };
  };
}

/**
 * A private copy of the committed golden vault (test/fixtures/golden, made by
 * scripts/make-golden.mjs) in a fresh HOME, with the modes git does not keep: 0700 / 0600.
 */
export function goldenCopy(): Golden {
  const src = join(REPO, 'test/fixtures/golden');
  const home = tempHome('mcpt-golden-');
  const dir = vaultDir(home);
  cpSync(join(src, 'vault'), dir, { recursive: true });
  const fix = (p: string) => {
    const st = lstatSync(p);
    chmodSync(p, st.isDirectory() ? 0o700 : 0o600);
    if (st.isDirectory()) for (const n of readdirSync(p)) fix(join(p, n));
  };
  fix(dir);
  const passphrase = readFileSync(join(src, 'passphrase.txt'), 'utf8').replace(/\n$/, '');
  return { home, dir, passphrase, expected: JSON.parse(readFileSync(join(src, 'expected.json'), 'utf8')) as Golden['expected'] };
}

/** Open a vault in-process to read what the CLI left behind; the caller closes it. */
export function openVault(dir: string, passphrase = PASSPHRASE): Promise<Vault> {
  return Vault.open({ dir, passphrase: passphraseBytes(passphrase) });
}

/** Every backup's plaintext for service/key, oldest first, decrypted in-process. */
export async function backupValues(vault: Vault, service: string, key: string): Promise<string[]> {
  const { readBackup } = await import('../../src/vault/backups.js');
  const key32 = await vault.key();
  return Promise.all(vault.backups(service, key).map((b) => readBackup([key32], b)));
}

export type EvalShell = 'bash' | 'dash';

/**
 * In a real shell, `eval "$(<command>)"` then write each named variable's bytes (printf '%s')
 * to a file; returns those bytes by name (undefined when the variable is unset). The shell runs
 * in a fresh empty cwd, returned so a test can check that eval created nothing there.
 */
export function evalInShell(
  shell: EvalShell,
  command: string,
  names: readonly string[],
  env: Record<string, string> = {},
): { status: number | null; stderr: string; values: Record<string, Buffer | undefined>; cwd: string } {
  const scratch = tempHome('mcpt-eval-');
  const cwd = join(scratch, 'cwd');
  const outDir = join(scratch, 'out');
  mkdirSync(cwd);
  mkdirSync(outDir);
  const script = join(scratch, 'script.sh');
  const dumps = names.map((n) => `if [ "\${${n}+set}" = set ]; then printf '%s' "$${n}" > "$OUT/${n}"; fi`);
  writeFileSync(script, `set -e\neval "$(${command})"\n${dumps.join('\n')}\n`);
  const r = spawnSync(shellPath(shell) ?? shell, [script], { cwd, env: { ...cliEnv(scratch, env), OUT: outDir }, encoding: 'utf8', timeout: 30_000 });
  const values: Record<string, Buffer | undefined> = {};
  for (const n of names) {
    try {
      values[n] = readFileSync(join(outDir, n));
    } catch {
      values[n] = undefined;
    }
  }
  return { status: r.status, stderr: r.stderr, values, cwd };
}

/** `cat 'file'` for evalInShell, with the path quoted for sh. */
export function catCommand(file: string): string {
  return `cat '${file.replace(/'/g, `'\\''`)}'`;
}

/** The CLI as a shell command line (for evalInShell): node bin/mcp-tokens.js + args. */
export function cliCommand(args: readonly string[]): string {
  return [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}
