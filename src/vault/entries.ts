/**
 * The user's credentials: store, delete and read entries. Writes take the transaction (tx) and
 * back up every value they replace; reads take the backend a Vault opened. A plaintext file left
 * by the old shell script at an entry's path (`{dir}/{service}_{key}`) is replaced or deleted
 * like a value, its content backed up (encrypted) first.
 */
import { chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VaultError, isVaultError } from '../errors.js';
import { entryName, parseEntryName, type EntryName } from '../names.js';
import { fieldSpec, serviceSpec, type ServiceSpec } from '../services/index.js';
import { jwtExpiry } from '../services/validators.js';
import type { Backend } from '../backends/types.js';
import { linkIn, linkedError } from '../links/links.js';
import { fsyncDir, removeFile, writeAtomic } from './fsutil.js';
import { readLegacyPlain } from './legacy.js';
import { MetadataBatch, readMetadata } from './metadata.js';
import { LINKS_KEY, RESERVED_SERVICE, isReservedEntry } from './reserved.js';
import { takeBackup } from './backups.js';
import { legacyFiles } from './open.js';
import type { Tx } from './transaction.js';
import type { ListedEntry, StoreResult } from './types.js';

export interface NewValue {
  service: string;
  key: string;
  value: string;
}

/** What a store found under the lock at an entry: its value, and whether the old script's plaintext is there. */
interface Found {
  old: string | undefined;
  legacy: boolean;
}

/** Store one value (already checked: warnings are checkValue's); the old value is backed up first. */
export async function storeIn(tx: Tx, service: string, key: string, value: string, warnings: string[], replacePlaintext: boolean): Promise<StoreResult> {
  // Under the lock: a linked credential is refused, as link refuses a stored one (both would
  // show in list, and load/run would keep using the link, ignoring the value stored here).
  const link = linkIn(await tx.backend.get(entryName(RESERVED_SERVICE, LINKS_KEY)), service, key);
  if (link) throw linkedError(link);
  const meta = new MetadataBatch(tx.dir);
  const result = await storeFound(tx, { service, key, value }, await find(tx, entryName(service, key)), warnings, replacePlaintext, meta);
  const failed = meta.flush();
  if (failed) warnings.push(failed);
  return result;
}

/**
 * Store several values in one transaction (import): the values now stored are read under the
 * lock and handed to `check`, which may refuse (nothing is then written); then each is stored
 * as by store. What another command stored meanwhile is what `check` sees, never a copy read
 * before the lock. metadata.json is written once, at the end.
 */
export async function storeManyIn(
  tx: Tx,
  items: readonly NewValue[],
  warnings: readonly string[][],
  check: (stored: ReadonlyArray<string | undefined>) => void,
  onStep?: (done: number, total: number) => void,
): Promise<StoreResult[]> {
  // Every item is checked before the first is written: a linked one refuses them all.
  const links = await tx.backend.get(entryName(RESERVED_SERVICE, LINKS_KEY));
  for (const c of items) {
    const link = linkIn(links, c.service, c.key);
    if (link) throw linkedError(link);
  }
  const found: Found[] = [];
  for (const c of items) found.push(await find(tx, entryName(c.service, c.key)));
  check(found.map((f) => f.old));
  const meta = new MetadataBatch(tx.dir);
  const results: StoreResult[] = [];
  try {
    for (const [i, c] of items.entries()) {
      results.push(await storeFound(tx, c, found[i]!, warnings[i]!, false, meta));
      onStep?.(i + 1, items.length);
    }
  } finally {
    // What was stored before a failure is recorded too, as it was when each store wrote its own.
    const failed = meta.flush();
    if (failed) for (const r of results) if (r.changed) r.warnings.push(failed);
  }
  return results;
}

/** The value at name under the lock; the old script's plaintext file there counts as nothing stored. */
async function find(tx: Tx, name: EntryName): Promise<Found> {
  let legacy = false;
  const old = await tx.backend.get(name).catch((e: unknown) => {
    if (isVaultError(e, 'INTEGRITY') && e.reason === 'legacy-plaintext') {
      legacy = true;
      return undefined;
    }
    throw e;
  });
  return { old, legacy };
}

async function storeFound(tx: Tx, c: NewValue, found: Found, warnings: string[], replacePlaintext: boolean, meta: MetadataBatch): Promise<StoreResult> {
  const { service, key, value } = c;
  const name = entryName(service, key);
  const { old } = found;
  // A keychain vault's directory may hold the old script's file beside the keychain entry.
  const legacyPath = join(tx.dir, name);
  const legacyValue = readLegacyPlain(legacyPath);
  const legacy = found.legacy || legacyValue !== undefined;
  if (old === value && !legacy) return { name, created: false, changed: false, warnings };
  const backup = old === undefined ? undefined : await takeBackup(tx, service, key, old);
  const legacyBackup = legacy && !replacePlaintext && legacyValue !== undefined ? await takeBackup(tx, service, key, legacyValue) : undefined;
  await tx.backend.set(name, value); // a file vault's entry is renamed over the old file
  if (legacy && !replacePlaintext) {
    if (tx.config.backend !== 'file' && removeFile(legacyPath)) fsyncDir(tx.dir);
    warnings.push(`replaced the old script's plaintext file ${legacyPath}${legacyBackup ? `; its value is kept as an encrypted backup (backups/${legacyBackup})` : ''}`);
  }
  const stamp = tx.now().toISOString();
  const expires = fieldSpec(service, key).secret ? jwtExpiry(value)?.toISOString() : undefined;
  meta.set(name, { storedAt: stamp, ...(expires ? { expiresAt: expires } : {}) });
  return { name, created: old === undefined, changed: old !== value || legacy, ...(backup ? { backup } : {}), warnings };
}

/**
 * Delete one key, or every key of a service; each value is backed up first. A plaintext file of
 * the old script at an entry's path is deleted too, its value backed up (encrypted) first.
 */
export async function deleteIn(tx: Tx, service: string, key: string | undefined, force: boolean): Promise<{ deleted: EntryName[]; backups: string[] }> {
  const ofService = (n: string): EntryName[] => {
    const p = parseEntryName(n);
    return p && p.service === service ? [p.name] : [];
  };
  const names =
    key !== undefined
      ? [entryName(service, key)]
      : [...new Set([...(await tx.backend.list()).flatMap(ofService), ...legacyFiles(tx.dir).flatMap(ofService)])];
  const deleted: EntryName[] = [];
  const backups: string[] = [];
  const meta = new MetadataBatch(tx.dir);
  try {
    for (const name of names.sort()) await deleteOne(tx, name, force, meta, deleted, backups);
  } finally {
    meta.flush();
  }
  if (deleted.length === 0) {
    throw new VaultError('NOT_FOUND', key ? `No credential stored for ${service} ${key}` : `No credentials stored for ${service}`, {
      hint: 'see what is stored with: mcp-tokens list',
    });
  }
  return { deleted, backups };
}

async function deleteOne(tx: Tx, name: EntryName, force: boolean, meta: MetadataBatch, deleted: EntryName[], backups: string[]): Promise<void> {
  const parts = parseEntryName(name)!;
  let old: string | undefined;
  try {
    old = await tx.backend.get(name);
  } catch (e) {
    if (!(isVaultError(e, 'INTEGRITY') && (force || e.reason === 'legacy-plaintext'))) throw e;
  }
  const legacyPath = join(tx.dir, name);
  const legacyValue = readLegacyPlain(legacyPath);
  if (old !== undefined) backups.push(await takeBackup(tx, parts.service, parts.key, old));
  if (legacyValue !== undefined && legacyValue !== old) backups.push(await takeBackup(tx, parts.service, parts.key, legacyValue));
  let gone = await tx.backend.delete(name);
  if (tx.config.backend !== 'file' && legacyValue !== undefined && removeFile(legacyPath)) {
    fsyncDir(tx.dir);
    gone = true;
  }
  if (gone) deleted.push(name);
  meta.set(name, undefined);
}

/**
 * `migrate --undo` of an old script's token file in a file vault: the entry service/key sits at
 * the old file's path. While it still holds `expected`, its value is backed up, then `bytes`
 * (the old plaintext file) go back at that path with `mode`.
 */
export async function putBackPlaintextIn(tx: Tx, service: string, key: string, expected: string, path: string, bytes: Uint8Array, mode: number): Promise<'restored' | 'not-here' | 'changed'> {
  const name = entryName(service, key);
  if (tx.config.backend !== 'file' || resolve(join(tx.dir, name)) !== resolve(path)) return 'not-here';
  const now = await tx.backend.get(name).catch(() => undefined);
  if (now !== expected) return 'changed';
  await takeBackup(tx, service, key, now);
  writeAtomic(tx.dir, name, bytes);
  // Undo puts the file back as it was, loose mode included (the user's own file, by request).
  chmodSync(path, mode & 0o777);
  const meta = new MetadataBatch(tx.dir);
  meta.set(name, undefined);
  meta.flush();
  return 'restored';
}

/** Every stored entry with its value masked (secrets) or shown (url, host, user). */
export async function listEntries(backend: Backend, dir: string): Promise<ListedEntry[]> {
  const meta = readMetadata(dir);
  const names = (await backend.list()).filter((n) => !isReservedEntry(n)).sort();
  return Promise.all(
    names.map(async (name) => {
      const { service, key } = parseEntryName(name)!;
      const field = safeField(service, key);
      const base = { service, key, secret: field.secret, env: field.env, meta: meta[name] ?? {} };
      try {
        const value = (await backend.get(name)) ?? '';
        return { ...base, shown: field.secret ? mask(value) : value, status: 'ok' as const };
      } catch (e) {
        if (!(e instanceof VaultError) || e.code !== 'INTEGRITY') throw e;
        const status = e.reason === 'legacy-plaintext' ? ('plaintext' as const) : e.reason === 'older-key' ? ('older-key' as const) : ('damaged' as const);
        return { ...base, shown: '', status, problem: e.message };
      }
    }),
  );
}

/** Stored service names, sorted; `listed` is backend.list() when the caller has it already. */
export async function storedServices(backend: Backend, listed?: readonly EntryName[]): Promise<string[]> {
  const names = (listed ?? (await backend.list())).filter((n) => !isReservedEntry(n));
  return [...new Set(names.map((n) => parseEntryName(n)!.service))].sort();
}

/**
 * The stored values of one service, by key. A service of the user's own is the keys stored under
 * it: `listed` (backend.list(), read once by a caller that loads every service) saves listing
 * the store again for each one.
 */
export async function loadService(backend: Backend, service: string, listed?: readonly EntryName[]): Promise<{ spec: ServiceSpec; values: Record<string, string> }> {
  let spec = serviceSpec(service);
  let keys = spec.fields.map((f) => f.key);
  if (!spec.builtin) {
    keys = [...keysByService(listed ?? (await backend.list())).get(service) ?? []].sort();
    spec = serviceSpec(service, keys);
  }
  const values: Record<string, string> = {};
  const got = await Promise.all(keys.map((k) => backend.get(entryName(service, k))));
  keys.forEach((k, i) => {
    const v = got[i];
    if (v !== undefined) values[k] = v;
  });
  return { spec, values };
}

const indexes = new WeakMap<readonly EntryName[], Map<string, string[]>>();

/** A listing's keys by service, made once per listing: loading every service stays O(entries). */
function keysByService(listed: readonly EntryName[]): Map<string, string[]> {
  let index = indexes.get(listed);
  if (!index) {
    index = new Map();
    for (const n of listed) {
      const p = parseEntryName(n);
      if (!p) continue;
      const keys = index.get(p.service);
      if (keys) keys.push(p.key);
      else index.set(p.service, [p.key]);
    }
    indexes.set(listed, index);
  }
  return index;
}

/** first 4 … last 4; fully masked below 12 characters. */
export function mask(value: string): string {
  const chars = [...value];
  if (chars.length < 12) return '********';
  return `${chars.slice(0, 4).join('')}…${chars.slice(-4).join('')}`;
}

function safeField(service: string, key: string) {
  try {
    return fieldSpec(service, key);
  } catch {
    return { secret: true, env: undefined };
  }
}
