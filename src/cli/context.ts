/** Global options → vault options; the one place commands open the vault. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { VaultError } from '../errors.js';
import type { BackendChoice, Vault } from '../vault/vault.js';

export interface GlobalOptions {
  dir?: string;
  backend?: string;
  passphraseFd?: string;
  color?: boolean;
  quiet?: boolean;
}

let argv: string[] = [];

/** The raw arguments after the program name (run splits its command at the first --). */
export function setRawArgs(args: string[]): void {
  argv = args;
}

export function rawArgs(): string[] {
  return argv;
}

/**
 * What the commands' code needs of commander's Command: the options (with the globals) and the
 * name. The fast path for `load <service>` and `run <service> -- …` (cli/plain.ts) passes a stand-in.
 */
export interface CommandLike {
  name(): string;
  optsWithGlobals<T extends object>(): T;
}

export function globals(cmd: CommandLike): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function vaultDir(g: GlobalOptions): string {
  const dir = g.dir ?? process.env['MCP_TOKENS_DIR'];
  return dir ? resolve(dir) : join(homedir(), '.mcp_tokens');
}

export function backendChoice(g: GlobalOptions): BackendChoice | undefined {
  const b = g.backend ?? process.env['MCP_TOKENS_BACKEND'];
  if (b === undefined || b === '') return undefined;
  if (b === 'auto' || b === 'keychain' || b === 'file') return b;
  throw new VaultError('USAGE', `unknown backend '${b}'`, { hint: 'use --backend auto, keychain or file' });
}

/**
 * Open the vault of the command's --dir. A file vault uses the unlock agent when one serves it
 * (no passphrase, no Argon2id); with agent: false (passwd, rekey, backend) it always asks.
 */
export async function openVault(cmd: CommandLike, opts: { create?: boolean; kdf?: string; agent?: boolean; prompt?: boolean } = {}): Promise<Vault> {
  const { Vault } = await import('../vault/vault.js');
  const vault = await Vault.open(await vaultOptions(cmd, opts), { create: opts.create === true });
  await (await import('../vault/failpoint.js')).pausePoint('after-open');
  return vault;
}

/**
 * What openVault(cmd, { create: true }) would meet creating the vault — the backend it would
 * choose, a folder it can make, a passphrase source or terminal — checked without writing or
 * prompting (migrate --dry-run). Throws the error the creation would.
 */
export async function checkCreateVault(cmd: CommandLike): Promise<import('../vault/vault.js').CreateInfo> {
  const { Vault } = await import('../vault/vault.js');
  return Vault.checkCreate(await vaultOptions(cmd));
}

async function vaultOptions(cmd: CommandLike, opts: { kdf?: string; agent?: boolean; prompt?: boolean } = {}): Promise<import('../vault/vault.js').VaultOptions> {
  const g = globals(cmd);
  const dir = vaultDir(g);
  return {
    dir,
    backend: backendChoice(g),
    agent: opts.agent === false ? undefined : (text: string) => agentKey(dir, text),
    kdf: opts.kdf as import('../crypto/kdf.js').KdfPreset | undefined,
    passphrase: withAgentTrouble(lazyPassphrase({ fd: g.passphraseFd, noPrompt: opts.prompt === false })),
    keychainService: process.env['MCP_TOKENS_KEYCHAIN_SERVICE'] || undefined,
  };
}

/**
 * cli/passphrase.ts (and the prompt's tty code) loaded on the first use: a keychain vault never
 * asks, and `run` starts every MCP server a client launches.
 */
function lazyPassphrase(o: { fd: string | undefined; noPrompt: boolean }): import('../vault/vault.js').PassphraseProvider {
  let real: import('../vault/vault.js').PassphraseProvider | undefined;
  const load = async () => (real ??= (await import('./passphrase.js')).passphraseProvider(o));
  const provider: import('../vault/vault.js').PassphraseProvider = async (purpose) => (await load())(purpose);
  // Asked only after a passphrase was given (and refused): by then the real one is loaded.
  provider.retry = (purpose) => real?.retry?.(purpose) ?? false;
  provider.check = async (purpose) => {
    await (await load()).check?.(purpose);
  };
  return provider;
}

/** How many times a read starts over on a fresh open when vault.json changes under it. */
const READ_ATTEMPTS = 3;

/**
 * Open the vault and read with `read`, then check that vault.json is still what was opened.
 * Reads take no lock (run and load must stay fast), so a backend move, rekey or passwd may run
 * meanwhile: a move deletes the files a file-vault reader lists, a rekey re-seals what it opens.
 * What was read then (an empty vault, "not found", "sealed under a newer key") is not trusted:
 * the vault is opened again and the read repeated. `read` must not write or print. The caller
 * closes the returned vault.
 */
export async function openForRead<T>(cmd: CommandLike, read: (vault: Vault) => Promise<T>, opts: { prompt?: boolean } = {}): Promise<{ vault: Vault; value: T }> {
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    const vault = await openVault(cmd, opts);
    let value: T;
    let manifest: Awaited<ReturnType<Vault['manifestBeforeRead']>>;
    try {
      manifest = await vault.manifestBeforeRead();
      await (await import('../vault/failpoint.js')).pausePoint('before-read');
      vault.readFromOneSearch(); // a keychain vault: one search for its items, not one lookup each
      value = await read(vault);
      await (await import('../vault/failpoint.js')).pausePoint('after-read');
    } catch (e) {
      const changed = vault.changedSinceOpen();
      vault.close();
      if (!changed) throw e;
      continue;
    }
    if (!vault.changedSinceOpen()) {
      try {
        // Rollback detection (vault/manifest.ts): what was read against the manifest read before it.
        vault.checkRollback(manifest);
      } catch (e) {
        vault.close();
        throw e;
      }
      return { vault, value };
    }
    vault.close();
  }
  throw new VaultError('FAILED', `the vault kept changing while this command read it (${READ_ATTEMPTS} tries)`, {
    hint: 'another mcp-tokens command (rekey, passwd or a backend move) is running; run the command again when it has finished',
    reason: 'vault-changed',
  });
}

/**
 * An agent that runs but could not be used (stopped, hung, an unsafe path): when no passphrase
 * can be had either, the error says that rather than "unlock", which the user has done.
 */
let agentTrouble: VaultError | undefined;

function withAgentTrouble(provider: import('../vault/vault.js').PassphraseProvider): import('../vault/vault.js').PassphraseProvider {
  const explain = (e: unknown): unknown => {
    if (!agentTrouble || !(e instanceof VaultError) || e.code !== 'NO_PASSPHRASE') return e;
    return new VaultError('NO_PASSPHRASE', `${e.message}, and the unlock agent could not be used: ${agentTrouble.message}`, {
      hint: `${agentTrouble.hint ?? 'check the agent'}; or set MCP_TOKENS_PASSPHRASE_FILE to a 0600 file holding the passphrase`,
      reason: agentTrouble.reason,
    });
  };
  const wrapped: import('../vault/vault.js').PassphraseProvider = async (purpose) => {
    try {
      return await provider(purpose);
    } catch (e) {
      throw explain(e);
    }
  };
  wrapped.retry = provider.retry;
  if (provider.check) {
    const check = provider.check;
    wrapped.check = async (purpose) => {
      try {
        await check(purpose);
      } catch (e) {
        throw explain(e);
      }
    };
  }
  return wrapped;
}

/** The agent's key handle for this vault.json; undefined (with a warning saying why) otherwise. */
async function agentKey(dir: string, configText: string): Promise<import('../vault/vault.js').AgentKey | undefined> {
  const { findAgent, agentKeyHandle } = await import('../agent/client.js');
  const found = await findAgent(dir);
  const { warn } = await import('./output.js');
  if (!('connection' in found)) {
    if (found.notice) {
      warn(`${found.notice}; using the passphrase instead`);
      agentTrouble = found.hung ?? found.unsafe;
    }
    return undefined;
  }
  const { connection } = found;
  const { createHash } = await import('node:crypto');
  if (connection.status.config !== createHash('sha256').update(configText).digest('hex')) {
    connection.close();
    warn(`the agent for ${dir} was unlocked from an older vault.json (passphrase or key changed since); using the passphrase instead`);
    return undefined;
  }
  return { handle: agentKeyHandle(connection), close: () => connection.close() };
}
