/**
 * `mcp-tokens backend file|keychain`: move every credential to the other backend (DESIGN.md §4).
 *
 * The promise: a failure or a kill -9 at any point leaves every credential readable, by
 * mcp-tokens, from exactly one backend — the one vault.json names — with its value unchanged.
 * A copy-then-delete move cannot avoid a moment where a value sits in both stores; what it can
 * avoid is doubt about which copy counts. So:
 *
 *  1. Nothing is changed until every precondition holds: the target is reachable (keychain:
 *     a probe item round-trips), it holds no credentials of its own (else a stale item could be
 *     adopted, or the two sides could disagree), a file target has its new passphrase and the
 *     wrapped key is ready, and every value of the source reads cleanly.
 *  2. The journal `move.json` {from, to, names} is written. From here until step 4 vault.json
 *     still names the source: every command reads the source, which is never modified by the
 *     move. Copies in the target are not part of the vault; the journal lists them so that
 *     `backend <to>` resumes (re-reading the source, dropping copies whose source entry was
 *     deleted meanwhile) and `backend <from>` undoes (deletes them).
 *  3. Copy: keychain target gets the data key as `vault-key` first, then each value is written,
 *     read back and compared. A mismatch or error stops here, still at state 2.
 *  4. Commit: vault.json is replaced atomically (temp, fsync, rename) with the target's record —
 *     for a file target, the same data key wrapped under the new passphrase. One rename is the
 *     single instant the vault changes backend; every value was verified in the target before it.
 *  5. Clean up: delete the journal's names from the source (and, leaving the keychain, the
 *     `vault-key` item, which would otherwise unlock a file vault without its passphrase), then
 *     remove the journal. A crash here leaves stale copies the vault no longer reads; the journal
 *     says so and any later `backend …` run deletes them before doing anything else.
 *
 * The phase is never stored: journal present and vault.json names `from` = copying; names `to` =
 * cleaning up. So the commit (4) needs no second write to be consistent. The journal is a file
 * of its own rather than a field of vault.json so that rewriting vault.json (passwd) cannot drop it.
 * The data key is the same before and after, so existing backups keep opening. The move runs in
 * the vault's transaction (transaction.ts): the lock is held from the first change to the last,
 * and vault.json must still be what the vault was opened with (another move, passwd or rekey
 * meanwhile makes it stop before writing). Passphrase prompts and Argon2id run before the lock.
 */
import { join } from 'node:path';
import { VaultError } from '../errors.js';
import { parseEntryName, type EntryName } from '../names.js';
import { presetParams, type KdfPreset } from '../crypto/kdf.js';
import { fileBackend, listEntryFiles } from '../backends/file.js';
import type { Backend } from '../backends/types.js';
import { keyId, type LocalKeyHandle } from '../crypto/keyhandle.js';
import { newVaultId, VAULT_ID_RE, wrapKeyHandles, type VaultConfig } from './config.js';
import { fsyncDir, readSecureText, removeFile, writeAtomic } from './fsutil.js';
import { loadKeychain } from './keychain-access.js';
import type { PassphraseProvider } from './types.js';
import type { Vault } from './vault.js';
import { localOnly, type TxOptions } from './transaction.js';
import { failpoint } from './failpoint.js';

export const MOVE_JOURNAL = 'move.json';
export type BackendKind = 'keychain' | 'file';

export interface MoveJournal {
  v: 1;
  from: BackendKind;
  to: BackendKind;
  names: EntryName[];
  startedAt: string;
  /**
   * The vault id whose keychain service (`mcp-tokens:<id>`) is the keychain side of the move.
   * Absent in journals written before ids: that side is the shared service `mcp-tokens`.
   */
  keychainId?: string;
}

export interface MoveOptions {
  /** The new passphrase ('create') when the target is file; asked before the lock is taken. */
  passphrase?: PassphraseProvider | undefined;
  kdf?: KdfPreset | undefined;
  keychainService?: string | undefined;
  now?: (() => Date) | undefined;
  /** Credentials copied (read back and compared), of how many. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

export interface MoveResult {
  from: BackendKind;
  to: BackendKind;
  /** Credentials now held by the target (empty when nothing was moved). */
  moved: EntryName[];
  /** What this run did: a whole move, finished an interrupted one, undid one, or nothing. */
  action: 'moved' | 'finished' | 'undone' | 'unchanged';
  /** Of `moved`, the copies an interrupted run had made that this one found in place and kept. */
  kept?: number;
}


export async function moveBackend(vault: Vault, to: BackendKind, opts: MoveOptions = {}): Promise<MoveResult> {
  const dir = vault.dir;
  const startedOn = vault.backendName;
  const kc = await loadKeychain();
  const base = opts.keychainService || kc.KEYCHAIN_SERVICE;
  // A file target needs its passphrase; ask (and run Argon2id) before holding the lock. What it
  // wraps is the key of today's state: the transaction checks that it still is.
  const txOpts: TxOptions = { sameConfig: true, refuseWhileRekeying: 'a backend move' };
  let fileConfig: VaultConfig | undefined;
  if (to === 'file' && startedOn !== 'file') {
    if ((await vault.keys()).length > 1) throw new VaultError('USAGE', 'an interrupted rekey must finish before a backend move', { hint: 'run: mcp-tokens rekey' });
    const key = await vault.localKey();
    fileConfig = await newFileConfig(vault, key, opts);
    txOpts.expectKeyId = key.id;
  }

  return vault.transaction(async (tx) => {
    const dataKey = localOnly(await tx.key());
    const current = tx.config.backend;
    let journal = readMoveJournal(dir);
    // The keychain side's own service: the vault's (a keychain vault has its id once the
    // transaction began), the one an interrupted move recorded, or a new vault id's.
    const keychainId = tx.config.backend === 'keychain' ? tx.config.id : journal ? journal.keychainId : newVaultId();
    const kcOpts = { service: kc.vaultService(keychainId, base) };
    const ctx: Ctx = { dir, dataKey, kc, kcOpts };
    const backendOf = (kind: BackendKind): Backend => (kind === 'file' ? fileBackend({ dir, keys: [dataKey] }) : kc.keychainBackend(kcOpts));

    // An interrupted move is settled first: finished when the commit happened, else resumed or undone.
    if (journal && current === journal.to) {
      await cleanUp(ctx, journal, backendOf(journal.from));
      if (current === to) return { from: journal.from, to, moved: journal.names, action: 'finished' };
      journal = undefined;
    } else if (journal && to !== journal.to) {
      await undo(ctx, journal, backendOf(journal.to));
      return { from: journal.to, to, moved: [], action: 'undone' };
    } else if (!journal && current === to) {
      return { from: current, to, moved: [], action: 'unchanged' };
    }

    const from = current;
    const source = backendOf(from);
    const target = backendOf(to);
    if (to === 'keychain') await keychainReady(ctx);
    if (!journal) await targetEmpty(target, to, dir, kcOpts.service);

    // Every value is read before anything is written: a locked store or a damaged entry stops here.
    // From the keychain, one search under the lock answers them all (what it cannot answer exactly,
    // the item's own lookup does: keychainReader).
    const reading = from === 'keychain' ? kc.keychainReader(source, kcOpts) : source;
    const names = (await reading.list()).sort();
    const values = new Map<EntryName, string>();
    for (const name of names) {
      const v = await reading.get(name);
      if (v !== undefined) values.set(name, v);
    }

    const resumed = journal !== undefined;
    const stale = journal ? journal.names.filter((n) => !values.has(n)) : [];
    const all = [...new Set([...(journal?.names ?? []), ...values.keys()])].sort();
    journal = { v: 1, from, to, names: all, startedAt: journal?.startedAt ?? now(opts).toISOString(), ...(keychainId ? { keychainId } : {}) };
    writeAtomic(dir, MOVE_JOURNAL, `${JSON.stringify(journal, null, 2)}\n`);
    failpoint('journal');
    let kept: number | undefined;

    try {
      if (to === 'keychain') {
        const raw = dataKey.exportKey();
        try {
          await kc.writeVaultKey(raw, kcOpts);
        } finally {
          raw.fill(0);
        }
      }
      failpoint('vault-key');
      for (const name of stale) await target.delete(name); // deleted from the source since the last run
      // A resumed move into the keychain skips the copies an earlier run made and verified: one
      // search shows them (gnome-keyring's cost per write grows with its item count, so
      // rewriting thousands would take hours). A copy that differs is written again.
      const copied = resumed && to === 'keychain' ? kc.keychainReader(target, kcOpts) : undefined;
      let n = 0;
      if (copied) kept = 0;
      for (const [name, value] of values) {
        if (copied && (await copied.get(name)) === value) kept = (kept ?? 0) + 1;
        else {
          await target.set(name, value);
          if ((await target.get(name)) !== value) {
            throw new VaultError('INTEGRITY', `the ${to} backend did not return ${name.replace('_', ' ')} as written`, {
              hint: 'the vault still uses its old backend and nothing was removed from it',
            });
          }
        }
        failpoint(`copy:${++n}`);
        opts.onProgress?.(n, values.size);
      }
      const next: VaultConfig = to === 'file' ? fileConfig! : { v: 1, backend: 'keychain', createdAt: tx.config.createdAt, ...(keychainId ? { id: keychainId } : {}) };
      tx.writeConfig(next);
      failpoint('commit');
    } catch (e) {
      throw interrupted(e, { from, to }, `the vault still uses the ${from} backend, which was not changed`);
    }
    await cleanUp(ctx, journal, source);
    return { from, to, moved: [...values.keys()], action: resumed ? 'finished' : 'moved', ...(kept !== undefined ? { kept } : {}) };
  }, txOpts);
}

/** The interrupted move recorded in dir, if any. */
export function readMoveJournal(dir: string): MoveJournal | undefined {
  const path = join(dir, MOVE_JOURNAL);
  const text = readSecureText(path);
  if (text === undefined) return undefined;
  const damaged = () =>
    new VaultError('INTEGRITY', `${path} (the journal of an interrupted backend move) is damaged`, {
      hint: 'vault.json names the backend that holds the vault; compare both backends, then remove the file',
    });
  let o: Partial<MoveJournal>;
  try {
    o = JSON.parse(text) as Partial<MoveJournal>;
  } catch {
    throw damaged();
  }
  const kinds = ['keychain', 'file'];
  if (o.v !== 1 || !kinds.includes(o.from as string) || !kinds.includes(o.to as string) || o.from === o.to) throw damaged();
  if (!Array.isArray(o.names) || !o.names.every((n) => typeof n === 'string' && parseEntryName(n))) throw damaged();
  if (o.keychainId !== undefined && (typeof o.keychainId !== 'string' || !VAULT_ID_RE.test(o.keychainId))) throw damaged();
  return { v: 1, from: o.from!, to: o.to!, names: o.names, startedAt: String(o.startedAt ?? ''), ...(o.keychainId ? { keychainId: o.keychainId } : {}) };
}

async function newFileConfig(vault: Vault, key: LocalKeyHandle, opts: MoveOptions): Promise<VaultConfig> {
  if (!opts.passphrase) {
    throw new VaultError('NO_PASSPHRASE', 'moving to encrypted files needs a new passphrase and none was given', {
      hint: 'set MCP_TOKENS_PASSPHRASE_FILE (a 0600 file), pass --passphrase-fd N, or run on a terminal to be asked; nothing was changed',
    });
  }
  const pass = await opts.passphrase('create');
  try {
    if (pass.length === 0) throw new VaultError('NO_PASSPHRASE', 'the passphrase is empty', { hint: 'choose a non-empty passphrase; nothing was changed' });
    // The same data key, so every existing backup still opens after the move.
    return await wrapKeyHandles(key, pass, presetParams(opts.kdf ?? 'default'), vault.config.createdAt);
  } finally {
    pass.fill(0);
  }
}

type KeychainModule = typeof import('../backends/keychain.js');

interface Ctx {
  dir: string;
  dataKey: LocalKeyHandle;
  kc: KeychainModule;
  kcOpts: { service: string };
}

async function keychainReady({ kc, kcOpts, dataKey }: Ctx): Promise<void> {
  const probe = await kc.probeKeychain(kcOpts);
  if (!probe.ok) {
    throw new VaultError('BACKEND_UNAVAILABLE', `cannot move to the OS keychain: ${probe.reason}`, {
      hint: `${probe.hint}; nothing was changed`,
    });
  }
  const existing = await kc.readVaultKey(kcOpts);
  if (existing && keyId(existing) !== dataKey.id) {
    existing.fill(0);
    throw new VaultError('FAILED', 'the keychain already holds a vault-key of another mcp-tokens vault', {
      hint: `another vault uses the keychain service ${kcOpts.service}; remove its items (secret-tool clear service ${kcOpts.service}) if it is gone, then run again; nothing was changed`,
    });
  }
  existing?.fill(0);
}

async function targetEmpty(target: Backend, to: BackendKind, dir: string, service: string): Promise<void> {
  const found = to === 'file' ? listEntryFiles(dir) : await target.list();
  if (found.length === 0) return;
  const shown = found.sort().slice(0, 5).map((n) => n.replace('_', ' ')).join(', ');
  throw new VaultError('FAILED', `the ${to} backend already holds credentials (${shown}${found.length > 5 ? ', …' : ''}) that are not part of this vault`, {
    hint:
      to === 'file'
        ? `entry files in ${dir} (plaintext left by the old script?): run mcp-tokens migrate, or move them away; nothing was changed`
        : `they would be mixed into the vault: remove them (secret-tool clear service ${service}, or Seahorse) and run again; nothing was changed`,
  });
}

/** After the commit: remove the source's copies (and a keychain vault-key), then the journal. */
async function cleanUp(ctx: Ctx, journal: MoveJournal, source: Backend): Promise<void> {
  try {
    let n = 0;
    for (const name of journal.names) {
      await source.delete(name);
      failpoint(`delete:${++n}`);
    }
    if (journal.from === 'keychain') await dropVaultKey(ctx);
  } catch (e) {
    throw interrupted(e, journal, `the vault now uses the ${journal.to} backend; stale copies remain in the ${journal.from} backend`);
  }
  failpoint('cleaned');
  removeJournal(ctx.dir);
}

/** Before the commit, moving back: delete the target's copies; the source was never touched. */
async function undo(ctx: Ctx, journal: MoveJournal, target: Backend): Promise<void> {
  for (const name of journal.names) await target.delete(name);
  if (journal.to === 'keychain') await dropVaultKey(ctx);
  removeJournal(ctx.dir);
}

/** The keychain's vault-key, deleted only when it is this vault's key. */
async function dropVaultKey(ctx: Ctx): Promise<void> {
  const existing = await ctx.kc.readVaultKey(ctx.kcOpts);
  if (existing && keyId(existing) === ctx.dataKey.id) await ctx.kc.deleteVaultKey(ctx.kcOpts);
  existing?.fill(0);
}

function removeJournal(dir: string): void {
  if (removeFile(join(dir, MOVE_JOURNAL))) fsyncDir(dir);
}

/** Keep the code (exit status) and cause; add where the vault stands and how to go on. */
function interrupted(e: unknown, j: { from: BackendKind; to: BackendKind }, state: string): unknown {
  if (!(e instanceof VaultError)) return e;
  const next = `${state}; run mcp-tokens backend ${j.to} to finish the move, or mcp-tokens backend ${j.from} to undo it`;
  return new VaultError(e.code, e.message, { hint: e.hint ? `${e.hint}. ${next}` : next, cause: e });
}

function now(opts: MoveOptions): Date {
  return opts.now ? opts.now() : new Date();
}
