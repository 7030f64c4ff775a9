/**
 * The keychain addon underneath keychain.ts: loading it, finding the session bus, one native entry
 * (one D-Bus connection and Secret Service session) per account and the calls made on it, the
 * hand-off of further accounts to worker threads (keychain-pool.ts), searches, and what the
 * addon's errors mean in a user's words.
 */
import { createRequire } from 'node:module';
import type { AsyncEntry, EntryOptions } from '@napi-rs/keyring';
import { VaultError } from '../errors.js';
import { injectedEnv, standardBus } from '../user-dirs.js';

export type Found = Array<{ account: string; password: string }>;

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
export const HEADLESS_HINT = `log in to a desktop session, or ${SERVER_STEPS}`;

/** How the session bus was looked for, for the "no Secret Service" message. */
let busTried: { text: string; unset: boolean } | undefined;

/**
 * MCP clients start servers without DBUS_SESSION_BUS_ADDRESS (the SDK passes HOME, LOGNAME, PATH,
 * SHELL, TERM and USER only). Then the bus of the user's login is used, at its standard place
 * unix:path=/run/user/<uid>/bus, when that socket exists and is the user's: set in this
 * process's environment before libdbus connects (it reads the variable), and left out of what
 * `run` hands the command (user-dirs.ts, injectedEnv).
 */
export function ensureBusAddress(): void {
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

export type Keyring = typeof import('@napi-rs/keyring');
let loaded: Keyring | undefined;

/**
 * Loaded on first use: the native module costs start-up time commands without a keychain skip.
 * Through require, not import(): the addon's loader is CommonJS, and Node 20 bringing it in as an
 * ES module costs 30–40 ms more CPU on every keychain command (measured; bench/RESULTS.md).
 */
export async function loadKeyring(): Promise<Keyring> {
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
export async function item(call: ItemCall): Promise<string | null | boolean | undefined> {
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

/**
 * One native entry per (bus, service, account), kept for the life of the process (or of the worker
 * thread that serves the account: OWN_ACCOUNTS above). Every `AsyncEntry` opens its own D-Bus connection and Secret Service session in its constructor and
 * holds them until the JS object is garbage-collected; there is no close(). A fresh entry per call
 * piled connections up (254 calls in one process reached the bus's per-user limit) and let them go
 * in bursts whenever GC ran: the connect/OpenSession/disconnect churn under which gnome-keyring 42
 * aborts (upstream bug; SECURITY.md). Reused, a process holds one connection per account it
 * touches and opens each once. The bus address is part of the key, so a process that moves to
 * another session (the tests do) never talks to the old one through a kept entry.
 */
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
export async function withEntry<T>(service: string, acct: string, verb: string, fn: (e: AsyncEntry) => Promise<T>, absent?: T): Promise<T> {
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
export function forgetEntry(service: string, acct: string): void {
  slots.delete(slotKey(service, acct));
}

function slotKey(service: string, acct: string): string {
  return `${service}\0${acct}`;
}

/** One search by the service attribute; the values come back with the accounts. */
export async function searchService(service: string): Promise<Found> {
  const keyring = await loadKeyring();
  ensureBusAddress();
  return keyring.findCredentialsAsync(service);
}

/**
 * Native errors all arrive as GenericFailure; only the message tells them apart. The native text
 * names D-Bus objects and accounts, never a stored value, so it is kept (shortened) for diagnosis.
 */
export function translate(e: unknown, what: string): VaultError {
  const detail = (e instanceof Error ? e.message : String(e)).replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 300);
  const fail = (code: 'BACKEND_UNAVAILABLE' | 'INTEGRITY', why: string, hint: string) =>
    new VaultError(code, `cannot ${what} in the OS keychain: ${why} (${detail})`, { hint, cause: e });
  if (/matched by|ambiguous/i.test(detail)) {
    // Another program wrote a second item with the same service and account. Picking one could
    // hand a service the wrong credential, so refuse like any other inconsistent store.
    return fail('INTEGRITY', 'more than one keychain item matches', `remove the duplicate items (secret-tool clear, Seahorse or Keychain Access) and store the credential again`);
  }
  if (/did not receive a reply|NoReply|timed? ?out/i.test(detail)) {
    // libdbus's own timeout (25 s): its text also says "security policy blocked the reply".
    return fail('BACKEND_UNAVAILABLE', 'the Secret Service did not answer in time', 'the keyring daemon is busy or stuck: run the command again (an interrupted backend move resumes where it stopped); if it keeps timing out, restart the keyring daemon (log out and back in)');
  }
  if (/prompt (was )?dismissed|\blocked\b/i.test(detail)) {
    return fail('BACKEND_UNAVAILABLE', 'the keychain is locked', `unlock the keyring (log in to the desktop or unlock "Login" in Seahorse) and try again; ${SERVER_STEPS}`);
  }
  if (/maximum number of active connections/i.test(detail)) {
    return fail('BACKEND_UNAVAILABLE', 'the session bus refused another connection (its limit per user)', 'other programs of yours hold many D-Bus connections: close some, or raise max_connections_per_user in the bus configuration, and run the command again');
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
