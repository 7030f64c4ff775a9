/**
 * Entries the vault keeps for itself, beside the user's credentials: the age identity of
 * `identity`/`import`, and the sealed command lines of `link`. They live under one reserved
 * service name, stored and backed up like credentials (sealed on a file vault, in the keychain on
 * a keychain vault), but never listed, loaded, exported or verified as credentials, and a user
 * cannot store, load or delete them by name.
 */
import { VaultError } from '../errors.js';
import { entryName } from '../names.js';
import { takeBackup } from './backups.js';
import type { Tx } from './transaction.js';

export const RESERVED_SERVICE = 'mcp-tokens';
/** The X25519 age identity (`AGE-SECRET-KEY-1…`) bundles are sealed to. */
export const IDENTITY_KEY = 'age-identity';
/** The links (`link`): service, key and the command line that prints the value. */
export const LINKS_KEY = 'links';

/** True for the reserved service, with or without an `@instance`. */
export function isReservedService(service: string): boolean {
  return service === RESERVED_SERVICE || service.startsWith(`${RESERVED_SERVICE}@`);
}

/** True for an entry name (`{service}_{key}`) under the reserved service. */
export function isReservedEntry(name: string): boolean {
  return name.startsWith(`${RESERVED_SERVICE}_`) || name.startsWith(`${RESERVED_SERVICE}@`);
}

export function refuseReserved(service: string): void {
  if (isReservedService(service)) {
    throw new VaultError('INVALID_INPUT', `'${RESERVED_SERVICE}' is a reserved service name`, {
      hint: 'mcp-tokens keeps its own identity and links under it; choose another service name',
    });
  }
}

/**
 * In a transaction: read-modify-write of a reserved entry (concurrent `link`s keep both); the old
 * value is backed up first, as by store. `update` may read other entries (`get`) as they are under
 * the lock, and throw to write nothing.
 */
export async function updateReservedIn(
  tx: Tx,
  key: string,
  update: (old: string | undefined, get: (service: string, key: string) => Promise<string | undefined>) => string | Promise<string>,
): Promise<string> {
  const name = entryName(RESERVED_SERVICE, key);
  const old = await tx.backend.get(name);
  const value = await update(old, (service, k) => tx.backend.get(entryName(service, k)));
  if (old === value) return old;
  if (old !== undefined) await takeBackup(tx, RESERVED_SERVICE, key, old);
  await tx.backend.set(name, value);
  return value;
}
