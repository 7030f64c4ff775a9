import { createRequire } from 'node:module';
import type { AsyncEntry, EntryOptions } from '@napi-rs/keyring';
import { VaultError } from '../errors.js';
import { NAME_RE, SERVICE_REF_RE, entryName, splitEntryName, type EntryName } from '../names.js';
import type { Backend } from './types.js';
import { injectedEnv, standardBus } from '../user-dirs.js';

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

/** How the session bus was looked for, for the "no Secret Service" message. */
let busTried: { text: string; unset: boolean } | undefined;

/**
 * MCP clients start servers without DBUS_SESSION_BUS_ADDRESS (the SDK passes HOME, LOGNAME, PATH,
 * SHELL, TERM and USER only). Then the bus of the user's login is used, at its standard place
 * unix:path=/run/user/<uid>/bus, when that socket exists and is the user's: set in this
 * process's environment before libdbus connects (it reads the variable), and left out of what
 * `run` hands the command (user-dirs.ts, injectedEnv).
 */
function ensureBusAddress(): void {
  if (process.platform !== 'linux') return;
  const set = process.env['DBUS_SESSION_BUS_ADDRESS'];
  if (set && !injectedEnv.has('DBUS_SESSION_BUS_ADDRESS')) {
    busTried = { text: `the session bus DBUS_SESSION_BUS_ADDRESS names (${set.slice(0, 200)})`, unset: false };
    return;
  }
  const std = standardBus();
  if ('address' in std) {
    process.env['DBUS_SESSION_BUS_ADDRESS'] = std.address;
    injectedEnv.add('DBUS_SESSION_BUS_ADDRESS');
    busTried = { text: `the standard session bus ${std.address} (DBUS_SESSION_BUS_ADDRESS is not set)`, unset: true };
  } else {
    if (injectedEnv.delete('DBUS_SESSION_BUS_ADDRESS')) delete process.env['DBUS_SESSION_BUS_ADDRESS'];
    busTried = { text: `no session bus: DBUS_SESSION_BUS_ADDRESS is not set, and ${std.why}`, unset: true };
  }
}

type Keyring = typeof import('@napi-rs/keyring');
let loaded: Keyring | undefined;

/**
 * Loaded on first use: the native module costs start-up time commands without a keychain skip.
 * Through require, not import(): the addon's loader is CommonJS, and Node 20 bringing it in as an
 * ES module costs 30–40 ms more CPU on every keychain command (measured; bench/RESULTS.md).
 */
async function loadKeyring(): Promise<Keyring> {
  try {
    loaded ??= createRequire(import.meta.url)('@napi-rs/keyring') as Keyring;
    return loaded;
  } catch (e) {
    throw new VaultError('BACKEND_UNAVAILABLE', 'the OS keychain module could not be loaded on this platform', {
      hint: 'use --backend file',
      cause: e,
    });
  }
}

/**
 * One native entry per (bus, service, account), kept for the life of the process. Every
 * `AsyncEntry` opens its own D-Bus connection and Secret Service session in its constructor and
 * holds them until the JS object is garbage-collected; there is no close(). A fresh entry per call
 * piled connections up (254 calls in one process reached the bus's per-user limit) and let them go
 * in bursts whenever GC ran: the connect/OpenSession/disconnect churn under which gnome-keyring 42
 * aborts (upstream bug; SECURITY.md). Reused, a process holds one connection per account it
 * touches and opens each once. The bus address is part of the key, so a process that moves to
 * another session (the tests do) never talks to the old one through a kept entry.
 */
/**
 * How many accounts a process serves on connections of its own. Every item a process touches keeps
 * its own connection (a file descriptor: see Slot), and the addon waits on them with select(), which
 * spins once a descriptor passes 1,023 (FD_SETSIZE): a move of 1,000 credentials ran 12 minutes at
 * 100 % CPU with 1,025 descriptors open (measured, issue 28). Calls on further accounts go to a
 * worker thread that is retired, its connections closed with it, every WORKER_ACCOUNTS accounts
 * (keychain-pool.ts): a process holds at most this many plus one worker's. A `load` or `run`
 * touches a handful (its reads are one search); a move, an import or a migrate may touch thousands.
 * MCP_TOKENS_KEYCHAIN_BATCH=<n> (a test hook, like failpoint.ts's) sets both bounds to n.
 */
const OWN_ACCOUNTS = 100;

/** The test hook's bound, when it is set to a whole number ≥ 1. */
function batchHook(): number | undefined {
  const n = Number(process.env['MCP_TOKENS_KEYCHAIN_BATCH']);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** Set by keychain-worker.ts: a worker serves every call itself. */
let servingWorker = false;
export function serveInThisThread(): void {
  servingWorker = true;
}

type ItemCall = import('./keychain-pool.js').ItemCall;

/** One item call: on this thread's connections while it has room (or the account already has one), else in a worker. */
async function item(call: ItemCall): Promise<string | null | boolean | undefined> {
  const bound = batchHook();
  if (servingWorker || slots.has(slotKey(call.service, call.acct)) || slots.size < (bound ?? OWN_ACCOUNTS)) return itemHere(call);
  ensureBusAddress();
  const pool = await import('./keychain-pool.js');
  return pool.callInWorker(call, process.env['DBUS_SESSION_BUS_ADDRESS'] ?? '', bound);
}

function itemHere({ op, service, acct, value }: ItemCall): Promise<string | null | boolean | undefined> {
  if (op === 'get') return withEntry(service, acct, 'read', (e) => e.getPassword(), null);
  if (op === 'delete') return withEntry(service, acct, 'delete', (e) => e.deleteCredential(), false);
  return withEntry(service, acct, 'write', async (e) => {
    await e.setPassword(value ?? '');
    return undefined;
  });
}

/** A worker's answer to one call (keychain-worker.ts): the value, or the error in words and code. */
export async function serveItem(call: ItemCall & { id: number }): Promise<import('./keychain-pool.js').ItemReply> {
  try {
    return { id: call.id, ok: true, result: await itemHere(call) };
  } catch (e) {
    const err = e instanceof VaultError ? e : translate(e, `${call.op} ${call.service} / ${call.acct}`);
    return { id: call.id, ok: false, code: err.code, message: err.message, hint: err.hint };
  }
}

interface Slot {
  entry: AsyncEntry;
  /** Calls on one entry run one at a time: the native side shares its connection among them. */
  tail: Promise<unknown>;
}
const slots = new Map<string, Slot>();
let slotsBus: string | undefined;

/** gnome-keyring restarted since the entry opened its session: the session object is gone. */
const STALE_SESSION = /session (wrapping the secret )?does not exist/i;

/**
 * The item was deleted between the library's search for it and its call on it: another process's
 * `delete` (or a move) ran in between. Readers take no lock, so this is an ordinary race.
 */
const VANISHED = /No such interface .?org\.freedesktop\.Secret\.Item|org\.freedesktop\.DBus\.Error\.UnknownObject|No such object/i;

/**
 * Run `fn` on the account's entry. With `absent` given (reads and deletes), an item that vanished
 * under the call is looked up once more — a writer may have replaced it — and is then `absent`.
 */
async function withEntry<T>(service: string, acct: string, verb: string, fn: (e: AsyncEntry) => Promise<T>, absent?: T): Promise<T> {
  const keyring = await loadKeyring();
  const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
  try {
    try {
      return await onSlot(keyring, service, acct, fn);
    } catch (e) {
      const vanished = absent !== undefined && VANISHED.test(message(e));
      if (!vanished && !STALE_SESSION.test(message(e))) throw e;
      // The failed slot is already dropped: once more on a new connection and session. Nothing
      // was written through a session the daemon no longer knows, so a write may be repeated.
      try {
        return await onSlot(keyring, service, acct, fn);
      } catch (again) {
        if (vanished && VANISHED.test(message(again))) return absent;
        throw again;
      }
    }
  } catch (e) {
    throw translate(e, `${verb} ${service} / ${acct}`);
  }
}

async function onSlot<T>(keyring: Keyring, service: string, acct: string, fn: (e: AsyncEntry) => Promise<T>): Promise<T> {
  ensureBusAddress();
  const bus = process.env['DBUS_SESSION_BUS_ADDRESS'] ?? '';
  if (bus !== slotsBus) {
    slots.clear(); // entries of the old bus go to GC with their connections
    slotsBus = bus;
  }
  const key = slotKey(service, acct);
  let slot = slots.get(key);
  if (!slot) {
    // The constructor itself connects (and throws) when the pinned store is unreachable.
    slot = { entry: new keyring.AsyncEntry(service, acct, PIN), tail: Promise.resolve() };
    slots.set(key, slot);
  }
  const mine = slot;
  const call = mine.tail.then(() => fn(mine.entry));
  mine.tail = call.catch(() => undefined);
  try {
    return await call;
  } catch (e) {
    // Whatever failed (a locked keyring, a restarted daemon), the next call starts afresh.
    if (slots.get(key) === mine) slots.delete(key);
    throw e;
  }
}

/** Let a one-off account's entry (a probe's) go, so probing does not keep a connection per call. */
function forgetEntry(service: string, acct: string): void {
  slots.delete(slotKey(service, acct));
}

function slotKey(service: string, acct: string): string {
  return `${service}\0${acct}`;
}

type Found = Array<{ account: string; password: string }>;

/** One search by the service attribute; the values come back with the accounts. */
async function searchService(service: string): Promise<Found> {
  const keyring = await loadKeyring();
  ensureBusAddress();
  return keyring.findCredentialsAsync(service);
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
    const tried = busTried ? `; tried ${busTried.text}` : '';
    const set = busTried?.unset
      ? "set DBUS_SESSION_BUS_ADDRESS to your session bus's address (echo $DBUS_SESSION_BUS_ADDRESS in a terminal of your desktop session; for an MCP server, in its \"env\" in the client's config), or "
      : busTried
        ? 'check that DBUS_SESSION_BUS_ADDRESS names the bus of the session whose keyring holds the vault, or '
        : '';
    return fail('BACKEND_UNAVAILABLE', `no Secret Service is reachable (no D-Bus session or no keyring daemon)${tried}`, `${set}${HEADLESS_HINT}`);
  }
  if (/utf-?8|encod/i.test(detail)) {
    return fail('INTEGRITY', 'the keychain item is not text', 'remove the item and store the credential again');
  }
  return fail('BACKEND_UNAVAILABLE', 'the keychain refused the request', HEADLESS_HINT);
}
