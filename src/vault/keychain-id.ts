/**
 * Giving a keychain vault made before vault ids its own keychain items (DESIGN.md §12).
 *
 * Such a vault keeps its items under the service `mcp-tokens`, which every id-less vault on the
 * machine shares: two of them read, overwrite and move each other's credentials. The first
 * transaction of such a vault (every write, and a read's open when it can take the lock) moves its
 * items to `mcp-tokens:<id>` the way a backend move does (move.ts), with the same promise: a
 * failure or a kill -9 at any point leaves every credential readable from exactly one place —
 * the service vault.json names — and the next command finishes the job.
 *
 *  1. Every item of the old service is read (entries, `vault-key`, `vault-key-previous`).
 *  2. The journal `keychain-id.json` {id, names} is written. vault.json still has no id, so every
 *     command reads the old service, which this step never modifies; copies under the new
 *     service belong to no vault yet, and a rerun (same id, from the journal) overwrites them.
 *  3. Copy: each item is written under the new service, read back and compared.
 *  4. Commit: vault.json gains the id (one atomic rename). From here every command reads the new
 *     service.
 *  5. Clean up: each journal name is deleted from the old service when it still holds what was
 *     copied (a value another id-less vault wrote there since is left to it), then the journal.
 *
 * The phase is never stored: journal present and vault.json without an id = copying; with the
 * journal's id = cleaning up.
 */
import { join } from 'node:path';
import { VaultError } from '../errors.js';
import { parseEntryName, type EntryName } from '../names.js';
import { newVaultId, VAULT_ID_RE, type KeychainVaultConfig } from './config.js';
import { fsyncDir, readSecureText, removeFile, writeAtomic } from './fsutil.js';
import { failpoint } from './failpoint.js';
import type { Tx } from './transaction.js';

export const ID_JOURNAL = 'keychain-id.json';

interface IdJournal {
  v: 1;
  id: string;
  names: EntryName[];
  startedAt: string;
}

type KeychainModule = typeof import('../backends/keychain.js');

/** True when the vault's items are not yet (or not yet only) under its own service. */
export function keychainIdPending(dir: string, config: KeychainVaultConfig): boolean {
  return config.id === undefined || readSecureText(join(dir, ID_JOURNAL)) !== undefined;
}

/**
 * Under the lock, on the state found there: finish or make the move of an id-less keychain
 * vault's items to its own service. `base` is the keychain service prefix (tests set their own).
 */
export async function settleKeychainId(tx: Tx, dir: string, kc: KeychainModule, base: string): Promise<void> {
  const config = tx.config;
  if (config.backend !== 'keychain') return;
  const journal = readIdJournal(dir);
  if (config.id !== undefined) {
    if (!journal) return;
    if (journal.id !== config.id) {
      throw new VaultError('INTEGRITY', `${join(dir, ID_JOURNAL)} names vault id ${journal.id}, but vault.json names ${config.id}`, {
        hint: `the vault reads the keychain service ${kc.vaultService(config.id, base)}; check that the old service ${base} holds nothing of this vault, then remove the file`,
      });
    }
    await cleanUp(dir, kc, base, journal);
    return;
  }

  const id = journal?.id ?? newVaultId();
  const oldOpts = { service: base };
  const newOpts = { service: kc.vaultService(id, base) };
  const from = kc.keychainBackend(oldOpts);
  const to = kc.keychainBackend(newOpts);

  // 1. Everything is read before anything is written: a locked keychain stops here.
  const values = new Map<EntryName, string>();
  for (const name of (await from.list()).sort()) {
    const v = await from.get(name);
    if (v !== undefined) values.set(name, v);
  }
  const keys = await readKeys(kc, oldOpts);

  // 2. The journal, listing what may be copied (a rerun's earlier copies too).
  const stale = journal ? journal.names.filter((n) => !values.has(n)) : [];
  const next: IdJournal = { v: 1, id, names: [...new Set([...(journal?.names ?? []), ...values.keys()])].sort(), startedAt: journal?.startedAt ?? new Date().toISOString() };
  writeAtomic(dir, ID_JOURNAL, `${JSON.stringify(next, null, 2)}\n`);
  failpoint('kcid:journal');

  // 3. Copy, read back, compare.
  try {
    for (const [account, raw] of keys) {
      await kc.writeVaultKey(raw, { ...newOpts, account });
      const back = await kc.readVaultKey({ ...newOpts, account });
      const same = back !== undefined && Buffer.from(back).equals(Buffer.from(raw));
      back?.fill(0);
      if (!same) throw notAsWritten(account);
    }
    if (!keys.has(kc.PREVIOUS_VAULT_KEY_ACCOUNT)) await kc.deleteVaultKey({ ...newOpts, account: kc.PREVIOUS_VAULT_KEY_ACCOUNT });
    failpoint('kcid:vault-key');
    for (const name of stale) await to.delete(name);
    let n = 0;
    for (const [name, value] of values) {
      await to.set(name, value);
      if ((await to.get(name)) !== value) throw notAsWritten(name.replace('_', '/'));
      failpoint(`kcid:copy:${++n}`);
    }
  } finally {
    for (const raw of keys.values()) raw.fill(0);
  }

  // 4. Commit.
  const withId: KeychainVaultConfig = { ...config, id };
  tx.writeConfig(withId);
  failpoint('kcid:commit');

  // 5. Clean up.
  await cleanUp(dir, kc, base, next);
}

/** After the commit: the old service's copies (those still as copied), then the journal. */
async function cleanUp(dir: string, kc: KeychainModule, base: string, journal: IdJournal): Promise<void> {
  const oldOpts = { service: base };
  const newOpts = { service: kc.vaultService(journal.id, base) };
  const from = kc.keychainBackend(oldOpts);
  const to = kc.keychainBackend(newOpts);
  let n = 0;
  for (const name of journal.names) {
    const old = await from.get(name);
    if (old !== undefined && old === (await to.get(name))) await from.delete(name);
    failpoint(`kcid:delete:${++n}`);
  }
  for (const account of [kc.VAULT_KEY_ACCOUNT, kc.PREVIOUS_VAULT_KEY_ACCOUNT] as const) {
    const old = await kc.readVaultKey({ ...oldOpts, account }).catch(() => undefined);
    const mine = old && (await kc.readVaultKey({ ...newOpts, account }).catch(() => undefined));
    if (old && mine && Buffer.from(old).equals(Buffer.from(mine))) await kc.deleteVaultKey({ ...oldOpts, account });
    old?.fill(0);
    mine?.fill(0);
  }
  failpoint('kcid:cleaned');
  if (removeFile(join(dir, ID_JOURNAL))) fsyncDir(dir);
}

/** The old service's vault-key (and a rekey's previous key), by account. The caller zeroes them. */
async function readKeys(kc: KeychainModule, opts: { service: string }): Promise<Map<typeof kc.VAULT_KEY_ACCOUNT | typeof kc.PREVIOUS_VAULT_KEY_ACCOUNT, Uint8Array>> {
  const keys = new Map<typeof kc.VAULT_KEY_ACCOUNT | typeof kc.PREVIOUS_VAULT_KEY_ACCOUNT, Uint8Array>();
  for (const account of [kc.VAULT_KEY_ACCOUNT, kc.PREVIOUS_VAULT_KEY_ACCOUNT] as const) {
    const raw = await kc.readVaultKey({ ...opts, account });
    if (raw) keys.set(account, raw);
  }
  return keys;
}

function notAsWritten(account: string): VaultError {
  return new VaultError('INTEGRITY', `the keychain did not return ${account} as written while moving this vault's items to their own keychain service`, {
    hint: 'the vault still reads its items where they were, unchanged; run the command again',
  });
}

function readIdJournal(dir: string): IdJournal | undefined {
  const path = join(dir, ID_JOURNAL);
  const text = readSecureText(path);
  if (text === undefined) return undefined;
  const damaged = () =>
    new VaultError('INTEGRITY', `${path} (the journal of moving keychain items to the vault's own service) is damaged`, {
      hint: 'vault.json names the service the vault reads (its id); compare the keychain items, then remove the file',
    });
  let o: Partial<IdJournal>;
  try {
    o = JSON.parse(text) as Partial<IdJournal>;
  } catch {
    throw damaged();
  }
  if (o.v !== 1 || typeof o.id !== 'string' || !VAULT_ID_RE.test(o.id)) throw damaged();
  if (!Array.isArray(o.names) || !o.names.every((n) => typeof n === 'string' && parseEntryName(n))) throw damaged();
  return { v: 1, id: o.id, names: o.names, startedAt: String(o.startedAt ?? '') };
}
