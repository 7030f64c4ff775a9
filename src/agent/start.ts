/**
 * The core of `unlock` and `lock`: start an agent for a file vault, find it, stop it. Returns
 * data; the commands print.
 */
import { spawn } from 'node:child_process';
import { createHash, getCiphers } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VaultError, isVaultError } from '../errors.js';
import { CONFIG_NAME, parseConfig, unwrapDataKey } from '../vault/config.js';
import { ensureDir, readSecureText } from '../vault/fsutil.js';
import type { PassphraseProvider } from '../vault/vault.js';
import { findAgent, type Found } from './client.js';
import { agentPaths, checkAgentDir } from './paths.js';
import type { AgentStatus } from './protocol.js';

export interface UnlockOptions {
  dir: string;
  passphrase: PassphraseProvider;
  timeoutMs: number | null;
  idleMs: number | null;
}

export interface UnlockResult {
  status: AgentStatus;
  /** An agent was already serving the vault: nothing changed. */
  already: boolean;
  /** Why an agent found on the way was ignored (stale socket…). */
  notice?: string;
}

const START_TIMEOUT_MS = 15_000;

export async function unlock(opts: UnlockOptions): Promise<UnlockResult> {
  const dir = resolve(opts.dir);
  const text = readVaultJson(dir);
  const config = parseConfig(text, join(dir, CONFIG_NAME));
  if (config.backend !== 'file') {
    throw new VaultError('USAGE', `the vault in ${dir} keeps its credentials in the OS keychain and needs no unlock`, {
      hint: 'unlock and lock apply to file vaults; the keychain is unlocked with your login',
    });
  }
  if (config.previous) throw new VaultError('USAGE', 'an interrupted rekey must finish before unlock', { hint: 'run: mcp-tokens rekey' });
  const found = await findAgent(dir);
  if ('connection' in found) {
    found.connection.close();
    return { status: found.connection.status, already: true };
  }
  if (found.unsafe) throw found.unsafe; // before the passphrase is asked
  if (found.hung) throw found.hung; // a second agent would not be found behind the stopped one
  let paths = agentPaths(dir);
  try {
    checkAgentDir(paths.dir, true);
  } catch (e) {
    // Another user made /tmp/mcp-tokens-<uid> between our look and our mkdir: look again (it is
    // now passed over); anything else is the user's to fix and is reported.
    const again = agentPaths(dir);
    if (again.dir === paths.dir) throw e;
    paths = again;
    checkAgentDir(paths.dir, true);
  }
  const pass = await opts.passphrase('unlock');
  let key: Uint8Array;
  try {
    key = await unwrapDataKey(config, pass);
  } finally {
    pass.fill(0);
  }
  const status = await spawnAgent(dir, paths, key, sha256(text), opts);
  const notices = [found.notice ? `${found.notice}; replaced by a new agent` : undefined, paths.notice ? `${paths.notice}; it serves at ${paths.socket}` : undefined].filter(Boolean);
  return { status, already: false, ...(notices.length ? { notice: notices.join('\n') } : {}) };
}

/** The status of the vault's agent, or undefined (with a notice when something was ignored). */
export async function agentStatus(dir: string): Promise<{ status?: AgentStatus; notice?: string }> {
  const found = await findAgent(dir);
  if (!('connection' in found) && found.hung) throw found.hung; // not "locked": an agent holds the key
  if ('connection' in found) {
    found.connection.close();
    return { status: found.connection.status };
  }
  return found.notice ? { notice: found.notice } : {};
}

/** Ask the agent to lock; a stale socket is removed. Returns whether an agent was locked. */
export async function lock(dir: string): Promise<{ locked: boolean; notice?: string }> {
  const found: Found = await findAgent(dir);
  if (!('connection' in found) && found.hung) throw found.hung;
  if ('connection' in found) {
    // The agent may close before its reply is read (it locks on the way out): that is a lock too.
    const r = await found.connection.request('lock').catch((e: unknown) => {
      if (isVaultError(e) && e.reason === 'agent-hung') throw e;
      return { ok: true };
    });
    found.connection.close();
    return { locked: r.ok === true };
  }
  if (found.notice && found.paths) {
    // A stale socket (its agent killed): remove it so no client trips over it again.
    rmSync(found.paths.socket, { force: true });
    rmSync(found.paths.token, { force: true });
  }
  return { locked: false, ...(found.notice ? { notice: found.notice } : {}) };
}

function readVaultJson(dir: string): string {
  const text = ensureDir(dir, false) ? readSecureText(join(dir, CONFIG_NAME)) : undefined;
  if (text === undefined) throw new VaultError('NOT_FOUND', `no mcp-tokens vault in ${dir}`, { hint: 'create one with: mcp-tokens init --backend file' });
  return text;
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * V8 flags for the agent, which idles for hours and serves a few small requests now and then
 * (bench/RESULTS.md has the numbers). A 1 MiB semi-space keeps the young heap small. --jitless:
 * the optimizing compilers never run, so neither their code pages nor compiled code become
 * resident (~6 MiB less after serving requests), and the interpreter is fast enough for
 * requests this small. It also turns WebAssembly off, so it is only given when Node's OpenSSL
 * has ChaCha20-Poly1305 and the agent never needs the libsodium fallback (crypto/sodium.ts).
 */
export function agentFlags(): string[] {
  return getCiphers().includes('chacha20-poly1305') ? ['--max-semi-space-size=1', '--jitless'] : ['--max-semi-space-size=1'];
}

/** Start the agent detached; hand it the key on stdin (never argv or env); wait for its word. */
async function spawnAgent(dir: string, paths: ReturnType<typeof agentPaths>, key: Uint8Array, config: string, opts: UnlockOptions): Promise<AgentStatus> {
  // From dist/agent/ or dist/cli/bundle.js alike: the agent runs from tsc's dist/agent/main.js.
  const main = fileURLToPath(new URL('../agent/main.js', import.meta.url));
  const args = [main, '--vault', dir, '--socket-dir', paths.dir, '--name', paths.name];
  if (opts.timeoutMs !== null) args.push('--timeout', String(opts.timeoutMs));
  if (opts.idleMs !== null) args.push('--idle', String(opts.idleMs));
  // An empty environment: no MCP_TOKENS_PASSPHRASE* (or anything else) reaches the agent.
  const child = spawn(process.execPath, [...agentFlags(), ...args], { cwd: '/', env: {}, detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
  const input = Buffer.alloc(key.length + config.length);
  input.set(key, 0);
  input.write(config, key.length, 'latin1');
  key.fill(0);
  child.stdin.on('error', () => undefined);
  child.stdin.end(input, () => input.fill(0));
  const line = await new Promise<string>((resolvePromise) => {
    let out = '';
    const timer = setTimeout(() => resolvePromise(out), START_TIMEOUT_MS);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolvePromise(out);
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolvePromise(out);
    });
    child.on('error', () => resolvePromise(out));
  });
  child.stdout.destroy();
  child.unref();
  let reply: { ok?: boolean; status?: AgentStatus; code?: string; message?: string; hint?: string } = {};
  try {
    reply = JSON.parse(line) as typeof reply;
  } catch {
    /* below */
  }
  if (reply.ok && reply.status) return reply.status;
  if (child.exitCode === null) child.kill('SIGTERM');
  throw new VaultError(reply.code === 'USAGE' || reply.code === 'UNSAFE_PERMISSIONS' ? reply.code : 'FAILED', `the agent did not start: ${reply.message ?? 'no answer'}`, {
    hint: reply.hint ?? 'nothing was unlocked; run mcp-tokens unlock again',
  });
}
