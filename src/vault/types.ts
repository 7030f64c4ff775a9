/** The vault's public types: how it is opened, and what its operations return. */
import type { EntryName } from '../names.js';
import type { KdfPreset } from '../crypto/kdf.js';
import type { KeyHandle } from '../crypto/keyhandle.js';
import type { EntryMeta } from './metadata.js';

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

export function now(opts: { now?: (() => Date) | undefined }): Date {
  return opts.now ? opts.now() : new Date();
}
