/**
 * The age file format (age-encryption.org/v1), through `age-encryption` by age's author: this
 * module only translates its inputs and errors. It is imported lazily, by the commands that
 * seal or open bundles, so `run` and `load` do not pay for it.
 */
import { VaultError } from '../errors.js';

type Age = typeof import('age-encryption');
let loaded: Promise<Age> | undefined;
function age(): Promise<Age> {
  loaded ??= import('age-encryption');
  return loaded;
}

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const RECIPIENT_RE = /^age1[02-9ac-hj-np-z]+$/;
const IDENTITY_RE = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]+$/;

/** A new X25519 identity, `AGE-SECRET-KEY-1…`. */
export async function newIdentity(): Promise<string> {
  return (await age()).generateX25519Identity();
}

/** The recipient (`age1…`) of an identity. */
export async function recipientOf(identity: string): Promise<string> {
  return (await age()).identityToRecipient(identity);
}

/** Refuse anything that is not an X25519 recipient before encrypting (no value is involved). */
export function checkRecipient(r: string): string {
  if (!RECIPIENT_RE.test(r) || r.length > 100) {
    const shown = JSON.stringify(r.length > 20 ? `${r.slice(0, 20)}…` : r).replace(/[\u0000-\u001f\u007f]/g, '?');
    throw new VaultError('INVALID_INPUT', `Invalid age recipient ${shown}`, {
      hint: 'a recipient is the age1… line printed by `mcp-tokens identity` (or `age-keygen -y`) on the receiving machine',
    });
  }
  return r;
}

/** Seal bytes to every recipient; binary age, or ASCII armor. */
export async function seal(recipients: readonly string[], plaintext: Uint8Array, armor: boolean): Promise<Uint8Array> {
  const a = await age();
  const enc = new a.Encrypter();
  for (const r of recipients) {
    try {
      enc.addRecipient(checkRecipient(r));
    } catch (e) {
      if (e instanceof VaultError) throw e;
      throw new VaultError('INVALID_INPUT', `Invalid age recipient ${r}`, { hint: 'check the age1… string (a checksum failed)', cause: e });
    }
  }
  const out = await enc.encrypt(plaintext);
  return armor ? new TextEncoder().encode(a.armor.encode(out)) : out;
}

/** True when the bytes look like an armored age file (PEM-like text). */
export function isArmored(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 200)).trimStart();
  return head.startsWith(ARMOR_BEGIN);
}

/**
 * Open an age file with the given identities. A file for other recipients, truncated or
 * tampered fails with INTEGRITY; the message never quotes the file.
 */
export async function open(file: Uint8Array, identities: readonly string[], recipientHint: string): Promise<Uint8Array> {
  const a = await age();
  let bytes = file;
  if (isArmored(file)) {
    try {
      bytes = a.armor.decode(new TextDecoder('utf-8', { fatal: true }).decode(file));
    } catch (e) {
      throw bad('the bundle\'s ASCII armor is damaged (truncated or edited)', e);
    }
  }
  const dec = new a.Decrypter();
  for (const id of identities) dec.addIdentity(id);
  try {
    return await dec.decrypt(bytes);
  } catch (e) {
    const msg = e instanceof Error ? e.message : '';
    if (/no identity matched/i.test(msg)) {
      throw new VaultError('INTEGRITY', 'the bundle is not sealed to this identity', {
        hint: `ask the sender to export to ${recipientHint}`,
        cause: e,
        reason: 'other-recipient',
      });
    }
    throw bad('the bundle is not a valid age file, or it was truncated or tampered with', e);
  }
}

/** The identities of an age identity file (`age-keygen` output): comments and blank lines skipped. */
export function parseIdentityFile(text: string, path: string): string[] {
  const ids = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (ids.length === 0 || !ids.every((l) => IDENTITY_RE.test(l))) {
    throw new VaultError('INVALID_INPUT', `${path} is not an age identity file`, {
      hint: 'it must hold AGE-SECRET-KEY-1… lines, as written by age-keygen or `mcp-tokens identity --secret`',
    });
  }
  return ids;
}

function bad(message: string, cause: unknown): VaultError {
  return new VaultError('INTEGRITY', message, { hint: 'nothing was imported; ask for the bundle again', cause, reason: 'bad-bundle' });
}
