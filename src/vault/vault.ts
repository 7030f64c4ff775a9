/**
 * The vault: one directory (DESIGN.md §3) plus the backend recorded in its vault.json. It
 * validates names and values, keeps an encrypted backup of every replaced value, holds the
 * directory lock around read-modify-write sequences, and returns data; it never prints.
 */
import { chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VaultError, isVaultError } from '../errors.js';
import { entryName, parseEntryName, type EntryName } from '../names.js';
import { checkValue, fieldSpec, serviceSpec, type ServiceSpec } from '../services/index.js';
import { jwtExpiry } from '../services/validators.js';
import { presetParams, type KdfPreset } from '../crypto/kdf.js';
import { fileBackend, listEntryFiles } from '../backends/file.js';
import { fileAd, looksSealed } from '../crypto/format.js';
import { LocalKeyHandle, type KeyHandle } from '../crypto/keyhandle.js';
import type { Backend } from '../backends/types.js';
import { CONFIG_NAME, newKeyHandle, newVaultId, parseConfig, serializeConfig, unwrapKeyHandles, wrapKeyHandles, type FileVaultConfig, type VaultConfig } from './config.js';
import { checkCreatable, cleanStaleTemps, ensureDir, fsyncDir, readSecureText, removeFile, writeAtomic, writeExclusive } from './fsutil.js';
import { readLegacyPlain } from './legacy.js';
import { withLock } from './lock.js';
import { pausePoint } from './failpoint.js';
import { rekeyInTx, type RekeyResult } from './rekey.js';
import { appendExport, readMetadata, updateMetadata, writeMetadata, type EntryMeta, type ExportRecord } from './metadata.js';
import { LINKS_KEY, RESERVED_SERVICE, isReservedEntry } from './reserved.js';
import { linkIn, linkedError } from '../links/links.js';
import { BACKUPS_DIR, listBackups, parseBackupName, readBackup, removeBackups, writeBackup, type BackupInfo } from './backups.js';
import { keychainIdPending, settleKeychainId } from './keychain-id.js';
import { changedWhileWaiting, followFileVault, sameConfig, type Tx, type TxOptions } from './transaction.js';

export type BackendChoice = 'auto' | 'keychain' | 'file';
export type PassphrasePurpose = 'unlock' | 'create' | 'change';
/**
 * Supplies a passphrase as bytes; the vault zeroes them after use. After a refused passphrase the
 * vault calls retry, when there is one: true means the next call gives a new passphrase (a
 * terminal with tries left), false that the refusal stands.
 */
export interface PassphraseProvider {
  (purpose: PassphrasePurpose): Promise<Uint8Array>;
  retry?: ((purpose: PassphrasePurpose) => boolean) | undefined;
  /**
   * Make sure a passphrase can be had without asking for it yet: a source is read (and kept for
   * the call that follows) or there is a terminal to ask on; throws the error the call would.
   */
  check?: ((purpose: PassphrasePurpose) => Promise<void>) | undefined;
}

export interface VaultOptions {
  dir: string;
  passphrase?: PassphraseProvider | undefined;
  /** Used when the vault is created; refused when it contradicts an existing vault. */
  backend?: BackendChoice | undefined;
  kdf?: KdfPreset | undefined;
  /**
   * File vaults: the unlock agent, asked before the passphrase with the vault.json text just read;
   * it gives a key handle when an agent serves this vault with that very vault.json.
   */
  agent?: ((configText: string) => Promise<AgentKey | undefined>) | undefined;
  /** Keychain service name (tests use their own). */
  keychainService?: string | undefined;
  now?: (() => Date) | undefined;
}

export interface StoreResult {
  name: EntryName;
  created: boolean;
  changed: boolean;
  backup?: string;
  warnings: string[];
}

export interface ListedEntry {
  service: string;
  key: string;
  secret: boolean;
  env: string | undefined;
  /** Masked for secrets, whole for url/host/user; empty when unreadable. */
  shown: string;
  /** older-key: sealed under a key a rekey dropped (a write that raced it, or an old copy). */
  status: 'ok' | 'damaged' | 'plaintext' | 'older-key';
  problem?: string;
  meta: EntryMeta;
}

/** A key handle from the unlock agent, and how to let go of the connection. */
export interface AgentKey {
  handle: KeyHandle;
  close(): void;
}

export interface CreateInfo {
  backend: 'keychain' | 'file';
  reason: string;
}

export class Vault {
  /**
   * [data key, key an unfinished rekey replaces?]. File vaults: unwrapped at open. Keychain vaults:
   * read on first need, and re-read under the lock by every transaction.
   */
  private keyHandles: KeyHandle[] | undefined;
  /** Set when the unlock agent holds the key: seal/open go through it. */
  private agent: AgentKey | undefined;
  private currentConfig: VaultConfig;
  private currentBackend: Backend;
  private reader: (Backend & { drop(): void }) | undefined;

  private constructor(
    readonly dir: string,
    config: VaultConfig,
    keys: KeyHandle[] | undefined,
    private readonly opts: VaultOptions,
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
    if (this.currentConfig.backend === 'keychain') this.reader = this.keychainModule().keychainReader(this.currentBackend, keychainOpts(this.keychainModule(), this.opts, this.currentConfig), this.configText);
  }

  static exists(dir: string): boolean {
    return ensureDir(dir, false) && readSecureText(join(dir, CONFIG_NAME)) !== undefined;
  }

  /** The backend recorded in dir/vault.json, without unlocking anything; undefined when none. */
  static backendOf(dir: string): 'keychain' | 'file' | undefined {
    if (!ensureDir(dir, false)) return undefined;
    const text = readSecureText(join(dir, CONFIG_NAME));
    return text === undefined ? undefined : parseConfig(text, join(dir, CONFIG_NAME)).backend;
  }

  /** Entry-named files in dir that are not sealed entries (plaintext left by the old script). */
  static legacyFiles(dir: string): string[] {
    if (!ensureDir(dir, false)) return [];
    return listEntryFiles(dir).filter((name) => {
      try {
        const text = readSecureText(join(dir, name));
        return text !== undefined && !looksSealed(text);
      } catch {
        return readLegacyPlain(join(dir, name)) !== undefined; // e.g. mode 644: still the old script's file
      }
    });
  }

  /** Open the vault in opts.dir; with create, make it first if it does not exist. */
  static async open(opts: VaultOptions, { create = false } = {}): Promise<Vault> {
    const dir = opts.dir;
    const text = ensureDir(dir, false) ? readSecureText(join(dir, CONFIG_NAME)) : undefined;
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
    if (ensureDir(dir, false) && readSecureText(join(dir, CONFIG_NAME)) !== undefined) {
      throw new VaultError('USAGE', `a vault already exists in ${dir}`, { hint: 'use it as it is, or pass --dir for another one' });
    }
    const choice = await Vault.checkCreate(opts);
    const createdAt = now(opts).toISOString();
    let config: VaultConfig;
    let key: LocalKeyHandle | undefined;
    if (choice.backend === 'file') {
      const pass = await needPassphrase(opts, 'create');
      key = await newKeyHandle();
      try {
        config = await wrapKeyHandles(key, pass, presetParams(opts.kdf ?? 'default'), createdAt);
      } finally {
        pass.fill(0);
      }
    } else {
      // A new id, so a keychain service no other vault uses: the vault starts with no items.
      const kc = await loadKeychain();
      config = { v: 1, backend: 'keychain', createdAt, id: newVaultId() };
      const raw = (await newKeyHandle()).exportKey();
      try {
        await kc.writeVaultKey(raw, keychainOpts(kc, opts, config));
      } finally {
        raw.fill(0);
      }
    }
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
   * Every check create() makes before it writes, made without writing or prompting: the backend it
   * would choose (the keychain probe), a folder it can make and write vault.json in, and for a
   * file vault a passphrase source or a terminal to ask on. create() starts with it, and a dry run
   * (migrate --dry-run) calls it where the real run would create the vault, so both refuse alike.
   */
  static async checkCreate(opts: VaultOptions): Promise<CreateInfo> {
    const choice = await chooseBackend(opts);
    checkCreatable(opts.dir, CONFIG_NAME);
    if (choice.backend === 'file') {
      if (!opts.passphrase) throw noPassphrase();
      await opts.passphrase.check?.('create');
    }
    return choice;
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

  /**
   * True when vault.json is no longer what this vault was opened with (a backend move, rekey or
   * passwd ran since). Reads take no lock, so a reader checks this after reading: what it read
   * may come from a state that is gone — a backend move deletes the files a file-vault reader
   * lists, a rekey re-seals what it opens (cli/context.ts openForRead reads again on a fresh open).
   */
  changedSinceOpen(): boolean {
    return readSecureText(join(this.dir, CONFIG_NAME)) !== this.configText;
  }

  private backendFor(config: VaultConfig, keys: readonly KeyHandle[] | undefined): Backend {
    if (config.backend === 'file') return fileBackend({ dir: this.dir, keys: keys ?? [] });
    return this.keychainModule().keychainBackend(keychainOpts(this.keychainModule(), this.opts, config));
  }

  /** The keychain module, loaded by open() for keychain vaults (moves load it themselves). */
  private keychainModule(): KeychainModule {
    if (!keychain) throw new Error('the keychain module is not loaded');
    return keychain;
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

  private dropReader(): void {
    this.reader?.drop();
    this.reader = undefined;
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

  private async locked<T>(fn: (tx: Tx) => Promise<T>, opts: TxOptions, lockOpts: { timeoutMs?: number } = {}): Promise<T> {
    this.dropReader();
    return withLock(this.dir, async () => {
      cleanStaleTemps(this.dir);
      cleanStaleTemps(this.backupsDir);
      cleanStaleTemps(join(this.backupsDir, 'files'));
      await this.reread(opts);
      const tx: Tx = {
        config: this.currentConfig,
        backend: this.currentBackend,
        keys: () => this.keys(),
        key: () => this.key(),
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
        await settleKeychainId(tx, this.dir, this.keychainModule(), keychainBase(this.keychainModule(), this.opts));
      }
      if (opts.refuseWhileRekeying && (await this.keys()).length > 1) {
        throw new VaultError('USAGE', `an interrupted rekey must finish before ${opts.refuseWhileRekeying}`, { hint: 'run: mcp-tokens rekey' });
      }
      if (opts.expectKeyId !== undefined && (await this.key()).id !== opts.expectKeyId) {
        throw changedWhileWaiting('its data key was replaced by a rekey');
      }
      return fn(tx);
    }, lockOpts);
  }

  /** Under the lock: vault.json as it is now, and the keys of that state (see transaction.ts). */
  private async reread(opts: TxOptions): Promise<void> {
    const path = join(this.dir, CONFIG_NAME);
    const text = readSecureText(path);
    if (text === undefined) throw changedWhileWaiting(`${path} was removed`);
    const found = parseConfig(text, path);
    const opened = this.currentConfig;
    this.configText = text;
    if (found.backend !== opened.backend) throw changedWhileWaiting(`it moved to the ${found.backend} backend`);
    if (opts.sameConfig && !sameConfig(found, opened)) throw changedWhileWaiting(`${path} was rewritten`);
    if (found.backend === 'file') {
      this.keyHandles = followFileVault(opened as FileVaultConfig, found, this.keyHandles ?? []);
      let config: FileVaultConfig = found;
      if (found.keyId === undefined) {
        // A vault.json from before key ids: record them, so doctor can tell stale blobs without a key.
        config = { ...found, keyId: this.keyHandles[0]!.id, ...(found.previous && this.keyHandles[1] ? { previousKeyId: this.keyHandles[1].id } : {}) };
        this.configText = serializeConfig(config);
        writeAtomic(this.dir, CONFIG_NAME, this.configText);
      }
      this.currentConfig = config;
    } else {
      // Keychain: the key lives in the keychain; whatever it is now is what this transaction uses.
      for (const k of this.keyHandles ?? []) dispose(k);
      this.keyHandles = undefined;
      this.currentConfig = found;
    }
    this.currentBackend = this.backendFor(this.currentConfig, this.keyHandles);
  }

  async get(service: string, key: string): Promise<string | undefined> {
    return this.backend.get(entryName(service, key));
  }

  /**
   * Validate and store; the old value is backed up first. A plaintext file left by the old shell
   * script at the entry's path (`{dir}/{service}_{key}`) is replaced: its value is backed up
   * (encrypted) first, then the file is gone. With replacePlaintext (migrate, which keeps the
   * file's bytes in its own undo journal and removes it itself) it is only "nothing stored".
   */
  async store(service: string, key: string, value: string, opts: { replacePlaintext?: boolean } = {}): Promise<StoreResult> {
    const { warnings } = checkValue(service, key, value);
    return this.transaction((tx) => this.storeIn(tx, service, key, value, warnings, opts.replacePlaintext === true));
  }

  /**
   * Store several values in one transaction (import): the values now stored are read under the
   * lock and handed to `check`, which may refuse (nothing is then written); then each is stored
   * as by store. What another command stored meanwhile is what `check` sees, never a copy read
   * before the lock.
   */
  async storeMany(
    items: ReadonlyArray<{ service: string; key: string; value: string }>,
    check: (stored: ReadonlyArray<string | undefined>) => void = () => undefined,
  ): Promise<StoreResult[]> {
    const warnings = items.map((c) => checkValue(c.service, c.key, c.value).warnings);
    return this.transaction(async (tx) => {
      // Every item is checked before the first is written: a linked one refuses them all.
      const links = await tx.backend.get(entryName(RESERVED_SERVICE, LINKS_KEY));
      for (const c of items) {
        const link = linkIn(links, c.service, c.key);
        if (link) throw linkedError(link);
      }
      const stored: (string | undefined)[] = [];
      for (const c of items) {
        // The old script's plaintext file there is replaced (and backed up) as by store.
        const old = await tx.backend.get(entryName(c.service, c.key)).catch((e: unknown) => {
          if (isVaultError(e, 'INTEGRITY') && e.reason === 'legacy-plaintext') return undefined;
          throw e;
        });
        stored.push(old);
      }
      check(stored);
      const results: StoreResult[] = [];
      for (const [i, c] of items.entries()) results.push(await this.storeIn(tx, c.service, c.key, c.value, warnings[i]!, false));
      return results;
    });
  }

  private async storeIn(tx: Tx, service: string, key: string, value: string, warnings: string[], replacePlaintext: boolean): Promise<StoreResult> {
    const name = entryName(service, key);
    // Under the lock: a linked credential is refused, as link refuses a stored one (both would
    // show in list, and load/run would keep using the link, ignoring the value stored here).
    const link = linkIn(await tx.backend.get(entryName(RESERVED_SERVICE, LINKS_KEY)), service, key);
    if (link) throw linkedError(link);
    let legacy = false;
    const old = await tx.backend.get(name).catch((e: unknown) => {
      if (isVaultError(e, 'INTEGRITY') && e.reason === 'legacy-plaintext') {
        legacy = true;
        return undefined;
      }
      throw e;
    });
    // A keychain vault's directory may hold the old script's file beside the keychain entry.
    const legacyPath = join(this.dir, name);
    const legacyValue = readLegacyPlain(legacyPath);
    legacy ||= legacyValue !== undefined;
    if (old === value && !legacy) return { name, created: false, changed: false, warnings };
    const backup = old === undefined ? undefined : await this.backup(tx, service, key, old);
    const legacyBackup = legacy && !replacePlaintext && legacyValue !== undefined ? await this.backup(tx, service, key, legacyValue) : undefined;
    await tx.backend.set(name, value); // a file vault's entry is renamed over the old file
    if (legacy && !replacePlaintext) {
      if (this.backendName !== 'file' && removeFile(legacyPath)) fsyncDir(this.dir);
      warnings.push(`replaced the old script's plaintext file ${legacyPath}${legacyBackup ? `; its value is kept as an encrypted backup (backups/${legacyBackup})` : ''}`);
    }
    const stamp = now(this.opts).toISOString();
    const expires = fieldSpec(service, key).secret ? jwtExpiry(value)?.toISOString() : undefined;
    this.setMeta(name, { storedAt: stamp, ...(expires ? { expiresAt: expires } : {}) }, warnings);
    return { name, created: old === undefined, changed: old !== value || legacy, ...(backup ? { backup } : {}), warnings };
  }

  /**
   * Delete one key, or every key of a service; each value is backed up first. A plaintext file of
   * the old script at an entry's path is deleted too, its value backed up (encrypted) first.
   */
  async delete(service: string, key?: string, { force = false } = {}): Promise<{ deleted: EntryName[]; backups: string[] }> {
    serviceSpec(service);
    return this.transaction(async (tx) => {
      const ofService = (n: string): EntryName[] => {
        const p = parseEntryName(n);
        return p && p.service === service ? [p.name] : [];
      };
      const names =
        key !== undefined
          ? [entryName(service, key)]
          : [...new Set([...(await tx.backend.list()).flatMap(ofService), ...Vault.legacyFiles(this.dir).flatMap(ofService)])];
      const deleted: EntryName[] = [];
      const backups: string[] = [];
      for (const name of names.sort()) {
        const parts = parseEntryName(name)!;
        let old: string | undefined;
        try {
          old = await tx.backend.get(name);
        } catch (e) {
          if (!(isVaultError(e, 'INTEGRITY') && (force || e.reason === 'legacy-plaintext'))) throw e;
        }
        const legacyPath = join(this.dir, name);
        const legacyValue = readLegacyPlain(legacyPath);
        if (old !== undefined) backups.push(await this.backup(tx, parts.service, parts.key, old));
        if (legacyValue !== undefined && legacyValue !== old) backups.push(await this.backup(tx, parts.service, parts.key, legacyValue));
        let gone = await tx.backend.delete(name);
        if (this.backendName !== 'file' && legacyValue !== undefined && removeFile(legacyPath)) {
          fsyncDir(this.dir);
          gone = true;
        }
        if (gone) deleted.push(name);
        this.setMeta(name, undefined, []);
      }
      if (deleted.length === 0) {
        throw new VaultError('NOT_FOUND', key ? `No credential stored for ${service} ${key}` : `No credentials stored for ${service}`, {
          hint: 'see what is stored with: mcp-tokens list',
        });
      }
      return { deleted, backups };
    });
  }

  /**
   * `migrate --undo` of an old script's token file in a file vault: the entry service/key sits at
   * the old file's path. While it still holds `expected`, its value is backed up, then `bytes`
   * (the old plaintext file) go back at that path with `mode`, under the lock.
   */
  async putBackPlaintext(service: string, key: string, expected: string, path: string, bytes: Uint8Array, mode: number): Promise<'restored' | 'not-here' | 'changed'> {
    const name = entryName(service, key);
    return this.transaction(async (tx) => {
      if (tx.config.backend !== 'file' || resolve(join(this.dir, name)) !== resolve(path)) return 'not-here';
      const now = await tx.backend.get(name).catch(() => undefined);
      if (now !== expected) return 'changed';
      await this.backup(tx, service, key, now);
      writeAtomic(this.dir, name, bytes);
      // Undo puts the file back as it was, loose mode included (the user's own file, by request).
      chmodSync(path, mode & 0o777);
      this.setMeta(name, undefined, []);
      return 'restored';
    });
  }

  /** Every stored entry with its value masked (secrets) or shown (url, host, user). */
  async list(): Promise<ListedEntry[]> {
    const meta = readMetadata(this.dir);
    const names = (await this.backend.list()).filter((n) => !isReservedEntry(n)).sort();
    return Promise.all(
      names.map(async (name) => {
        const { service, key } = parseEntryName(name)!;
        const field = safeField(service, key);
        const base = { service, key, secret: field.secret, env: field.env, meta: meta[name] ?? {} };
        try {
          const value = (await this.backend.get(name)) ?? '';
          return { ...base, shown: field.secret ? mask(value) : value, status: 'ok' as const };
        } catch (e) {
          if (!(e instanceof VaultError) || e.code !== 'INTEGRITY') throw e;
          const status = e.reason === 'legacy-plaintext' ? ('plaintext' as const) : e.reason === 'older-key' ? ('older-key' as const) : ('damaged' as const);
          return { ...base, shown: '', status, problem: e.message };
        }
      }),
    );
  }

  /** Stored service names, sorted. */
  async services(): Promise<string[]> {
    const names = (await this.backend.list()).filter((n) => !isReservedEntry(n));
    return [...new Set(names.map((n) => parseEntryName(n)!.service))].sort();
  }

  /** The stored values of one service, by key. */
  async loadService(service: string): Promise<{ spec: ServiceSpec; values: Record<string, string> }> {
    let spec = serviceSpec(service);
    let keys = spec.fields.map((f) => f.key);
    if (!spec.builtin) {
      keys = (await this.backend.list()).filter((n) => parseEntryName(n)?.service === service).map((n) => parseEntryName(n)!.key).sort();
      spec = serviceSpec(service, keys);
    }
    const values: Record<string, string> = {};
    const got = await Promise.all(keys.map((k) => this.backend.get(entryName(service, k))));
    keys.forEach((k, i) => {
      const v = got[i];
      if (v !== undefined) values[k] = v;
    });
    return { spec, values };
  }

  metadata(): Record<string, EntryMeta> {
    return readMetadata(this.dir);
  }

  /**
   * Record verification results (advisory): one lock, one metadata write, metadata.json read
   * under the lock. `storedAt` is the entry's storedAt when its value was read for the check: an
   * entry stored again meanwhile keeps no verdict about the value it replaced.
   */
  async recordVerifications(results: ReadonlyArray<{ service: string; key: string; status: string; at: Date; storedAt?: string | undefined }>): Promise<void> {
    if (results.length === 0) return;
    await this.metadataTransaction(() => {
      const meta = readMetadata(this.dir);
      let changed = false;
      for (const r of results) {
        const name = entryName(r.service, r.key);
        if (meta[name]?.storedAt !== r.storedAt) continue;
        meta[name] = { ...meta[name], verifiedAt: r.at.toISOString(), verifyStatus: r.status };
        changed = true;
      }
      if (changed) writeMetadata(this.dir, meta);
    });
  }

  /** Record in metadata.json what a bundle held and whom it was sealed to (advisory log). */
  async recordExport(record: ExportRecord): Promise<void> {
    await this.metadataTransaction(() => appendExport(this.dir, record));
  }

  /**
   * metadata.json alone, read and written under the lock. Nothing is sealed, so neither the key
   * nor the backend matters: a rekey, passwd or backend move that ran since this vault was opened
   * does not fail an export or a verify that already did its work.
   */
  private async metadataTransaction(fn: () => void): Promise<void> {
    await pausePoint('before-lock');
    await withLock(this.dir, async () => {
      cleanStaleTemps(this.dir);
      fn();
    });
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

  /** A reserved entry (vault/reserved.ts): the age identity, the links. */
  async getReserved(key: string): Promise<string | undefined> {
    return this.backend.get(entryName(RESERVED_SERVICE, key));
  }

  /**
   * Write a reserved entry under the lock; the old value is backed up first, as by store. With
   * ifAbsent an existing value is kept and returned (two first uses race to one identity).
   */
  async putReserved(key: string, value: string, { ifAbsent = false } = {}): Promise<string> {
    return this.updateReserved(key, (old) => (old !== undefined && ifAbsent ? old : value));
  }

  /**
   * Read-modify-write of a reserved entry, all in one transaction (concurrent `link`s keep both).
   * `update` may read other entries (`get`) as they are under the lock, and throw to write nothing.
   */
  async updateReserved(
    key: string,
    update: (old: string | undefined, get: (service: string, key: string) => Promise<string | undefined>) => string | Promise<string>,
  ): Promise<string> {
    const name = entryName(RESERVED_SERVICE, key);
    return this.transaction(async (tx) => {
      const old = await tx.backend.get(name);
      const value = await update(old, (service, k) => tx.backend.get(entryName(service, k)));
      if (old === value) return old;
      if (old !== undefined) await this.backup(tx, RESERVED_SERVICE, key, old);
      await tx.backend.set(name, value);
      return value;
    });
  }

  backups(service?: string, key?: string): BackupInfo[] {
    return listBackups(this.backupsDir, service, key);
  }

  /** Put a backup's value back (the current value is backed up first, as by store); read and written under one lock. */
  async restore(service: string, key: string, at?: string): Promise<{ from: BackupInfo; result: StoreResult }> {
    entryName(service, key);
    return this.transaction(async (tx) => {
      const all = this.backups(service, key);
      const matching = at === undefined ? all : pickBackup(all, at, service, key);
      const from = matching[matching.length - 1];
      if (!from) {
        throw new VaultError('NOT_FOUND', at ? `No backup of ${service} ${key} at ${at}` : `No backups of ${service} ${key}`, {
          hint: `list them with: mcp-tokens backups ${service}`,
        });
      }
      const value = await readBackup(await tx.keys(), from);
      const { warnings } = checkValue(service, key, value);
      return { from, result: await this.storeIn(tx, service, key, value, warnings, false) };
    });
  }

  /** Remove backups older than the cut-off. */
  async prune(olderThanMs: number): Promise<BackupInfo[]> {
    const cutoff = now(this.opts).getTime() - olderThanMs;
    return this.transaction(async () => {
      const old = this.backups().filter((b) => b.date.getTime() < cutoff);
      removeBackups(this.backupsDir, old);
      return old;
    });
  }

  /** Re-wrap the data key under a new passphrase (file backend); one file changes. */
  async changePassphrase(kdf?: KdfPreset): Promise<void> {
    const config = this.config;
    if (config.backend !== 'file') {
      throw new VaultError('USAGE', 'this vault keeps its credentials in the OS keychain and has no passphrase', {
        hint: 'the keychain is protected by your login; passwd applies to file vaults',
      });
    }
    if (config.previous) throw new VaultError('USAGE', 'an interrupted rekey must finish before passwd', { hint: 'run: mcp-tokens rekey' });
    // Asked and derived before the lock; written only if vault.json is still exactly what it wraps.
    const pass = await needPassphrase(this.opts, 'change');
    let next: FileVaultConfig;
    try {
      const params = kdf ? presetParams(kdf) : { opslimit: config.kdf.opslimit, memlimit: config.kdf.memlimit };
      next = await wrapKeyHandles(await this.localKey(), pass, params, config.createdAt);
    } finally {
      pass.fill(0);
    }
    await this.transaction(async (tx) => tx.writeConfig(next), { sameConfig: true, refuseWhileRekeying: 'passwd' });
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
    this.keyHandles = await readKeychainKeys(this.keychainModule(), keychainOpts(this.keychainModule(), this.opts, this.config));
    return this.keyHandles;
  }

  /** True while a rekey is unfinished (a previous key is still recorded). */
  async rekeyPending(): Promise<boolean> {
    return (await this.keys()).length > 1;
  }

  /** A new data key; every entry (file vaults), backup and file backup re-sealed under it. */
  async rekey(onStep?: (path: string) => void): Promise<RekeyResult> {
    if (this.config.backend === 'keychain') {
      try {
        return await this.transaction((tx) => rekeyInTx(tx, { dir: this.dir, backupsDir: this.backupsDir, keychain: { kc: this.keychainModule(), opts: keychainOpts(this.keychainModule(), this.opts, tx.config) } }, onStep));
      } finally {
        this.close(); // the keychain's keys changed: read them again on next need
      }
    }
    // File vault: the passphrase is checked and the new key wrapped before the lock.
    const current = await this.localKey();
    const config = this.config as FileVaultConfig;
    const pass = await needPassphrase(this.opts, 'unlock');
    const next = await newKeyHandle();
    let wrapped: FileVaultConfig;
    try {
      const check = await unwrapKeyHandles(config, pass); // the same passphrase, or BAD_PASSPHRASE before any change
      check.current.dispose();
      check.previous?.dispose();
      wrapped = await wrapKeyHandles(next, pass, { opslimit: config.kdf.opslimit, memlimit: config.kdf.memlimit }, config.createdAt, current);
    } catch (e) {
      next.dispose();
      throw e;
    } finally {
      pass.fill(0);
    }
    return this.transaction((tx) => rekeyInTx(tx, { dir: this.dir, backupsDir: this.backupsDir, file: { next, wrapped } }, onStep), { sameConfig: true });
  }

  private async backup(tx: Tx, service: string, key: string, value: string, at?: Date): Promise<string> {
    return writeBackup(this.backupsDir, await tx.key(), service, key, value, at ?? now(this.opts));
  }

  /** Add an old value to the backups (migrate imports the old script's plaintext backups). */
  async importBackup(service: string, key: string, value: string, takenAt: Date | undefined): Promise<string> {
    checkValue(service, key, value);
    return this.transaction((tx) => this.backup(tx, service, key, value, takenAt));
  }

  /** Seal doc as the file backup `id` in folder (migrate's config backups); false when the name is taken. */
  async writeFileBackup(folder: string, id: string, doc: Uint8Array): Promise<boolean> {
    return this.transaction(async (tx) => writeExclusive(folder, id, await (await tx.key()).seal(doc, fileAd(id))));
  }

  /** The value held by the backup file `file` (a name as listed by backups()). */
  async readBackupFile(file: string): Promise<string> {
    const info = parseBackupName(this.backupsDir, file);
    if (!info) throw new VaultError('NOT_FOUND', `no backup named ${file}`);
    return readBackup(await this.keys(), info);
  }

  private setMeta(name: string, patch: EntryMeta | undefined, warnings: string[]): void {
    try {
      if (patch && 'storedAt' in patch) {
        const meta = readMetadata(this.dir);
        meta[name] = patch;
        writeMetadata(this.dir, meta);
      } else {
        updateMetadata(this.dir, name, patch);
      }
    } catch (e) {
      warnings.push(`could not update metadata.json (${(e as Error).message}); the credential itself is safe`);
    }
  }
}

type KeychainModule = typeof import('../backends/keychain.js');
let keychain: KeychainModule | undefined;

/** Load the keychain module (a file vault never needs it, and its native binding is not free). */
export async function loadKeychain(): Promise<KeychainModule> {
  keychain ??= await import('../backends/keychain.js');
  return keychain;
}

function dispose(k: KeyHandle): void {
  if (k instanceof LocalKeyHandle) k.dispose();
}

/** The keychain's vault-key (and vault-key-previous during a rekey) as handles. */
export async function readKeychainKeys(kc: KeychainModule, opts: { service?: string }): Promise<LocalKeyHandle[]> {
  const raw = await kc.readVaultKey(opts);
  if (!raw) {
    const service = opts.service ?? kc.KEYCHAIN_SERVICE;
    throw new VaultError('BACKEND_UNAVAILABLE', `the keychain holds no vault-key for this vault (service ${service}), so backups cannot be encrypted`, {
      hint: `the keychain item ${service} / vault-key was removed; run: mcp-tokens doctor --fix to create a new one (old backups will not open)`,
    });
  }
  const prev = await kc.readVaultKey({ ...opts, account: kc.PREVIOUS_VAULT_KEY_ACCOUNT });
  try {
    return prev ? [new LocalKeyHandle(raw), new LocalKeyHandle(prev)] : [new LocalKeyHandle(raw)];
  } finally {
    raw.fill(0);
    prev?.fill(0);
  }
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

function now(opts: VaultOptions): Date {
  return opts.now ? opts.now() : new Date();
}

function noVault(dir: string): VaultError {
  return new VaultError('NOT_FOUND', `no mcp-tokens vault in ${dir}`, { hint: noVaultHint(dir) });
}

/** What to do when there is no vault: migrate plaintext left by the old script, or store. */
export function noVaultHint(dir: string): string {
  const legacy = Vault.legacyFiles(dir);
  return legacy.length > 0
    ? `${dir} holds plaintext tokens left by the old shell script (${legacy.join(', ')}); move them into an encrypted vault with: mcp-tokens migrate`
    : 'store a first credential (mcp-tokens store <service> <key>) or run: mcp-tokens init';
}

/** The keychain service prefix: `mcp-tokens`, or the one tests set. */
function keychainBase(kc: KeychainModule, opts: VaultOptions): string {
  return opts.keychainService || kc.KEYCHAIN_SERVICE;
}

/** Where this vault's keychain items live: `mcp-tokens:<id>` (`mcp-tokens` before ids); the prefix alone for a probe. */
function keychainOpts(kc: KeychainModule, opts: VaultOptions, config?: VaultConfig): { service: string } {
  return { service: kc.vaultService(config?.backend === 'keychain' ? config.id : undefined, keychainBase(kc, opts)) };
}

async function needPassphrase(opts: VaultOptions, purpose: PassphrasePurpose): Promise<Uint8Array> {
  if (!opts.passphrase) throw noPassphrase();
  const p = await opts.passphrase(purpose);
  if (p.length === 0) {
    throw new VaultError('NO_PASSPHRASE', 'the passphrase is empty', { hint: 'choose a non-empty passphrase' });
  }
  return p;
}

function noPassphrase(): VaultError {
  return new VaultError('NO_PASSPHRASE', 'this file vault needs its passphrase and none was given', {
    hint: 'set MCP_TOKENS_PASSPHRASE_FILE (a 0600 file), pass --passphrase-fd N, or run on a terminal to be prompted',
  });
}

/** The file vault's keys from its passphrase; a refused one is asked again while the provider offers to. */
async function unlockKeys(opts: VaultOptions, config: FileVaultConfig): Promise<{ current: LocalKeyHandle; previous?: LocalKeyHandle }> {
  for (;;) {
    const pass = await needPassphrase(opts, 'unlock');
    try {
      return await unwrapKeyHandles(config, pass);
    } catch (e) {
      if (!isVaultError(e, 'BAD_PASSPHRASE') || opts.passphrase?.retry?.('unlock') !== true) throw e;
    } finally {
      pass.fill(0);
    }
  }
}

async function chooseBackend(opts: VaultOptions): Promise<CreateInfo> {
  const want = opts.backend ?? 'auto';
  if (want === 'file') return { backend: 'file', reason: 'chosen with --backend file' };
  const kc = await import('../backends/keychain.js');
  const probe = await kc.probeKeychain(keychainOpts(kc, opts));
  if (probe.ok) return { backend: 'keychain', reason: want === 'auto' ? 'an OS keychain is available' : 'chosen with --backend keychain' };
  if (want === 'keychain') {
    throw new VaultError('BACKEND_UNAVAILABLE', `the OS keychain is not available: ${probe.reason}`, { hint: probe.hint });
  }
  return { backend: 'file', reason: 'no OS keychain was reachable' };
}

/**
 * The backups `--at` names: the one whose timestamp it is, else the one it is a prefix of. A prefix
 * that several timestamps share is refused with the list, so restore never guesses which one.
 */
function pickBackup(all: readonly BackupInfo[], at: string, service: string, key: string): BackupInfo[] {
  const exact = all.filter((b) => b.stamp === at);
  if (exact.length > 0) return exact;
  const matching = all.filter((b) => b.stamp.startsWith(at));
  if (matching.length <= 1) return matching;
  const shown = matching.slice(-10).reverse().map((b) => `  ${b.stamp}`);
  const more = matching.length > 10 ? [`  … and ${matching.length - 10} older`] : [];
  throw new VaultError('USAGE', `--at ${at.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')} matches ${matching.length} backups of ${service} ${key}:\n${[...shown, ...more].join('\n')}`, {
    hint: `give the whole timestamp, e.g. mcp-tokens restore ${service} ${key} --at ${matching[matching.length - 1]!.stamp}`,
  });
}
