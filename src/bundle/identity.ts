/** This vault's age identity: created on first use, kept as a reserved vault entry. */
import { join } from 'node:path';
import { VaultError } from '../errors.js';
import { readSecureText } from '../vault/fsutil.js';
import { IDENTITY_KEY } from '../vault/reserved.js';
import type { Vault } from '../vault/vault.js';
import { newIdentity, recipientOf } from './age.js';

export interface VaultIdentity {
  identity: string;
  recipient: string;
  created: boolean;
}

/**
 * The recipient, public, kept in clear beside the sealed identity so `identity` needs no
 * passphrase to print it; rewritten from the identity itself whenever the vault opens it.
 */
export const RECIPIENT_FILE = 'identity.pub';
const RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;

/** The recipient recorded in identity.pub (a vault file: same permission checks), if any. */
export function storedRecipient(dir: string): string | undefined {
  const text = readSecureText(join(dir, RECIPIENT_FILE))?.trim();
  return text !== undefined && RECIPIENT_RE.test(text) ? text : undefined;
}

/** The vault's identity, made and stored when there is none (a racing first use keeps one). */
export async function vaultIdentity(vault: Vault, { create }: { create: boolean }): Promise<VaultIdentity> {
  const id = await readOrCreate(vault, create);
  await vault.writePublic(RECIPIENT_FILE, `${id.recipient}\n`);
  return id;
}

async function readOrCreate(vault: Vault, create: boolean): Promise<VaultIdentity> {
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
