/**
 * `rekey`: a new data key, and every sealed file re-encrypted under it.
 *
 * Crash safety comes from never having a file that no recorded key opens. First the new key is
 * recorded *beside* the old one (file vaults: both wrapped in vault.json, the old one as
 * `previous`; keychain vaults: the old one as the keychain item `vault-key-previous`, then the new
 * one as `vault-key`). Then each entry, backup and file backup is re-sealed, one atomic rename at a
 * time; readers try the new key, then the previous. Last, the previous key is dropped. A `kill -9`
 * anywhere leaves every file readable; the next `rekey` first finishes the interrupted one (all
 * files under the then-current key, previous dropped), then starts its own. `passwd` and
 * `backend` refuse to run while a previous key is recorded.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { isVaultError } from '../errors.js';
import { parseEntryName } from '../names.js';
import { entryAd, fileAd, looksSealed } from '../crypto/format.js';
import { openWithHandles, type KeyHandle } from '../crypto/keyhandle.js';
import { listEntryFiles } from '../backends/file.js';
import { listBackups } from './backups.js';
import { fsyncDir, readSecureText, writeAtomic } from './fsutil.js';
import type { LocalKeyHandle } from '../crypto/keyhandle.js';
import { newKeyHandle, unwrapKeyHandles, wrapKeyHandles, type FileVaultConfig } from './config.js';
import { localOnly, type Tx } from './transaction.js';
import { resealLog } from '../audit/log.js'; // issue 29

export interface ResealResult {
  /** Files now sealed under the new key that were not before. */
  resealed: number;
  /** Files no key opens (damaged before the rekey); left as they were. */
  unreadable: string[];
  /** Of those, files sealed under a key that was already dropped (named by their key id). */
  olderKey: string[];
}

/** Progress of a rekey: files looked at, of how many. */
export type RekeyProgress = (done: number, total: number) => void;

/**
 * Re-seal every sealed file of the vault under target; keys = [target, …keys that may still be in
 * use]. Each file is replaced atomically; each folder is fsynced once, at the end, before the
 * caller drops a key (the renames reach the disk before the key the old files need is forgotten).
 */
export async function resealAll(
  dir: string,
  backupsDir: string,
  withEntries: boolean,
  keys: readonly KeyHandle[],
  onStep?: (path: string) => void,
  onProgress?: RekeyProgress,
): Promise<ResealResult> {
  const result: ResealResult = { resealed: 0, unreadable: [], olderKey: [] };
  const written = new Set<string>();
  const one = async (folder: string, name: string, ad: Uint8Array) => {
    const path = join(folder, name);
    const text = readSecureText(path);
    if (text === undefined || !looksSealed(text)) return; // gone meanwhile, or old plaintext (migrate's job)
    let opened: { bytes: Uint8Array; index: number };
    try {
      opened = await openWithHandles(keys, text, ad, path);
    } catch (e) {
      if (!isVaultError(e, 'INTEGRITY')) throw e;
      result.unreadable.push(path);
      if (e.reason === 'older-key') result.olderKey.push(path);
      return;
    }
    try {
      // Already under the new key, and naming it (a v1 blob is rewritten as v2 to carry its kid).
      if (opened.index === 0 && text.startsWith('{"v":2,')) return;
      written.add(folder);
      writeAtomic(folder, name, await keys[0]!.seal(opened.bytes, ad), { syncDir: false });
      result.resealed++;
      onStep?.(path);
    } finally {
      opened.bytes.fill(0);
    }
  };
  // Each folder is listed once, up front, so the progress has its total.
  const work: { folder: string; name: string; ad: Uint8Array }[] = [];
  if (withEntries) {
    for (const name of listEntryFiles(dir)) {
      const { service, key } = parseEntryName(name)!;
      work.push({ folder: dir, name, ad: entryAd('entry', service, key) });
    }
  }
  for (const b of listBackups(backupsDir)) work.push({ folder: backupsDir, name: b.file, ad: entryAd('backup', b.service, b.key) });
  const files = join(backupsDir, 'files');
  let names: string[] = [];
  try {
    names = fs.readdirSync(files).filter((n) => /^[A-Za-z0-9-]{1,80}\.file$/.test(n));
  } catch {
    names = [];
  }
  for (const id of names) work.push({ folder: files, name: id, ad: fileAd(id) });
  try {
    for (const [i, w] of work.entries()) {
      await one(w.folder, w.name, w.ad);
      onProgress?.(i + 1, work.length);
    }
  } finally {
    for (const folder of written) fsyncDir(folder);
  }
  // The access log too (issue 29), its chain rebuilt; a log that cannot be re-sealed is reported by `log`.
  try {
    result.resealed += await resealLog(dir, keys);
  } catch {
    /* records left under the old key read as 'sealed under an older key' */
  }
  return result;
}

export interface RekeyResult extends ResealResult {
  /** An interrupted rekey was finished first. */
  finished: boolean;
}

export interface RekeyPlan {
  dir: string;
  backupsDir: string;
  /** File vault: the new key, and vault.json wrapping it beside the current one (made before the lock). */
  file?: { next: LocalKeyHandle; wrapped: FileVaultConfig };
  /** Keychain vault: where the keys live. */
  keychain?: { kc: typeof import('../backends/keychain.js'); opts: { service?: string } };
}

/**
 * File vault, before the lock: check that pass opens the vault (BAD_PASSPHRASE before any change),
 * then make the new key and vault.json wrapping it beside the current one. The caller zeroes pass.
 */
export async function prepareFileRekey(config: FileVaultConfig, current: LocalKeyHandle, pass: Uint8Array): Promise<{ next: LocalKeyHandle; wrapped: FileVaultConfig }> {
  const next = await newKeyHandle();
  try {
    const check = await unwrapKeyHandles(config, pass);
    check.current.dispose();
    check.previous?.dispose();
    const wrapped = await wrapKeyHandles(next, pass, { opslimit: config.kdf.opslimit, memlimit: config.kdf.memlimit }, config.createdAt, current);
    return { next, wrapped };
  } catch (e) {
    next.dispose();
    throw e;
  }
}

/** The rekey itself, inside the vault's transaction (so on the key and backend found under the lock). */
export async function rekeyInTx(tx: Tx, plan: RekeyPlan, onStep?: (path: string) => void, onProgress?: RekeyProgress): Promise<RekeyResult> {
  const withEntries = tx.config.backend === 'file';
  const old = await tx.keys();
  const finished = old.length > 1;
  let stragglers: ResealResult | undefined;
  if (finished) {
    stragglers = await resealAll(plan.dir, plan.backupsDir, withEntries, old, onStep, onProgress);
    await dropPrevious(tx, plan);
  }
  const current = (await tx.keys())[0]!;
  let next: KeyHandle;
  if (plan.file) {
    next = plan.file.next;
    tx.writeConfig(plan.file.wrapped, [next, current]);
  } else {
    const { kc, opts } = plan.keychain!;
    const fresh = await newKeyHandle();
    next = fresh;
    const rawCurrent = localOnly(current).exportKey();
    const rawNext = fresh.exportKey();
    try {
      await kc.writeVaultKey(rawCurrent, { ...opts, account: kc.PREVIOUS_VAULT_KEY_ACCOUNT });
      await kc.writeVaultKey(rawNext, opts);
    } finally {
      rawCurrent.fill(0);
      rawNext.fill(0);
    }
  }
  const result = await resealAll(plan.dir, plan.backupsDir, withEntries, [next, current], onStep, onProgress);
  await dropPrevious(tx, plan, plan.keychain ? next : undefined);
  if (plan.keychain) localOnly(next).dispose();
  // Files no key opened in the finishing pass are reported too (sealed under a key dropped earlier).
  const unreadable = [...new Set([...(stragglers?.unreadable ?? []), ...result.unreadable])];
  const olderKey = [...new Set([...(stragglers?.olderKey ?? []), ...result.olderKey])];
  return { resealed: result.resealed + (stragglers?.resealed ?? 0), unreadable, olderKey, finished };
}

/** Forget the previous key once every file that it opened is re-sealed (damaged files open with neither). */
async function dropPrevious(tx: Tx, plan: RekeyPlan, keychainCurrent?: KeyHandle): Promise<void> {
  if (tx.config.backend === 'file') {
    const { previous: _previous, previousKeyId: _id, ...rest } = tx.config;
    const current = (await tx.keys())[0]!;
    tx.writeConfig(rest, [current]);
  } else {
    const { kc, opts } = plan.keychain!;
    await kc.deleteVaultKey({ ...opts, account: kc.PREVIOUS_VAULT_KEY_ACCOUNT });
    void keychainCurrent;
  }
}
