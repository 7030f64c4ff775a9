/**
 * Finding, creating and unlocking a vault, before any Vault exists: which backend a new vault
 * gets and why, its first vault.json and data key, the file vault's passphrase, and what to say
 * when there is no vault.
 */
import { join } from 'node:path';
import { VaultError, isVaultError } from '../errors.js';
import { presetParams } from '../crypto/kdf.js';
import { looksSealed } from '../crypto/format.js';
import type { LocalKeyHandle } from '../crypto/keyhandle.js';
import { listEntryFiles } from '../backends/file.js';
import { CONFIG_NAME, newKeyHandle, newVaultId, parseConfig, unwrapKeyHandles, wrapKeyHandles, type FileVaultConfig, type VaultConfig } from './config.js';
import { checkCreatable, ensureDir, readSecureText } from './fsutil.js';
import { readLegacyPlain } from './legacy.js';
import { keychainOpts, loadKeychain } from './keychain-access.js';
import { now, type CreateInfo, type PassphrasePurpose, type VaultOptions } from './types.js';

/** dir/vault.json as text; undefined when there is no vault there. */
export function readConfigText(dir: string): string | undefined {
  return ensureDir(dir, false) ? readSecureText(join(dir, CONFIG_NAME)) : undefined;
}

/** The backend recorded in dir/vault.json, without unlocking anything; undefined when none. */
export function backendOf(dir: string): 'keychain' | 'file' | undefined {
  const text = readConfigText(dir);
  return text === undefined ? undefined : parseConfig(text, join(dir, CONFIG_NAME)).backend;
}

/** Entry-named files in dir that are not sealed entries (plaintext left by the old script). */
export function legacyFiles(dir: string): string[] {
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

export function noVault(dir: string): VaultError {
  return new VaultError('NOT_FOUND', `no mcp-tokens vault in ${dir}`, { hint: noVaultHint(dir) });
}

/** What to do when there is no vault: migrate plaintext left by the old script, or store. */
export function noVaultHint(dir: string): string {
  const legacy = legacyFiles(dir);
  return legacy.length > 0
    ? `${dir} holds plaintext tokens left by the old shell script (${legacy.join(', ')}); move them into an encrypted vault with: mcp-tokens migrate`
    : 'store a first credential (mcp-tokens store <service> <key>) or run: mcp-tokens init';
}

/**
 * Every check creation makes before it writes, made without writing or prompting: the backend it
 * would choose (the keychain probe), a folder it can make and write vault.json in, and for a
 * file vault a passphrase source or a terminal to ask on.
 */
export async function checkCreate(opts: VaultOptions): Promise<CreateInfo> {
  const choice = await chooseBackend(opts);
  checkCreatable(opts.dir, CONFIG_NAME);
  if (choice.backend === 'file') {
    if (!opts.passphrase) throw noPassphrase();
    await opts.passphrase.check?.('create');
  }
  return choice;
}

/**
 * A new vault's vault.json and, for a file vault, its data key (wrapped under the passphrase
 * asked for here). A keychain vault gets a new id and its key item; nothing is written in dir.
 */
export async function newVaultConfig(opts: VaultOptions, choice: CreateInfo): Promise<{ config: VaultConfig; key?: LocalKeyHandle }> {
  const createdAt = now(opts).toISOString();
  if (choice.backend === 'file') {
    const pass = await needPassphrase(opts, 'create');
    const key = await newKeyHandle();
    try {
      return { config: await wrapKeyHandles(key, pass, presetParams(opts.kdf ?? 'default'), createdAt), key };
    } catch (e) {
      key.dispose();
      throw e;
    } finally {
      pass.fill(0);
    }
  }
  // A new id, so a keychain service no other vault uses: the vault starts with no items.
  const kc = await loadKeychain();
  const config: VaultConfig = { v: 1, backend: 'keychain', createdAt, id: newVaultId() };
  const raw = (await newKeyHandle()).exportKey();
  try {
    await kc.writeVaultKey(raw, keychainOpts(kc, opts, config));
  } finally {
    raw.fill(0);
  }
  return { config };
}

async function chooseBackend(opts: VaultOptions): Promise<CreateInfo> {
  const want = opts.backend ?? 'auto';
  if (want === 'file') return { backend: 'file', reason: 'chosen with --backend file' };
  const kc = await loadKeychain();
  const probe = await kc.probeKeychain(keychainOpts(kc, opts));
  if (probe.ok) return { backend: 'keychain', reason: want === 'auto' ? 'an OS keychain is available' : 'chosen with --backend keychain' };
  if (want === 'keychain') {
    throw new VaultError('BACKEND_UNAVAILABLE', `the OS keychain is not available: ${probe.reason}`, { hint: probe.hint });
  }
  return { backend: 'file', reason: 'no OS keychain was reachable' };
}

export async function needPassphrase(opts: VaultOptions, purpose: PassphrasePurpose): Promise<Uint8Array> {
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
export async function unlockKeys(opts: VaultOptions, config: FileVaultConfig): Promise<{ current: LocalKeyHandle; previous?: LocalKeyHandle }> {
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
