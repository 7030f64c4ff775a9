import { VaultError } from '../errors.js';
import { sodium } from './sodium.js';
import { KEY_BYTES, SALT_BYTES } from './format.js';

export interface KdfParams {
  opslimit: number;
  memlimit: number;
}

const MiB = 1024 * 1024;

/** Presets offered by `init --kdf` (DESIGN.md §5). */
export const KDF_PRESETS = {
  interactive: { opslimit: 2, memlimit: 64 * MiB },
  default: { opslimit: 3, memlimit: 64 * MiB },
  moderate: { opslimit: 3, memlimit: 256 * MiB },
  sensitive: { opslimit: 4, memlimit: 1024 * MiB },
} as const satisfies Record<string, KdfParams>;

export type KdfPreset = keyof typeof KDF_PRESETS;

export function isKdfPreset(name: string): name is KdfPreset {
  return Object.hasOwn(KDF_PRESETS, name);
}

/** Refuse parameters a tampered vault.json could use to make us burn CPU or memory. */
export function checkKdfParams(p: { opslimit: unknown; memlimit: unknown }): KdfParams {
  const { opslimit, memlimit } = p;
  const max = KDF_PRESETS.sensitive;
  if (!Number.isSafeInteger(opslimit) || (opslimit as number) < 1 || (opslimit as number) > max.opslimit)
    throw badParams('opslimit');
  if (!Number.isSafeInteger(memlimit) || (memlimit as number) < 8192 || (memlimit as number) > max.memlimit)
    throw badParams('memlimit');
  return { opslimit: opslimit as number, memlimit: memlimit as number };
}

function badParams(which: string): VaultError {
  return new VaultError('INTEGRITY', `integrity check failed: vault.json has an out-of-range KDF ${which}`, {
    hint: 'vault.json was changed; restore it from your own backup of the vault directory',
  });
}

/** Argon2id13 of the passphrase; the caller zeroes the returned key when done. */
export async function deriveKey(passphrase: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  if (salt.length !== SALT_BYTES) throw new Error('bad salt length');
  const s = await sodium();
  return s.crypto_pwhash(KEY_BYTES, passphrase, salt, params.opslimit, params.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
}
