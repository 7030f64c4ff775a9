import { VaultError } from '../errors.js';
import { NAME_RE, SERVICE_REF_RE, entryName, splitEntryName, type EntryName } from '../names.js';
import type { Backend } from './types.js';
import { HEADLESS_HINT, ensureBusAddress, forgetEntry, item, loadKeyring, searchService, translate, withEntry, type Found } from './keychain-native.js';

export const KEYCHAIN_BACKEND = 'keychain';
/**
 * Keychain service prefix; accounts are `{service}/{key}` or `{service}@{instance}/{key}` (DESIGN.md
 * §4, §11). A vault's items live under `mcp-tokens:<vault id>` (vaultService); `mcp-tokens` alone
 * is where vaults made before ids kept theirs, shared by every such vault.
 */
export const KEYCHAIN_SERVICE = 'mcp-tokens';

/** The keychain service of one vault's items: `<base>:<id>`, or `<base>` for a vault without an id. */
export function vaultService(id: string | undefined, base: string = KEYCHAIN_SERVICE): string {
  return id === undefined ? base : `${base}:${id}`;
}
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

/** Credentials in the OS keychain: the value is stored raw so other keychain clients can read it. */
export function keychainBackend(opts: KeychainOptions = {}): Backend {
  const service = opts.service ?? KEYCHAIN_SERVICE;
  return {
    name: KEYCHAIN_BACKEND,
    get: async (name) => ((await item({ op: 'get', service, acct: account(name) })) as string | null) ?? undefined,
    set: async (name, value) => {
      await item({ op: 'set', service, acct: account(name), value });
    },
    delete: async (name) => (await item({ op: 'delete', service, acct: account(name) })) as boolean,
    list: async () => {
      const keyring = await loadKeyring();
      let found: { account: string }[];
      ensureBusAddress();
      try {
        // Search by attribute only; the values come back too and are dropped at once.
        found = await keyring.findCredentialsAsync(service);
      } catch (e) {
        throw translate(e, `list ${service}`);
      }
      return namesOf(found.map((c) => c.account));
    },
  };
}

/**
 * Reads served from one Secret Service search for the vault's service (its items' `service`
 * attribute, matched exactly), taken at the first call: one connection and session instead of one
 * per account read — `load`/`run` read the links, each field of each service and the list. What
 * the search cannot answer exactly as a lookup of the one item would — an account two items match
 * (a lookup refuses it), a value that is not UTF-8 (the search hands it back mangled), a search
 * that failed (a locked keyring, an item deleted under it) — is asked of `live` item by item, so
 * its answer and its error are the lookup's own. Absent from the search is absent.
 *
 * The view is the moment of the search: for one read (cli/context.ts openForRead), never inside a
 * transaction, which reads under the lock through `live`. drop() lets the values go.
 */
export function keychainReader(live: Backend, opts: KeychainOptions = {}, configText?: string): Backend & { drop(): void; item(acct: string): Promise<string | null | undefined> } {
  const service = opts.service ?? KEYCHAIN_SERVICE;
  let found: Promise<Map<string, string[]> | undefined> | undefined;
  const search = (): Promise<Map<string, string[]> | undefined> =>
    (found ??= (takeAhead(service, configText) ?? searchService(service)).then(
      (items) => {
        const byAccount = new Map<string, string[]>();
        for (const { account: acct, password } of items) byAccount.set(acct, [...(byAccount.get(acct) ?? []), password]);
        return byAccount;
      },
      () => undefined, // the lookups below give the error, in their own words
    ));
  return {
    name: KEYCHAIN_BACKEND,
    get: async (name) => {
      const items = await search();
      if (!items) return live.get(name);
      const values = items.get(account(name));
      if (values === undefined) return undefined;
      if (values.length !== 1 || values[0]!.includes('\uFFFD')) return live.get(name);
      return values[0];
    },
    list: async () => {
      const items = await search();
      if (!items) return live.list();
      return namesOf(items.keys());
    },
    set: async (name, value) => {
      found = undefined;
      await live.set(name, value);
    },
    delete: async (name) => {
      found = undefined;
      return live.delete(name);
    },
    drop: () => {
      found = undefined;
    },
    // An item by its account (the vault key's), as the search found it: null when absent,
    // undefined when the search cannot answer as a lookup would.
    item: async (acct) => {
      const items = await search();
      if (!items) return undefined;
      const values = items.get(acct);
      if (values === undefined) return null;
      return values.length === 1 && !values[0]!.includes('\uFFFD') ? values[0] : undefined;
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
      forgetEntry(service, acct);
    }
    return { ok: true };
  } catch (e) {
    const err = e instanceof VaultError ? e : translate(e, 'probe');
    return { ok: false, reason: err.message, hint: err.hint ?? HEADLESS_HINT };
  }
}

/**
 * The vault key item. `seen`: an item as a read's one search found it (keychainReader's
 * `item`): null when the search found none, undefined when it cannot tell (then it is looked up).
 */
export async function readVaultKey(opts: VaultKeyOptions = {}, seen?: (acct: string) => Promise<string | null | undefined>): Promise<Uint8Array | undefined> {
  const service = opts.service ?? KEYCHAIN_SERVICE;
  const acct = opts.account ?? VAULT_KEY_ACCOUNT;
  const fromSearch = seen ? await seen(acct) : undefined;
  const text = fromSearch !== undefined ? fromSearch : await withEntry(service, acct, 'read', (e) => e.getPassword());
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

/** A search begun before the vault was opened, and what it was begun on. */
let ahead: { service: string; bus: string; configText: string; found: Promise<Found> } | undefined;

/**
 * Begin the search a read will make (cli/prewarm.ts), so the Secret Service answers on another
 * thread while the rest of the command loads. `configText` is the vault.json it was begun for:
 * the reader takes it only for that very text (the vault it opened) and the same bus and service;
 * otherwise it searches afresh. Read-only; a failure is the reader's to meet (it asks again).
 * Resolves when the search has ended, whatever its outcome.
 */
export function searchAhead(service: string, configText: string): Promise<void> {
  ensureBusAddress();
  const found = searchService(service);
  ahead = { service, bus: process.env['DBUS_SESSION_BUS_ADDRESS'] ?? '', configText, found };
  return found.then(
    () => undefined,
    () => undefined,
  );
}

function takeAhead(service: string, configText: string | undefined): Promise<Found> | undefined {
  const a = ahead;
  ahead = undefined; // once: a later read (after a write) searches again
  ensureBusAddress();
  if (!a || configText === undefined || a.configText !== configText || a.service !== service || a.bus !== (process.env['DBUS_SESSION_BUS_ADDRESS'] ?? '')) return undefined;
  return a.found;
}

/** The entry names among accounts; foreign accounts (vault-key, probes, others' items) are skipped. */
function namesOf(accounts: Iterable<string>): EntryName[] {
  const names = new Set<EntryName>();
  for (const acct of accounts) {
    const name = entryOf(acct);
    if (name) names.add(name);
  }
  return [...names];
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
