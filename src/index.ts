/** Public library API (re-exports, plus loadCredentials for Node MCP servers). */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildEnv } from './launch/env.js';
import { passphraseProvider } from './cli/passphrase.js';
import { Vault, type PassphraseProvider } from './vault/vault.js';

export { VaultError, EXIT_CODES, type ErrorCode } from './errors.js';
export { Vault, mask, type VaultOptions, type PassphraseProvider, type StoreResult, type ListedEntry } from './vault/vault.js';
export type { Backend, BackendName } from './backends/types.js';
export { memoryBackend } from './backends/memory.js';
export { BUILTIN_SERVICES, serviceSpec, checkValue, type ServiceSpec, type FieldSpec } from './services/index.js';
export { formatExports, type ExportFormat } from './launch/format.js';
/** For a caller that starts its own children: the variables that can carry a passphrase, and a scrubbed env copy. */
export { PASSPHRASE_VARIABLES, isPassphraseVariable, scrubEnv } from './launch/env.js';

/** The environment variables each built-in service exports. */
export interface BuiltinEnv {
  github: { GITHUB_PERSONAL_ACCESS_TOKEN: string };
  hass: { HA_TOKEN: string; HA_URL: string };
  proxmox: { PROXMOX_TOKEN: string; PROXMOX_HOST: string; PROXMOX_USER: string };
  wikijs: { WIKIJS_TOKEN: string; WIKIJS_URL: string };
}

export interface LoadOptions {
  /** Vault directory; default MCP_TOKENS_DIR or ~/.mcp_tokens. */
  dir?: string;
  /** File vaults: a passphrase (bytes are zeroed after use) or a provider; default the
   *  MCP_TOKENS_PASSPHRASE_FD / _FILE / MCP_TOKENS_PASSPHRASE sources, never a prompt. */
  passphrase?: string | Uint8Array | PassphraseProvider;
}

/**
 * The env map of one service, as `mcp-tokens run` would inject it. Rejects with a VaultError
 * (code NOT_FOUND and the "Please run: mcp-tokens store …" hint) when a required field is missing.
 */
export async function loadCredentials<S extends keyof BuiltinEnv>(service: S, opts?: LoadOptions): Promise<BuiltinEnv[S]>;
export async function loadCredentials(service: string, opts?: LoadOptions): Promise<Record<string, string>>;
export async function loadCredentials(service: string, opts: LoadOptions = {}): Promise<Record<string, string>> {
  const dir = opts.dir ? resolve(opts.dir) : process.env['MCP_TOKENS_DIR'] ? resolve(process.env['MCP_TOKENS_DIR']) : join(homedir(), '.mcp_tokens');
  const vault = await Vault.open({ dir, passphrase: toProvider(opts.passphrase) });
  try {
    const { spec, values } = await vault.loadService(service);
    return buildEnv(spec, values);
  } finally {
    vault.close();
  }
}

function toProvider(p: LoadOptions['passphrase']): PassphraseProvider {
  if (typeof p === 'function') return p;
  if (typeof p === 'string') return async () => new TextEncoder().encode(p);
  if (p instanceof Uint8Array) return async () => p.slice();
  return passphraseProvider({ noPrompt: true });
}
