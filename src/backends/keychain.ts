import type { AsyncEntry, EntryOptions } from '@napi-rs/keyring';
import { VaultError } from '../errors.js';
import { NAME_RE, SERVICE_REF_RE, entryName, splitEntryName, type EntryName } from '../names.js';
import type { Backend } from './types.js';

export const KEYCHAIN_BACKEND = 'keychain';
/** Keychain service of every item we write; accounts are `{service}/{key}` or `{service}@{instance}/{key}` (DESIGN.md §4, §11). */
export const KEYCHAIN_SERVICE = 'mcp-tokens';
/** Account of the vault's data key (base64), used to seal backups on this backend (§5). */
export const VAULT_KEY_ACCOUNT = 'vault-key';

export interface KeychainOptions {
  /** Keychain service name; tests use their own so they never meet real credentials. */
  service?: string | undefined;
}

/** The key being replaced while a `rekey` runs (or after one was interrupted). */
export const PREVIOUS_VAULT_KEY_ACCOUNT = 'vault-key-previous';

/** The vault-key helpers below: which account (default VAULT_KEY_ACCOUNT). */
export interface VaultKeyOptions extends KeychainOptions {
  account?: typeof VAULT_KEY_ACCOUNT | typeof PREVIOUS_VAULT_KEY_ACCOUNT | undefined;
}

export type ProbeResult = { ok: true } | { ok: false; reason: string; hint: string };

/**
 * Pin Linux to the Secret Service. Unpinned, the library silently falls back to the kernel
 * keyutils store when D-Bus is missing: writes "succeed" and vanish at the next reboot, and reads
 * see an empty store instead of an unavailable one. Other platforms ignore the option.
 */
const PIN: EntryOptions = { linux: { store: 'secret-service' } };

/**
 * What reaches the keychain again, for an existing keychain vault as for a new one. Not "use
 * --backend file": an existing keychain vault refuses that, and moving it to files (`mcp-tokens
 * backend file`) reads every credential from the keychain once — so the way in comes first.
 */
const SERVER_STEPS =
  'without a desktop, start a session with: dbus-run-session -- bash, unlock the keyring in it with: gnome-keyring-daemon --unlock --components=secrets (type the keyring password, then Ctrl-D), and run mcp-tokens there. ' +
  'To leave the keychain, run mcp-tokens backend file in such a session (it reads the keychain once); a new vault can be made with --backend file';
const HEADLESS_HINT = `log in to a desktop session, or ${SERVER_STEPS}`;

/** Credentials in the OS keychain: the value is stored raw so other keychain clients can read it. */
export function keychainBackend(opts: KeychainOptions = {}): Backend {
  const service = opts.service ?? KEYCHAIN_SERVICE;
  return {
    name: KEYCHAIN_BACKEND,
    get: async (name) =>
      (await withEntry(service, account(name), 'read', (e) => e.getPassword())) ?? undefined,
    set: async (name, value) => {
      await withEntry(service, account(name), 'write', (e) => e.setPassword(value));
    },
    delete: (name) => withEntry(service, account(name), 'delete', (e) => e.deleteCredential()),
    list: async () => {
      const keyring = await loadKeyring();
      let found: { account: string }[];
      try {
        // Search by attribute only; the values come back too and are dropped at once.
        found = await keyring.findCredentialsAsync(service);
      } catch (e) {
        throw translate(e, `list ${service}`);
      }
      const names = new Set<EntryName>();
      for (const { account: acct } of found) {
        const name = entryOf(acct);
        if (name) names.add(name); // foreign accounts (vault-key, probes, others' items) are skipped
      }
      return [...names];
    },
  };
}

/**
 * Can this machine's keychain hold a credential right now? Writes, reads back and deletes a
 * probe item. Used by `--backend auto` and `doctor`; never throws.
 */
export async function probeKeychain(opts: KeychainOptions = {}): Promise<ProbeResult> {
  const service = opts.service ?? KEYCHAIN_SERVICE;
  // No '/' in the account, so list() never mistakes a leftover probe for a credential.
  const acct = `probe-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const marker = `mcp-tokens probe ${Date.now()}`;
  try {
    await withEntry(service, acct, 'write', (e) => e.setPassword(marker));
    try {
      const back = await withEntry(service, acct, 'read', (e) => e.getPassword());
      if (back !== marker) {
        return { ok: false, reason: 'the keychain did not return the value just written', hint: HEADLESS_HINT };
      }
    } finally {
      await withEntry(service, acct, 'delete', (e) => e.deleteCredential()).catch(() => false);
    }
    return { ok: true };
  } catch (e) {
    const err = e instanceof VaultError ? e : translate(e, 'probe');
    return { ok: false, reason: err.message, hint: err.hint ?? HEADLESS_HINT };
  }
}

export async function readVaultKey(opts: VaultKeyOptions = {}): Promise<Uint8Array | undefined> {
  const service = opts.service ?? KEYCHAIN_SERVICE;
  const acct = opts.account ?? VAULT_KEY_ACCOUNT;
  const text = await withEntry(service, acct, 'read', (e) => e.getPassword());
  if (text === null) return undefined;
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) {
    throw new VaultError('INTEGRITY', `the vault key in the keychain (${service} / ${acct}) is malformed`, {
      hint: 'it is not 32 bytes of base64: restore it, or delete it and re-create the vault',
    });
  }
  // Copy out of Buffer's shared pool into bytes the caller owns (and can memzero).
  const decoded = Buffer.from(text, 'base64');
  const key = new Uint8Array(decoded);
  decoded.fill(0);
  return key;
}

export async function writeVaultKey(key: Uint8Array, opts: VaultKeyOptions = {}): Promise<void> {
  if (key.length !== 32) throw new RangeError(`vault key must be 32 bytes, got ${key.length}`);
  const service = opts.service ?? KEYCHAIN_SERVICE;
  // The base64 string cannot be zeroed; the keychain API takes strings (accepted, DESIGN §5).
  const text = Buffer.from(key.buffer, key.byteOffset, key.length).toString('base64');
  await withEntry(service, opts.account ?? VAULT_KEY_ACCOUNT, 'write', (e) => e.setPassword(text));
}

export async function deleteVaultKey(opts: VaultKeyOptions = {}): Promise<boolean> {
  const service = opts.service ?? KEYCHAIN_SERVICE;
  return withEntry(service, opts.account ?? VAULT_KEY_ACCOUNT, 'delete', (e) => e.deleteCredential());
}

type Keyring = typeof import('@napi-rs/keyring');
let loading: Promise<Keyring> | undefined;

/** Loaded on first use: the native module costs start-up time commands without a keychain skip. */
function loadKeyring(): Promise<Keyring> {
  loading ??= import('@napi-rs/keyring').catch((e: unknown) => {
    loading = undefined;
    throw new VaultError('BACKEND_UNAVAILABLE', 'the OS keychain module could not be loaded on this platform', {
      hint: 'use --backend file',
      cause: e,
    });
  });
  return loading;
}

async function withEntry<T>(service: string, acct: string, verb: string, fn: (e: AsyncEntry) => Promise<T>): Promise<T> {
  const keyring = await loadKeyring();
  try {
    // The constructor itself connects (and throws) when the pinned store is unreachable.
    return await fn(new keyring.AsyncEntry(service, acct, PIN));
  } catch (e) {
    throw translate(e, `${verb} ${service} / ${acct}`);
  }
}

function account(name: EntryName): string {
  const { service, key } = splitEntryName(name);
  return `${service}/${key}`;
}

function entryOf(acct: string): EntryName | undefined {
  const parts = acct.split('/');
  if (parts.length !== 2 || !SERVICE_REF_RE.test(parts[0]!) || !NAME_RE.test(parts[1]!)) return undefined;
  return entryName(parts[0]!, parts[1]!);
}

/**
 * Native errors all arrive as GenericFailure; only the message tells them apart. The native text
 * names D-Bus objects and accounts, never a stored value, so it is kept (shortened) for diagnosis.
 */
function translate(e: unknown, what: string): VaultError {
  const detail = (e instanceof Error ? e.message : String(e)).replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 300);
  const fail = (code: 'BACKEND_UNAVAILABLE' | 'INTEGRITY', why: string, hint: string) =>
    new VaultError(code, `cannot ${what} in the OS keychain: ${why} (${detail})`, { hint, cause: e });
  if (/matched by|ambiguous/i.test(detail)) {
    // Another program wrote a second item with the same service and account. Picking one could
    // hand a service the wrong credential, so refuse like any other inconsistent store.
    return fail('INTEGRITY', 'more than one keychain item matches', `remove the duplicate items (secret-tool clear, Seahorse or Keychain Access) and store the credential again`);
  }
  if (/prompt (was )?dismissed|locked/i.test(detail)) {
    return fail('BACKEND_UNAVAILABLE', 'the keychain is locked', `unlock the keyring (log in to the desktop or unlock "Login" in Seahorse) and try again; ${SERVER_STEPS}`);
  }
  if (/d-?bus|secret service|connect|autolaunch/i.test(detail)) {
    return fail('BACKEND_UNAVAILABLE', 'no Secret Service is reachable (no D-Bus session or no keyring daemon)', HEADLESS_HINT);
  }
  if (/utf-?8|encod/i.test(detail)) {
    return fail('INTEGRITY', 'the keychain item is not text', 'remove the item and store the credential again');
  }
  return fail('BACKEND_UNAVAILABLE', 'the keychain refused the request', HEADLESS_HINT);
}
