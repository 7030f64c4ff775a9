/** This vault's age identity: created on first use, kept as a reserved vault entry. */
import { VaultError } from '../errors.js';
import { IDENTITY_KEY } from '../vault/reserved.js';
import type { Vault } from '../vault/vault.js';
import { newIdentity, recipientOf } from './age.js';

export interface VaultIdentity {
  identity: string;
  recipient: string;
  created: boolean;
}

/** The vault's identity, made and stored when there is none (a racing first use keeps one). */
export async function vaultIdentity(vault: Vault, { create }: { create: boolean }): Promise<VaultIdentity> {
  const stored = await vault.getReserved(IDENTITY_KEY);
  if (stored !== undefined) return { identity: stored, recipient: await recipientOf(stored), created: false };
  if (!create) {
    throw new VaultError('NOT_FOUND', 'this vault has no age identity yet, so no bundle can be sealed to it', {
      hint: 'run: mcp-tokens identity   (then export to the age1… it prints), or pass --identity FILE',
    });
  }
  const fresh = await newIdentity();
  const kept = await vault.putReserved(IDENTITY_KEY, fresh, { ifAbsent: true });
  return { identity: kept, recipient: await recipientOf(kept), created: kept === fresh };
}

/** An age identity file for `age -d -i`, as age-keygen writes one. */
export function identityFile(id: VaultIdentity, at: Date): string {
  return `# created: ${at.toISOString()} by mcp-tokens\n# public key: ${id.recipient}\n${id.identity}\n`;
}
