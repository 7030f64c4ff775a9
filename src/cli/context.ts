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

export function globals(cmd: Command): GlobalOptions {
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

export async function openVault(cmd: Command, opts: { create?: boolean; kdf?: string } = {}): Promise<Vault> {
  const g = globals(cmd);
  const { Vault } = await import('../vault/vault.js');
  const kdf = opts.kdf as import('../crypto/kdf.js').KdfPreset | undefined;
  return Vault.open(
    {
      dir: vaultDir(g),
      backend: backendChoice(g),
      kdf,
      // Loaded here: the prompt's tty code is dead weight on a keychain vault's start-up path.
      passphrase: (await import('./passphrase.js')).passphraseProvider({ fd: g.passphraseFd }),
      keychainService: process.env['MCP_TOKENS_KEYCHAIN_SERVICE'] || undefined,
    },
    { create: opts.create === true },
  );
}
