/**
 * The vault's state: vault.json as this process last read or wrote it, the data keys of that
 * state and the backend they open, and the one way to write, the transaction (transaction.ts).
 * Vault (vault.ts) opens one and adds the operations, each in a module that takes the transaction.
 */
import { join } from 'node:path';
import { VaultError } from '../errors.js';
import { fileBackend } from '../backends/file.js';
import { LocalKeyHandle, type KeyHandle } from '../crypto/keyhandle.js';
import type { Backend } from '../backends/types.js';
import { CONFIG_NAME, parseConfig, serializeConfig, type VaultConfig } from './config.js';
import { cleanStaleTemps, readSecureText, writeAtomic } from './fsutil.js';
import { withLock } from './lock.js';
import { pausePoint } from './failpoint.js';
import { BACKUPS_DIR } from './backups.js';
import { settleKeychainId } from './keychain-id.js';
import { changedWhileWaiting, followState, readCurrentConfig, type Tx, type TxOptions } from './transaction.js';
import { keychainBase, keychainOpts, loadedKeychain, readKeychainKeys } from './keychain-access.js';
import { unlockKeys } from './open.js';
import { beginManifest, checkRead, readHash, readManifest, type ReadLog, type ReadManifest } from './manifest.js';
import { now, type AgentKey, type CreateInfo, type VaultOptions } from './types.js';

export class VaultState {
  /**
   * [data key, key an unfinished rekey replaces?]. File vaults: unwrapped at open. Keychain vaults:
   * read on first need, and re-read under the lock by every transaction.
   */
  private keyHandles: KeyHandle[] | undefined;
  /** Set when the unlock agent holds the key: seal/open go through it. */
  protected agent: AgentKey | undefined;
  private currentConfig: VaultConfig;
  private currentBackend: Backend;
  /** Entry files read through this vault's file backend, with the hash of the bytes read (manifest.ts). */
  readonly readLog: ReadLog = new Map();
  private reader: (Backend & { drop(): void; item(acct: string): Promise<string | null | undefined> }) | undefined;

  protected constructor(
    readonly dir: string,
    config: VaultConfig,
    keys: KeyHandle[] | undefined,
    protected readonly opts: VaultOptions,
    readonly created: CreateInfo | undefined,
    /** vault.json as this process last read or wrote it: see changedSinceOpen(). */
    private configText: string,
  ) {
    this.currentConfig = config;
    this.keyHandles = keys;
    this.currentBackend = this.backendFor(config, keys);
  }

  get config(): VaultConfig {
    return this.currentConfig;
  }

  /** The backend, for reads. Writes go through transaction(), which hands out its own. */
  get backend(): Backend {
    return this.reader ?? this.currentBackend;
  }

  /**
   * Until the next transaction or close, reads come from one view of the backend: on a keychain
   * vault, one search for all its items (backends/keychain.ts keychainReader). For a read that
   * does not write (cli/context.ts openForRead).
   */
  readFromOneSearch(): void {
    if (this.currentConfig.backend !== 'keychain') return;
    const kc = loadedKeychain();
    this.reader = kc.keychainReader(this.currentBackend, keychainOpts(kc, this.opts, this.currentConfig), this.configText);
  }

  private dropReader(): void {
    this.reader?.drop();
    this.reader = undefined;
  }

  /**
   * True when vault.json is no longer what this vault was opened with (a backend move, rekey or
   * passwd ran since). Reads take no lock, so a reader checks this after reading: what it read
   * may come from a state that is gone — a backend move deletes the files a file-vault reader
   * lists, a rekey re-seals what it opens (cli/context.ts openForRead reads again on a fresh open).
   */
  changedSinceOpen(): boolean {
    const path = join(this.dir, CONFIG_NAME);
    const text = readSecureText(path);
    if (text === this.configText) return false;
    if (text === undefined) return true;
    // A passwd re-wraps the same data key: what was read under it is as good as before (re-opening
    // would only ask again for a passphrase that is no longer the vault's).
    const opened = this.currentConfig;
    let found: VaultConfig;
    try {
      found = parseConfig(text, path);
    } catch {
      return true;
    }
    return !(found.backend === 'file' && opened.backend === 'file' && found.keyId !== undefined && found.keyId === opened.keyId);
  }

  /**
   * Rollback detection for a reader (manifest.ts): the manifest before reading, to hand to
   * checkRollback after. Nothing for a keychain vault.
   */
  async manifestBeforeRead(): Promise<ReadManifest> {
    this.readLog.clear();
    if (this.currentConfig.backend !== 'file') return {};
    try {
      return await readManifest(this.dir, await this.keys());
    } catch {
      return {};
    }
  }

  /** Exit 6 when an entry read (or metadata.json) is older than a closed manifest that held still. */
  checkRollback(before: ReadManifest): void {
    if (this.currentConfig.backend !== 'file') return;
    checkRead(this.dir, before, this.readLog);
  }

  private backendFor(config: VaultConfig, keys: readonly KeyHandle[] | undefined): Backend {
    if (config.backend === 'file') return fileBackend({ dir: this.dir, keys: keys ?? [], onRead: (name, text) => this.readLog.set(name, readHash(text)) });
    const kc = loadedKeychain();
    return kc.keychainBackend(keychainOpts(kc, this.opts, config));
  }

  get backendName(): 'keychain' | 'file' {
    return this.config.backend;
  }

  get backupsDir(): string {
    return join(this.dir, BACKUPS_DIR);
  }

  /** Zero the data keys; the vault is unusable afterwards. */
  close(): void {
    this.dropReader();
    for (const k of this.keyHandles ?? []) dispose(k);
    this.keyHandles = undefined;
    this.agent?.close();
    this.agent = undefined;
  }

  /**
   * The one way to write. Takes the lock, re-reads vault.json, checks (and follows, where it can)
   * the key and backend this vault was opened with, then runs fn on that state. Anything fn
   * writes goes through tx (its backend, its keys, writeConfig).
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    await pausePoint('before-lock');
    return this.locked(fn, opts);
  }

  protected async locked<T>(fn: (tx: Tx) => Promise<T>, opts: TxOptions, lockOpts: { timeoutMs?: number } = {}): Promise<T> {
    this.dropReader();
    return withLock(this.dir, async () => {
      cleanStaleTemps(this.dir);
      cleanStaleTemps(this.backupsDir);
      cleanStaleTemps(join(this.backupsDir, 'files'));
      const { found, text } = readCurrentConfig(this.dir);
      this.configText = text;
      const state = followState(this.dir, this.currentConfig, found, this.keyHandles, opts);
      this.keyHandles = state.keys;
      this.currentConfig = state.config;
      if (state.text !== undefined) this.configText = state.text;
      this.currentBackend = this.backendFor(this.currentConfig, this.keyHandles);
      const tx: Tx = {
        dir: this.dir,
        config: this.currentConfig,
        backend: this.currentBackend,
        keys: () => this.keys(),
        key: () => this.key(),
        now: () => now(this.opts),
        writeConfig: (next, keys) => {
          this.configText = serializeConfig(next);
          writeAtomic(this.dir, CONFIG_NAME, this.configText);
          if (keys) {
            for (const k of this.keyHandles ?? []) if (!keys.includes(k)) dispose(k);
            this.keyHandles = keys;
          }
          this.currentConfig = next;
          this.currentBackend = this.backendFor(next, this.keyHandles);
          Object.assign(tx, { config: this.currentConfig, backend: this.currentBackend });
        },
      };
      if (this.currentConfig.backend === 'keychain') {
        // A keychain vault from before ids moves to its own items first (vault/keychain-id.ts).
        await settleKeychainId(tx, this.dir, loadedKeychain(), keychainBase(loadedKeychain(), this.opts));
      }
      if (opts.refuseWhileRekeying && (await this.keys()).length > 1) {
        throw new VaultError('USAGE', `an interrupted rekey must finish before ${opts.refuseWhileRekeying}`, { hint: 'run: mcp-tokens rekey' });
      }
      if (opts.expectKeyId !== undefined && (await this.key()).id !== opts.expectKeyId) {
        throw changedWhileWaiting('its data key was replaced by a rekey');
      }
      const endManifest = await beginManifest({ dir: this.dir, backend: () => tx.config.backend, keys: () => tx.keys(), key: () => tx.key() });
      try {
        return await fn(tx);
      } finally {
        await endManifest();
      }
    }, lockOpts);
  }

  /**
   * metadata.json (and public files) alone, read and written under the lock. Nothing is sealed, so
   * neither the key nor the backend matters: a rekey, passwd or backend move that ran since this
   * vault was opened does not fail an export or a verify that already did its work.
   */
  protected async metadataTransaction(fn: () => void): Promise<void> {
    await pausePoint('before-lock');
    await withLock(this.dir, async () => {
      cleanStaleTemps(this.dir);
      // metadata.json is covered by the manifest: sealed with this vault's key while it is still
      // the vault's (else the manifest is removed, and the next write makes a new one).
      const { found } = readCurrentConfig(this.dir);
      const ours = found.backend === 'file' && this.currentConfig.backend === 'file' && found.keyId !== undefined && this.keyHandles?.[0]?.id === found.keyId;
      const endManifest = await beginManifest({
        dir: this.dir,
        backend: () => (ours ? 'file' : 'keychain'),
        keys: () => this.keys(),
        key: () => this.key(),
      });
      try {
        fn();
      } finally {
        await endManifest();
      }
    });
  }

  /** The current data key (file: unwrapped at open; keychain: read on first need). */
  async key(): Promise<KeyHandle> {
    return (await this.keys())[0]!;
  }

  /**
   * The data key held in this process, for the few operations that store the key itself
   * (passwd, rekey, backend moves). Opened through the agent, which never hands out the key,
   * the vault asks for the passphrase here.
   */
  async localKey(): Promise<LocalKeyHandle> {
    const k = await this.key();
    if (k instanceof LocalKeyHandle) return k;
    if (this.config.backend !== 'file') throw new Error('a keychain key is always local');
    const { current, previous } = await unlockKeys(this.opts, this.config);
    this.keyHandles = previous ? [current, previous] : [current];
    this.currentBackend = this.backendFor(this.currentConfig, this.keyHandles);
    return current;
  }

  /** Keys that may open a sealed file: the data key, then (during a rekey) the one it replaces. */
  async keys(): Promise<readonly KeyHandle[]> {
    if (this.keyHandles) return this.keyHandles;
    if (this.config.backend !== 'keychain') throw new Error('vault is closed');
    const kc = loadedKeychain();
    // A read (readFromOneSearch) takes the key from its one search too, as the access log needs it.
    const reader = this.reader;
    this.keyHandles = await readKeychainKeys(kc, keychainOpts(kc, this.opts, this.config), reader ? (acct) => reader.item(acct) : undefined);
    return this.keyHandles;
  }

  /** True while a rekey is unfinished (a previous key is still recorded). */
  async rekeyPending(): Promise<boolean> {
    return (await this.keys()).length > 1;
  }
}

function dispose(k: KeyHandle): void {
  if (k instanceof LocalKeyHandle) k.dispose();
}
