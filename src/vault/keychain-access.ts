/**
 * The keychain module, loaded on first need (a file vault never needs it, and its native binding
 * is not free), and where a vault's items live in it.
 */
import { VaultError } from '../errors.js';
import { LocalKeyHandle } from '../crypto/keyhandle.js';
import type { VaultConfig } from './config.js';

export type KeychainModule = typeof import('../backends/keychain.js');
let keychain: KeychainModule | undefined;

/** Load the keychain module. */
export async function loadKeychain(): Promise<KeychainModule> {
  keychain ??= await import('../backends/keychain.js');
  return keychain;
}

/** The keychain module, loaded by open() for keychain vaults (moves load it themselves). */
export function loadedKeychain(): KeychainModule {
  if (!keychain) throw new Error('the keychain module is not loaded');
  return keychain;
}

/** The keychain service prefix: `mcp-tokens`, or the one tests set. */
export function keychainBase(kc: KeychainModule, opts: { keychainService?: string | undefined }): string {
  return opts.keychainService || kc.KEYCHAIN_SERVICE;
}

/** Where this vault's keychain items live: `mcp-tokens:<id>` (`mcp-tokens` before ids); the prefix alone for a probe. */
export function keychainOpts(kc: KeychainModule, opts: { keychainService?: string | undefined }, config?: VaultConfig): { service: string } {
  return { service: kc.vaultService(config?.backend === 'keychain' ? config.id : undefined, keychainBase(kc, opts)) };
}

/** The keychain's vault-key (and vault-key-previous during a rekey) as handles. */
export async function readKeychainKeys(kc: KeychainModule, opts: { service?: string }, seen?: (acct: string) => Promise<string | null | undefined>): Promise<LocalKeyHandle[]> {
  const raw = await kc.readVaultKey(opts, seen);
  if (!raw) {
    const service = opts.service ?? kc.KEYCHAIN_SERVICE;
    throw new VaultError('BACKEND_UNAVAILABLE', `the keychain holds no vault-key for this vault (service ${service}), so backups cannot be encrypted`, {
      hint: `the keychain item ${service} / vault-key was removed; run: mcp-tokens doctor --fix to create a new one (old backups will not open)`,
    });
  }
  const prev = await kc.readVaultKey({ ...opts, account: kc.PREVIOUS_VAULT_KEY_ACCOUNT }, seen);
  try {
    return prev ? [new LocalKeyHandle(raw), new LocalKeyHandle(prev)] : [new LocalKeyHandle(raw)];
  } finally {
    raw.fill(0);
    prev?.fill(0);
  }
}
