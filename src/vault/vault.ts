/**
 * The vault: one directory (DESIGN.md §3) plus the backend recorded in its vault.json. It
 * validates names and values, keeps an encrypted backup of every replaced value, holds the
 * directory lock around read-modify-write sequences, and returns data; it never prints.
 */
import { join } from 'node:path';
import { VaultError, isVaultError } from '../errors.js';
import { entryName, parseEntryName, type EntryName } from '../names.js';
import { checkValue, fieldSpec, serviceSpec, type ServiceSpec } from '../services/index.js';
import { jwtExpiry } from '../services/validators.js';
import { KDF_PRESETS, type KdfPreset } from '../crypto/kdf.js';
import { fileBackend, listEntryFiles } from '../backends/file.js';
import { looksSealed } from '../crypto/format.js';
import type { Backend } from '../backends/types.js';
import type { KeyHandle } from '../crypto/keyhandle.js';
import { CONFIG_NAME, newDataKey, parseConfig, serializeConfig, unwrapDataKey, unwrapDataKeys, wrapDataKey, type FileVaultConfig, type VaultConfig } from './config.js';
import { cleanStaleTemps, ensureDir, readSecureText, writeAtomic, writeExclusive } from './fsutil.js';
import { withLock } from './lock.js';
import { resealAll, type ResealResult } from './rekey.js';
import { appendExport, readMetadata, updateMetadata, writeMetadata, type EntryMeta, type ExportRecord } from './metadata.js';
import { RESERVED_SERVICE, isReservedEntry } from './reserved.js';
import { BACKUPS_DIR, listBackups, parseBackupName, readBackup, removeBackups, writeBackup, type BackupInfo } from './backups.js';

export type BackendChoice = 'auto' | 'keychain' | 'file';
export type PassphrasePurpose = 'unlock' | 'create' | 'change';
/** Supplies a passphrase as bytes; the vault zeroes them after use. */
export type PassphraseProvider = (purpose: PassphrasePurpose) => Promise<Uint8Array>;

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
  status: 'ok' | 'damaged' | 'plaintext';
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
  private dataKey: Uint8Array | undefined;
  /** The key a rekey is replacing (file vaults: from vault.json `previous`). */
  private previousKey: Uint8Array | undefined;
  private currentConfig: VaultConfig;
  private currentBackend: Backend;
  /** Set when the unlock agent holds the key: seal/open go through it. */
  private agent: AgentKey | undefined;

  private constructor(
    readonly dir: string,
    config: VaultConfig,
    backend: Backend,
    dataKey: Uint8Array | undefined,
    private readonly opts: VaultOptions,
    readonly created: CreateInfo | undefined,
  ) {
    this.currentConfig = config;
    this.currentBackend = backend;
    this.dataKey = dataKey;
  }

  get config(): VaultConfig {
    return this.currentConfig;
  }

  get backend(): Backend {
    return this.currentBackend;
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
        return false;
      }
    });
  }

  /** Open the vault in opts.dir; with create, make it first if it does not exist. */
  static async open(opts: VaultOptions, { create = false } = {}): Promise<Vault> {
    const dir = opts.dir;
    if (!ensureDir(dir, create)) throw noVault(dir);
    const text = readSecureText(join(dir, CONFIG_NAME));
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

  /** Create a new vault; fails if one exists. */
  static async create(opts: VaultOptions): Promise<Vault> {
    const dir = opts.dir;
    ensureDir(dir, true);
    if (readSecureText(join(dir, CONFIG_NAME)) !== undefined) {
      throw new VaultError('USAGE', `a vault already exists in ${dir}`, { hint: 'use it as it is, or pass --dir for another one' });
    }
    const choice = await chooseBackend(opts);
    const createdAt = now(opts).toISOString();
    let config: VaultConfig;
    let dataKey: Uint8Array | undefined;
    if (choice.backend === 'file') {
      const pass = await needPassphrase(opts, 'create');
      dataKey = await newDataKey();
      try {
        config = await wrapDataKey(dataKey, pass, KDF_PRESETS[opts.kdf ?? 'default'], createdAt);
      } finally {
        pass.fill(0);
      }
    } else {
      const kc = await import('../backends/keychain.js');
      const kcOpts = keychainOpts(opts);
      if (!(await kc.readVaultKey(kcOpts))) await kc.writeVaultKey(await newDataKey(), kcOpts);
      config = { v: 1, backend: 'keychain', createdAt };
    }
    if (!writeExclusive(dir, CONFIG_NAME, serializeConfig(config))) {
      // Another process created the vault at the same moment: use theirs.
      dataKey?.fill(0);
      return Vault.open({ ...opts, backend: 'auto' });
    }
    return Vault.fromConfig(opts, config, choice, dataKey);
  }

  private static async fromConfig(opts: VaultOptions, config: VaultConfig, created: CreateInfo | undefined, key?: Uint8Array, text?: string): Promise<Vault> {
    if (config.backend === 'file') {
      if (!key && text !== undefined && !config.previous && opts.agent) {
        const agent = await opts.agent(text);
        if (agent) {
          const vault = new Vault(opts.dir, config, fileBackend({ dir: opts.dir, handle: agent.handle }), undefined, opts, created);
          vault.agent = agent;
          return vault;
        }
      }
      let dataKey = key;
      let previousKey: Uint8Array | undefined;
      if (!dataKey) {
        const pass = await needPassphrase(opts, 'unlock');
        try {
          ({ current: dataKey, previous: previousKey } = await unwrapDataKeys(config, pass));
        } finally {
          pass.fill(0);
        }
      }
      const vault = new Vault(opts.dir, config, fileBackend({ dir: opts.dir, dataKey, previousKey }), dataKey, opts, created);
      vault.previousKey = previousKey;
      return vault;
    }
    const kc = await import('../backends/keychain.js');
    return new Vault(opts.dir, config, kc.keychainBackend(keychainOpts(opts)), undefined, opts, created);
  }

  get backendName(): 'keychain' | 'file' {
    return this.config.backend;
  }

  get backupsDir(): string {
    return join(this.dir, BACKUPS_DIR);
  }

  /** Zero the data key; the vault is unusable afterwards. */
  close(): void {
    this.agent?.close();
    this.agent = undefined;
    this.dataKey?.fill(0);
    this.dataKey = undefined;
    this.previousKey?.fill(0);
    this.previousKey = undefined;
  }

  async get(service: string, key: string): Promise<string | undefined> {
    return this.backend.get(entryName(service, key));
  }

  /**
   * Validate and store; the old value is backed up first. With replacePlaintext (migrate), a
   * legacy plaintext file at the entry's path counts as "nothing stored" and is replaced.
   */
  async store(service: string, key: string, value: string, opts: { replacePlaintext?: boolean } = {}): Promise<StoreResult> {
    const { warnings } = checkValue(service, key, value);
    const name = entryName(service, key);
    return this.locked(async () => {
      const old = await this.backend.get(name).catch((e: unknown) => {
        if (opts.replacePlaintext && isVaultError(e, 'INTEGRITY') && e.reason === 'legacy-plaintext') return undefined;
        throw e;
      });
      if (old === value) return { name, created: false, changed: false, warnings };
      const backup = old === undefined ? undefined : await this.backup(service, key, old);
      await this.backend.set(name, value);
      const stamp = now(this.opts).toISOString();
      const expires = fieldSpec(service, key).secret ? jwtExpiry(value)?.toISOString() : undefined;
      this.setMeta(name, { storedAt: stamp, ...(expires ? { expiresAt: expires } : {}) }, warnings);
      return { name, created: old === undefined, changed: true, ...(backup ? { backup } : {}), warnings };
    });
  }

  /** Delete one key, or every key of a service; each value is backed up first. */
  async delete(service: string, key?: string, { force = false } = {}): Promise<{ deleted: EntryName[]; backups: string[] }> {
    serviceSpec(service);
    return this.locked(async () => {
      const names = key !== undefined ? [entryName(service, key)] : (await this.backend.list()).filter((n) => parseEntryName(n)?.service === service);
      const deleted: EntryName[] = [];
      const backups: string[] = [];
      for (const name of names.sort()) {
        const parts = parseEntryName(name)!;
        let old: string | undefined;
        try {
          old = await this.backend.get(name);
        } catch (e) {
          if (!(force && e instanceof VaultError && e.code === 'INTEGRITY')) throw e;
        }
        if (old !== undefined) backups.push(await this.backup(parts.service, parts.key, old));
        if (await this.backend.delete(name)) deleted.push(name);
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
          const plaintext = e.reason === 'legacy-plaintext';
          return { ...base, shown: '', status: plaintext ? ('plaintext' as const) : ('damaged' as const), problem: e.message };
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

  /** Record verification results (advisory): one lock, one metadata write. */
  async recordVerifications(results: ReadonlyArray<{ service: string; key: string; status: string; at: Date }>): Promise<void> {
    if (results.length === 0) return;
    await this.locked(async () => {
      const meta = readMetadata(this.dir);
      for (const r of results) {
        const name = entryName(r.service, r.key);
        meta[name] = { ...meta[name], verifiedAt: r.at.toISOString(), verifyStatus: r.status };
      }
      writeMetadata(this.dir, meta);
    });
  }

  /** Record in metadata.json what a bundle held and whom it was sealed to (advisory log). */
  async recordExport(record: ExportRecord): Promise<void> {
    await this.locked(async () => appendExport(this.dir, record));
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

  /** Read-modify-write of a reserved entry, all under the lock (concurrent `link`s keep both). */
  async updateReserved(key: string, update: (old: string | undefined) => string): Promise<string> {
    const name = entryName(RESERVED_SERVICE, key);
    return this.locked(async () => {
      const old = await this.backend.get(name);
      const value = update(old);
      if (old === value) return old;
      if (old !== undefined) await this.backup(RESERVED_SERVICE, key, old);
      await this.backend.set(name, value);
      return value;
    });
  }

  backups(service?: string, key?: string): BackupInfo[] {
    return listBackups(this.backupsDir, service, key);
  }

  /** Put a backup's value back (the current value is backed up first, as by store). */
  async restore(service: string, key: string, at?: string): Promise<{ from: BackupInfo; result: StoreResult }> {
    entryName(service, key);
    const all = this.backups(service, key);
    const matching = at === undefined ? all : all.filter((b) => b.stamp === at || b.stamp.startsWith(at));
    const from = matching[matching.length - 1];
    if (!from) {
      throw new VaultError('NOT_FOUND', at ? `No backup of ${service} ${key} at ${at}` : `No backups of ${service} ${key}`, {
        hint: `list them with: mcp-tokens backups ${service}`,
      });
    }
    const value = await readBackup(this.agent?.handle ?? (await this.keys()), from);
    return { from, result: await this.store(service, key, value) };
  }

  /** Remove backups older than the cut-off. */
  async prune(olderThanMs: number): Promise<BackupInfo[]> {
    const cutoff = now(this.opts).getTime() - olderThanMs;
    return this.locked(async () => {
      const old = this.backups().filter((b) => b.date.getTime() < cutoff);
      removeBackups(this.backupsDir, old);
      return old;
    });
  }

  /** Re-wrap the data key under a new passphrase (file backend); one file changes. */
  async changePassphrase(kdf?: KdfPreset): Promise<void> {
    if (this.config.backend !== 'file') {
      throw new VaultError('USAGE', 'this vault keeps its credentials in the OS keychain and has no passphrase', {
        hint: 'the keychain is protected by your login; passwd applies to file vaults',
      });
    }
    const config = this.config;
    await this.refuseWhileRekeying('passwd');
    const pass = await needPassphrase(this.opts, 'change');
    try {
      const params = kdf ? KDF_PRESETS[kdf] : { opslimit: config.kdf.opslimit, memlimit: config.kdf.memlimit };
      const next = await wrapDataKey(await this.key(), pass, params, config.createdAt);
      await this.locked(async () => writeAtomic(this.dir, CONFIG_NAME, serializeConfig(next)));
      this.currentConfig = next;
    } finally {
      pass.fill(0);
    }
  }

  /** The data key (file: unwrapped at open; keychain: read on first need). */
  async key(): Promise<Uint8Array> {
    if (this.dataKey) return this.dataKey;
    if (this.config.backend === 'file' && this.agent) {
      // Opened through the agent, which never hands out the key: the few operations that need
      // the key itself (passwd, rekey, backend moves) ask for the passphrase.
      const pass = await needPassphrase(this.opts, 'unlock');
      try {
        this.dataKey = await unwrapDataKey(this.config, pass);
      } finally {
        pass.fill(0);
      }
      return this.dataKey;
    }
    if (this.config.backend !== 'keychain') throw new Error('vault is closed');
    const kc = await import('../backends/keychain.js');
    const k = await kc.readVaultKey(keychainOpts(this.opts));
    if (!k) {
      throw new VaultError('BACKEND_UNAVAILABLE', 'the keychain holds no vault-key for mcp-tokens, so backups cannot be encrypted', {
        hint: 'the keychain item mcp-tokens/vault-key was removed; run: mcp-tokens doctor --fix to create a new one (old backups will not open)',
      });
    }
    this.dataKey = k;
    return k;
  }

  /** Keys that may open a sealed file: the data key, then (during a rekey) the one it replaces. */
  async keys(): Promise<Uint8Array[]> {
    const current = await this.key();
    if (this.config.backend === 'keychain' && !this.previousKey) {
      const kc = await import('../backends/keychain.js');
      this.previousKey = await kc.readVaultKey({ ...keychainOpts(this.opts), account: kc.PREVIOUS_VAULT_KEY_ACCOUNT });
    }
    return this.previousKey ? [current, this.previousKey] : [current];
  }

  /** True while a rekey is unfinished (a previous key is still recorded). */
  async rekeyPending(): Promise<boolean> {
    if (this.config.backend === 'file') return this.config.previous !== undefined;
    return (await this.keys()).length > 1;
  }

  async refuseWhileRekeying(what: string): Promise<void> {
    if (await this.rekeyPending()) {
      throw new VaultError('USAGE', `an interrupted rekey must finish before ${what}`, { hint: 'run: mcp-tokens rekey' });
    }
  }

  /** A new data key; every entry (file vaults), backup and file backup re-sealed under it. */
  async rekey(onStep?: (path: string) => void): Promise<ResealResult & { finished: boolean }> {
    return this.locked(async () => {
      const old = await this.keys();
      const finished = old.length > 1;
      const withEntries = this.config.backend === 'file';
      if (finished) {
        await resealAll(this.dir, this.backupsDir, withEntries, old, onStep);
        await this.dropPrevious();
      }
      const next = await newDataKey();
      const current = await this.key();
      if (this.config.backend === 'file') {
        const config = this.config as FileVaultConfig;
        const pass = await needPassphrase(this.opts, 'unlock');
        try {
          await unwrapDataKeys(config, pass).then(({ current: k, previous: p }) => (k.fill(0), p?.fill(0))); // the same passphrase, or BAD_PASSPHRASE before any change
          const both = await wrapDataKey(next, pass, { opslimit: config.kdf.opslimit, memlimit: config.kdf.memlimit }, config.createdAt, current);
          writeAtomic(this.dir, CONFIG_NAME, serializeConfig(both));
          this.currentConfig = both;
          this.currentBackend = fileBackend({ dir: this.dir, dataKey: next, previousKey: current });
        } finally {
          pass.fill(0);
        }
      } else {
        const kc = await import('../backends/keychain.js');
        await kc.writeVaultKey(current, { ...keychainOpts(this.opts), account: kc.PREVIOUS_VAULT_KEY_ACCOUNT });
        await kc.writeVaultKey(next, keychainOpts(this.opts));
      }
      this.dataKey = next;
      this.previousKey = current;
      const result = await resealAll(this.dir, this.backupsDir, withEntries, [next, current], onStep);
      await this.dropPrevious();
      return { ...result, finished };
    });
  }

  /** Forget the previous key once every file that it opened is re-sealed (damaged files open with neither). */
  private async dropPrevious(): Promise<void> {
    if (this.config.backend === 'file') {
      const { previous: _previous, ...rest } = this.config as FileVaultConfig;
      writeAtomic(this.dir, CONFIG_NAME, serializeConfig(rest));
      this.currentConfig = rest;
      this.currentBackend = fileBackend({ dir: this.dir, dataKey: await this.key() });
    } else {
      const kc = await import('../backends/keychain.js');
      await kc.deleteVaultKey({ ...keychainOpts(this.opts), account: kc.PREVIOUS_VAULT_KEY_ACCOUNT });
    }
    this.previousKey?.fill(0);
    this.previousKey = undefined;
  }

  async locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.dir, async () => {
      cleanStaleTemps(this.dir);
      cleanStaleTemps(this.backupsDir);
      cleanStaleTemps(join(this.backupsDir, 'files'));
      return fn();
    });
  }

  private async backup(service: string, key: string, value: string, at?: Date): Promise<string> {
    return writeBackup(this.backupsDir, this.agent?.handle ?? (await this.key()), service, key, value, at ?? now(this.opts));
  }

  /** Add an old value to the backups (migrate imports the old script's plaintext backups). */
  async importBackup(service: string, key: string, value: string, takenAt: Date | undefined): Promise<string> {
    checkValue(service, key, value);
    return this.locked(() => this.backup(service, key, value, takenAt));
  }

  /** The value held by the backup file `file` (a name as listed by backups()). */
  async readBackupFile(file: string): Promise<string> {
    const info = parseBackupName(this.backupsDir, file);
    if (!info) throw new VaultError('NOT_FOUND', `no backup named ${file}`);
    return readBackup(this.agent?.handle ?? (await this.keys()), info);
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

function keychainOpts(opts: VaultOptions): { service?: string } {
  return opts.keychainService ? { service: opts.keychainService } : {};
}

async function needPassphrase(opts: VaultOptions, purpose: PassphrasePurpose): Promise<Uint8Array> {
  if (!opts.passphrase) {
    throw new VaultError('NO_PASSPHRASE', 'this file vault needs its passphrase and none was given', {
      hint: 'set MCP_TOKENS_PASSPHRASE_FILE (a 0600 file), pass --passphrase-fd N, or run on a terminal to be prompted',
    });
  }
  const p = await opts.passphrase(purpose);
  if (p.length === 0) {
    throw new VaultError('NO_PASSPHRASE', 'the passphrase is empty', { hint: 'choose a non-empty passphrase' });
  }
  return p;
}

async function chooseBackend(opts: VaultOptions): Promise<CreateInfo> {
  const want = opts.backend ?? 'auto';
  if (want === 'file') return { backend: 'file', reason: 'chosen with --backend file' };
  const kc = await import('../backends/keychain.js');
  const probe = await kc.probeKeychain(keychainOpts(opts));
  if (probe.ok) return { backend: 'keychain', reason: want === 'auto' ? 'an OS keychain is available' : 'chosen with --backend keychain' };
  if (want === 'keychain') {
    throw new VaultError('BACKEND_UNAVAILABLE', `the OS keychain is not available: ${probe.reason}`, { hint: probe.hint });
  }
  return { backend: 'file', reason: 'no OS keychain was reachable' };
}
