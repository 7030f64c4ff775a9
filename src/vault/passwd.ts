/** `passwd`: the file vault's data key wrapped under a new passphrase; only vault.json changes. */
import { VaultError } from '../errors.js';
import { presetParams, type KdfPreset } from '../crypto/kdf.js';
import type { LocalKeyHandle } from '../crypto/keyhandle.js';
import { wrapKeyHandles, type FileVaultConfig, type VaultConfig } from './config.js';

/** Refuse passwd where it does not apply: a keychain vault, or an unfinished rekey. */
export function checkPassphraseChange(config: VaultConfig): asserts config is FileVaultConfig {
  if (config.backend !== 'file') {
    throw new VaultError('USAGE', 'this vault keeps its credentials in the OS keychain and has no passphrase', {
      hint: 'the keychain is protected by your login; passwd applies to file vaults',
    });
  }
  if (config.previous) throw new VaultError('USAGE', 'an interrupted rekey must finish before passwd', { hint: 'run: mcp-tokens rekey' });
}

/**
 * The vault.json that wraps key under pass (made before the lock: Argon2id runs outside it); kdf
 * changes the preset, else the vault's own parameters are kept. The caller zeroes pass.
 */
export async function rewrapConfig(config: FileVaultConfig, key: LocalKeyHandle, pass: Uint8Array, kdf: KdfPreset | undefined): Promise<FileVaultConfig> {
  const params = kdf ? presetParams(kdf) : { opslimit: config.kdf.opslimit, memlimit: config.kdf.memlimit };
  return wrapKeyHandles(key, pass, params, config.createdAt);
}
