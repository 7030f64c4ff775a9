/**
 * The vault: one directory (DESIGN.md §3) plus the backend recorded in its vault.json. Opening
 * and creating it are here; its state and transaction are VaultState (state.ts); what is done in
 * a transaction lives in modules of its own that take it (entries, backups, restore, reserved,
 * metadata, rekey, passwd, file-backups), and the methods below only open one and hand it over.
 * It never prints.
 */
import { join } from 'node:path';
import { VaultError } from '../errors.js';
import { entryName, type EntryName } from '../names.js';
import { checkValue, serviceSpec, type ServiceSpec } from '../services/index.js';
import type { KdfPreset } from '../crypto/kdf.js';
import type { LocalKeyHandle, KeyHandle } from '../crypto/keyhandle.js';
import { CONFIG_NAME, parseConfig, serializeConfig, type FileVaultConfig, type VaultConfig } from './config.js';
import { ensureDir, readSecureText, writeAtomic, writeExclusive } from './fsutil.js';
import { prepareFileRekey, rekeyInTx, type RekeyProgress, type RekeyResult } from './rekey.js';
import { appendExport, readMetadata, recordVerifications, type EntryMeta, type ExportRecord } from './metadata.js';
import { RESERVED_SERVICE, updateReservedIn } from './reserved.js';
import { listBackups, pruneBackups, readBackupFile, takeBackup, type BackupInfo } from './backups.js';
import { keychainIdPending } from './keychain-id.js';
import { keychainOpts, loadKeychain, loadedKeychain } from './keychain-access.js';
import { backendOf, checkCreate, legacyFiles, needPassphrase, newVaultConfig, noVault, readConfigText, unlockKeys } from './open.js';
import { deleteIn, listEntries, loadService, putBackPlaintextIn, storeIn, storeManyIn, storedServices, type NewValue } from './entries.js';
import { restoreIn } from './restore.js';
import { listFileBackups, prunableFileBackups, removeFileBackups, writeFileBackup, type FileBackupInfo } from './file-backups.js';
import { checkPassphraseChange, rewrapConfig } from './passwd.js';
import { VaultState } from './state.js';
import { now, type CreateInfo, type ListedEntry, type StoreResult, type VaultOptions } from './types.js';

export type { AgentKey, BackendChoice, CreateInfo, ListedEntry, PassphraseProvider, PassphrasePurpose, StoreResult, VaultOptions } from './types.js';
export { loadKeychain, readKeychainKeys } from './keychain-access.js';
export { noVaultHint } from './open.js';
export { mask } from './entries.js';

export class Vault extends VaultState {
  static exists(dir: string): boolean {
    return readConfigText(dir) !== undefined;
  }

  /** The backend recorded in dir/vault.json, without unlocking anything; undefined when none. */
  static backendOf(dir: string): 'keychain' | 'file' | undefined {
    return backendOf(dir);
  }

  /** Entry-named files in dir that are not sealed entries (plaintext left by the old script). */
  static legacyFiles(dir: string): string[] {
    return legacyFiles(dir);
  }

  /** Open the vault in opts.dir; with create, make it first if it does not exist. */
  static async open(opts: VaultOptions, { create = false } = {}): Promise<Vault> {
    const dir = opts.dir;
    const text = readConfigText(dir);
    if (text === undefined) {
      if (!create) throw noVault(dir);
      return Vault.create(opts);
    }
    const config = parseConfig(text, join(dir, CONFIG_NAME));
    if (opts.backend && opts.backend !== 'auto' && opts.backend !== config.backend) {
      throw new VaultError('USAGE', `the vault in ${dir} uses the ${config.backend} backend, not ${opts.backend}`, {
        hint: `to move every credential, run: mcp-tokens backend ${opts.backend}`,
      });
    }
    return Vault.fromConfig(opts, config, undefined, undefined, text);
  }

  /**
   * Create a new vault; fails if one exists. The directory is made only once the passphrase is in
   * hand and the key wrapped: a creation abandoned at the prompt (Ctrl-C, three refused tries)
   * leaves nothing behind.
   */
  static async create(opts: VaultOptions): Promise<Vault> {
    const dir = opts.dir;
    if (readConfigText(dir) !== undefined) {
      throw new VaultError('USAGE', `a vault already exists in ${dir}`, { hint: 'use it as it is, or pass --dir for another one' });
    }
    const choice = await Vault.checkCreate(opts);
    const { config, key } = await newVaultConfig(opts, choice);
    ensureDir(dir, true);
    if (!writeExclusive(dir, CONFIG_NAME, serializeConfig(config))) {
      // Another process created the vault at the same moment: use theirs, and drop our key item.
      key?.dispose();
      if (config.backend === 'keychain') {
        const kc = await loadKeychain();
        await kc.deleteVaultKey(keychainOpts(kc, opts, config)).catch(() => false);
      }
      return Vault.open({ ...opts, backend: 'auto' });
    }
    return Vault.fromConfig(opts, config, choice, key);
  }

  /**
   * Every check create() makes before it writes, made without writing or prompting (open.ts). A
   * dry run (migrate --dry-run) calls it where the real run would create the vault, so both refuse alike.
   */
  static async checkCreate(opts: VaultOptions): Promise<CreateInfo> {
    return checkCreate(opts);
  }

  private static async fromConfig(opts: VaultOptions, config: VaultConfig, created: CreateInfo | undefined, key?: LocalKeyHandle, text?: string): Promise<Vault> {
    if (config.backend === 'file') {
      if (!key && text !== undefined && !config.previous && opts.agent) {
        const agent = await opts.agent(text);
        if (agent) {
          const vault = new Vault(opts.dir, config, [agent.handle], opts, created, text);
          vault.agent = agent;
          return vault;
        }
      }
      let keys: KeyHandle[] | undefined = key ? [key] : undefined;
      if (!keys) {
        const { current, previous } = await unlockKeys(opts, config);
        keys = previous ? [current, previous] : [current];
      }
      return new Vault(opts.dir, config, keys, opts, created, text ?? serializeConfig(config));
    }
    await loadKeychain();
    const vault = new Vault(opts.dir, config, undefined, opts, created, text ?? serializeConfig(config));
    if (keychainIdPending(opts.dir, config)) {
      // A vault from before ids (or a move to its own items that was cut short): the first
      // command settles it, under the lock. A read goes on without that when it cannot (a lock
      // held, a read-only folder): vault.json names where the items are at every step.
      try {
        await vault.locked(async () => undefined, {}, { timeoutMs: 2_000 });
      } catch {
        /* the next write settles it, or says why */
      }
    }
    return vault;
  }

  // Entries (entries.ts).

  async get(service: string, key: string): Promise<string | undefined> {
    return this.backend.get(entryName(service, key));
  }

  /**
   * Validate and store; the old value is backed up first. With replacePlaintext (migrate, which
   * keeps the old script's file in its own undo journal and removes it itself) a plaintext file
   * at the entry's path is only "nothing stored".
   */
  async store(service: string, key: string, value: string, opts: { replacePlaintext?: boolean } = {}): Promise<StoreResult> {
    const { warnings } = checkValue(service, key, value);
    return this.transaction((tx) => storeIn(tx, service, key, value, warnings, opts.replacePlaintext === true));
  }

  /** Store several values in one transaction (import); `check` sees the values stored under the lock and may refuse. */
  async storeMany(
    items: readonly NewValue[],
    check: (stored: ReadonlyArray<string | undefined>) => void = () => undefined,
    onProgress?: (done: number, total: number) => void,
  ): Promise<StoreResult[]> {
    const warnings = items.map((c) => checkValue(c.service, c.key, c.value).warnings);
    return this.transaction((tx) => storeManyIn(tx, items, warnings, check, onProgress));
  }

  /** Delete one key, or every key of a service; each value is backed up first. */
  async delete(service: string, key?: string, { force = false } = {}): Promise<{ deleted: EntryName[]; backups: string[] }> {
    serviceSpec(service);
    return this.transaction((tx) => deleteIn(tx, service, key, force));
  }

  /** `migrate --undo`: the old script's plaintext file back at the entry's path (entries.ts). */
  async putBackPlaintext(service: string, key: string, expected: string, path: string, bytes: Uint8Array, mode: number): Promise<'restored' | 'not-here' | 'changed'> {
    entryName(service, key);
    return this.transaction((tx) => putBackPlaintextIn(tx, service, key, expected, path, bytes, mode));
  }

  /** Every stored entry with its value masked (secrets) or shown (url, host, user). */
  async list(): Promise<ListedEntry[]> {
    return listEntries(this.backend, this.dir);
  }

  /** The names of every stored entry (reserved ones too), for a caller that reads them all. */
  async entryNames(): Promise<EntryName[]> {
    return this.backend.list();
  }

  /** Stored service names, sorted; `listed`: entryNames(), when the caller has it. */
  async services(listed?: readonly EntryName[]): Promise<string[]> {
    return storedServices(this.backend, listed);
  }

  /** The stored values of one service, by key; `listed`: entryNames(), when the caller loads many. */
  async loadService(service: string, listed?: readonly EntryName[]): Promise<{ spec: ServiceSpec; values: Record<string, string> }> {
    return loadService(this.backend, service, listed);
  }

  // Metadata (metadata.ts).

  metadata(): Record<string, EntryMeta> {
    return readMetadata(this.dir);
  }

  /** Record verification results (advisory): one lock, one metadata write, metadata.json read under the lock. */
  async recordVerifications(results: ReadonlyArray<{ service: string; key: string; status: string; at: Date; storedAt?: string | undefined }>): Promise<void> {
    if (results.length === 0) return;
    const named = results.map((r) => ({ ...r, name: entryName(r.service, r.key) }));
    await this.metadataTransaction(() => recordVerifications(this.dir, named));
  }

  /** Record in metadata.json what a bundle held and whom it was sealed to (advisory log). */
  async recordExport(record: ExportRecord): Promise<void> {
    await this.metadataTransaction(() => appendExport(this.dir, record));
  }

  /**
   * A public, unsealed file in the vault directory (identity.pub: the age recipient, so
   * `identity` can print it without the passphrase). Written under the lock like metadata.json;
   * unchanged content is not rewritten.
   */
  async writePublic(name: string, text: string): Promise<void> {
    if (readSecureText(join(this.dir, name)) === text) return;
    await this.metadataTransaction(() => writeAtomic(this.dir, name, text));
  }

  // Reserved entries (reserved.ts).

  /** A reserved entry: the age identity, the links. */
  async getReserved(key: string): Promise<string | undefined> {
    return this.backend.get(entryName(RESERVED_SERVICE, key));
  }

  /** Write a reserved entry; with ifAbsent an existing value is kept and returned (two first uses race to one identity). */
  async putReserved(key: string, value: string, { ifAbsent = false } = {}): Promise<string> {
    return this.updateReserved(key, (old) => (old !== undefined && ifAbsent ? old : value));
  }

  /** Read-modify-write of a reserved entry, all in one transaction. */
  async updateReserved(
    key: string,
    update: (old: string | undefined, get: (service: string, key: string) => Promise<string | undefined>) => string | Promise<string>,
  ): Promise<string> {
    entryName(RESERVED_SERVICE, key);
    return this.transaction((tx) => updateReservedIn(tx, key, update));
  }

  // Backups (backups.ts, restore.ts, file-backups.ts).

  backups(service?: string, key?: string): BackupInfo[] {
    return listBackups(this.backupsDir, service, key);
  }

  /** Put a backup's value back (the current value is backed up first, as by store); read and written under one lock. */
  async restore(service: string, key: string, at?: string): Promise<{ from: BackupInfo; result: StoreResult }> {
    entryName(service, key);
    return this.transaction((tx) => restoreIn(tx, service, key, at));
  }

  /** Remove backups older than the cut-off, and migrate's file backups except the newest run's. */
  async prune(olderThanMs: number, onProgress?: (done: number, total: number) => void): Promise<{ backups: BackupInfo[]; files: FileBackupInfo[] }> {
    const cutoff = now(this.opts).getTime() - olderThanMs;
    return this.transaction(async (tx) => {
      const backups = pruneBackups(tx, cutoff, onProgress);
      const files = prunableFileBackups(listFileBackups(this.backupsDir), cutoff);
      removeFileBackups(this.backupsDir, files);
      return { backups, files };
    });
  }

  /** Add an old value to the backups (migrate imports the old script's plaintext backups). */
  async importBackup(service: string, key: string, value: string, takenAt: Date | undefined): Promise<string> {
    checkValue(service, key, value);
    return this.transaction((tx) => takeBackup(tx, service, key, value, takenAt));
  }

  /** Seal doc as the file backup `id` in folder (migrate's config backups); false when the name is taken. */
  async writeFileBackup(folder: string, id: string, doc: Uint8Array): Promise<boolean> {
    return this.transaction((tx) => writeFileBackup(tx, folder, id, doc));
  }

  /** The value held by the backup file `file` (a name as listed by backups()). */
  async readBackupFile(file: string): Promise<string> {
    return readBackupFile(this.backupsDir, await this.keys(), file);
  }

  // The key (passwd.ts, rekey.ts).

  /** Re-wrap the data key under a new passphrase (file backend); one file changes. */
  async changePassphrase(kdf?: KdfPreset): Promise<void> {
    const config = this.config;
    checkPassphraseChange(config);
    // Asked and derived before the lock; written only if vault.json is still exactly what it wraps.
    const pass = await needPassphrase(this.opts, 'change');
    let next: FileVaultConfig;
    try {
      next = await rewrapConfig(config, await this.localKey(), pass, kdf);
    } finally {
      pass.fill(0);
    }
    await this.transaction(async (tx) => tx.writeConfig(next), { sameConfig: true, refuseWhileRekeying: 'passwd' });
  }

  /** A new data key; every entry (file vaults), backup and file backup re-sealed under it. */
  async rekey(onStep?: (path: string) => void, onProgress?: RekeyProgress): Promise<RekeyResult> {
    if (this.config.backend === 'keychain') {
      const kc = loadedKeychain();
      try {
        return await this.transaction((tx) => rekeyInTx(tx, { dir: this.dir, backupsDir: this.backupsDir, keychain: { kc, opts: keychainOpts(kc, this.opts, tx.config) } }, onStep, onProgress));
      } finally {
        this.close(); // the keychain's keys changed: read them again on next need
      }
    }
    // File vault: the passphrase is checked and the new key wrapped before the lock.
    const current = await this.localKey();
    const pass = await needPassphrase(this.opts, 'unlock');
    let file: Awaited<ReturnType<typeof prepareFileRekey>>;
    try {
      file = await prepareFileRekey(this.config as FileVaultConfig, current, pass);
    } finally {
      pass.fill(0);
    }
    return this.transaction((tx) => rekeyInTx(tx, { dir: this.dir, backupsDir: this.backupsDir, file }, onStep, onProgress), { sameConfig: true });
  }
}
