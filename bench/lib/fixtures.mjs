/**
 * What the benchmark measures against: vaults made with the built CLI, backups by the ten
 * thousand, and the peers' own stores (pass, dotenvx, python keyring) holding the same token.
 * Everything lives under one temporary root the caller removes.
 */
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath } from './keyring.mjs';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(REPO, 'bin', 'mcp-tokens.js');
export const PASSPHRASE = 'bench passphrase, not a secret';

const { githubChecksum } = await import(join(REPO, 'dist/services/github.js'));
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A well-formed classic GitHub token (valid checksum), random each call. */
export function githubToken() {
  const body = Array.from({ length: 30 }, () => BASE62[randomInt(62)]).join('');
  return `ghp_${body}${githubChecksum(body)}`;
}

/** Run the built CLI for set-up; throws with its stderr unless it exits 0. */
export function cli(env, args, input = '') {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mcp-tokens ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A file vault at a KDF preset holding github/token. */
export function fileVault(root, preset, token, base) {
  const dir = join(root, `file-${preset}`);
  const env = { ...base, MCP_TOKENS_DIR: dir, MCP_TOKENS_PASSPHRASE: PASSPHRASE, MCP_TOKENS_BACKEND: 'file' };
  cli(env, ['init', '--kdf', preset]);
  cli(env, ['store', 'github', 'token', '-'], token);
  return { dir, env };
}

/**
 * A keychain vault (inside the private D-Bus session in `base`) holding github/token; `service`
 * is where its items are (`mcp-tokens:<vault id>`), for the floors and peers to read the same item.
 */
export function keychainVault(root, token, base) {
  const dir = join(root, 'keychain');
  const env = { ...base, MCP_TOKENS_DIR: dir, MCP_TOKENS_BACKEND: 'keychain' };
  cli(env, ['init']);
  cli(env, ['store', 'github', 'token', '-'], token);
  const { id } = JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8'));
  return { dir, env, service: `mcp-tokens:${id}` };
}

/**
 * A second keychain vault (own directory and keychain service) whose services.json defines acme,
 * holding acme/token: `run acme` there reads and checks the file.
 */
export function userServiceVault(root, base) {
  const dir = join(root, 'keychain-user');
  const env = { ...base, MCP_TOKENS_DIR: dir, MCP_TOKENS_BACKEND: 'keychain', MCP_TOKENS_KEYCHAIN_SERVICE: 'mcp-tokens-bench-user' };
  cli(env, ['init']);
  cli(env, ['services', 'add', 'acme', '--field', 'token:ACME_TOKEN']);
  cli(env, ['store', 'acme', 'token', '-'], 'acme-bench-token-0123456789');
  return { dir, env };
}

/** A copy of one real sealed backup of the vault, to link the thousands from. */
export function backupTemplate(vaultDir, to) {
  const real = readdirSync(join(vaultDir, 'backups')).find((n) => n.endsWith('.backup'));
  if (!real) throw new Error(`no backup in ${vaultDir} to copy`);
  copyFileSync(join(vaultDir, 'backups', real), to);
  return to;
}

/**
 * `count` backups of github/token in `into`: hard links to one real sealed backup, stamped in
 * 2020 (so `prune --older-than 90d` removes them all). Links are cheap to make and to remove.
 */
export function fillBackups(template, into, count) {
  mkdirSync(into, { recursive: true, mode: 0o700 });
  const t0 = Date.UTC(2020, 0, 1);
  for (let i = 0; i < count; i++) {
    const stamp = new Date(t0 + i * 60_000).toISOString().replace(/[-:]/g, '').replace('.', '');
    linkSync(template, join(into, `github_token.${stamp}.backup`));
  }
}

/**
 * Switch which prepared directory is `backups/` (rename is atomic and O(1)), so one vault can be
 * timed with 10,000 backups and with none in alternating samples.
 */
export function backupSwitch(vaultDir, dirs) {
  const live = join(vaultDir, 'backups');
  let current;
  return (which) => {
    if (current === which) return;
    if (current !== undefined) renameSync(live, dirs[current]);
    renameSync(dirs[which], live);
    current = which;
  };
}

export function removeTree(path) {
  rmSync(path, { recursive: true, force: true });
}

/** A python3 that can `import keyring` (the first on PATH may be a pyenv shim without it). */
export function findPython() {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import keyring'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}

/** dotenvx on PATH, or installed in the repo or in $BENCH_PEERS (a prefix with node_modules). */
export function findDotenvx() {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), join(REPO, 'node_modules/.bin')];
  if (process.env.BENCH_PEERS) dirs.unshift(join(process.env.BENCH_PEERS, 'node_modules/.bin'));
  return dirs.map((d) => join(d, 'dotenvx')).find((p) => existsSync(p));
}

/** An encrypted .env (dotenvx set encrypts by default) holding the token, with its .env.keys. */
export function dotenvxProject(root, dotenvx, token) {
  const dir = join(root, 'dotenvx');
  mkdirSync(dir);
  const r = spawnSync(dotenvx, ['set', 'GITHUB_PERSONAL_ACCESS_TOKEN', token], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0 || !readFileSync(join(dir, '.env'), 'utf8').includes('encrypted:')) {
    throw new Error(`dotenvx set failed: ${r.stderr}`);
  }
  return dir;
}

/** A password store with its own GnuPG home (key without passphrase) holding the token. */
export function passStore(root, token) {
  if (!onPath('pass') || !onPath('gpg')) return undefined;
  const gnupg = join(root, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: gnupg, PASSWORD_STORE_DIR: join(root, 'pass') };
  const run = (cmd, args, input = '') => {
    const r = spawnSync(cmd, args, { env, input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args[0]} failed: ${r.stderr}`);
  };
  run('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'bench <bench@example.invalid>', 'default', 'default', 'never']);
  run('pass', ['init', 'bench@example.invalid']);
  run('pass', ['insert', '-m', 'mcp-tokens/github-token'], `${token}\n`);
  return { env, stop: () => spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env, stdio: 'ignore' }) };
}
