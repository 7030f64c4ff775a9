/**
 * `doctor`: inspect the vault directory without trusting it (lstat only, nothing decrypted) and,
 * with fix, repair what is safe to repair: modes (via fchmod on an O_NOFOLLOW descriptor, so a
 * link swapped in meanwhile is never followed), stale temp files and stale locks. Symlinks and
 * foreign owners are reported, never "fixed": that needs a human decision.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { isVaultError } from '../errors.js';
import { parseEntryName } from '../names.js';
import { looksSealed } from '../crypto/format.js';
import { isWeakKdf } from '../crypto/kdf.js';
import { TEMP_PREFIX, kindOf, pidAlive } from './fsutil.js';
import { CONFIG_NAME, parseConfig, type VaultConfig } from './config.js';
import { currentKeyIds, filesUnderOlderKeys, readIfRegular } from './doctor-keys.js';
import { BACKUPS_DIR } from './backups.js';
import { LOCK_NAME, breakIfStale, describeHolder, inspectLock } from './lock.js';
import { readMetadata } from './metadata.js';

export type Level = 'ok' | 'warn' | 'error';

export interface Finding {
  level: Level;
  message: string;
  path?: string;
  fix?: string;
  fixed?: boolean;
  /** Set when the finding means the vault's backend cannot be reached (doctor then exits 5, not 1). */
  unavailable?: true;
  /** Set when the finding is an integrity failure (an entry older than the vault's manifest): doctor exits 6. */
  integrity?: true;
}

export interface DoctorReport {
  dir: string;
  backend: 'keychain' | 'file' | null;
  findings: Finding[];
  /** A keychain vault made before vault ids: opening it would move its items, which doctor never does. */
  sharedKeychainItems?: true;
}

export interface DoctorOptions {
  fix: boolean;
  now?: Date;
  keychainService?: string | undefined;
  /** The passphrase file commands would read (MCP_TOKENS_PASSPHRASE_FILE): checked like a vault file, then tried on the vault. */
  passphraseFile?: string | undefined;
}

export async function doctor(dir: string, opts: DoctorOptions): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);
  const me = process.getuid?.();
  const st = lstat(dir);
  if (!st) {
    add({ level: 'warn', message: 'no vault yet', path: dir, fix: 'mcp-tokens store <service> <key> or mcp-tokens init' });
    return { dir, backend: null, findings };
  }
  if (!checkNode(dir, st, 'dir', me, opts.fix, add)) return { dir, backend: null, findings };

  let backend: DoctorReport['backend'] = null;
  let shared = false;
  let parsed: VaultConfig | undefined;
  const configText = readIfRegular(join(dir, CONFIG_NAME));
  if (configText === undefined && lstat(join(dir, CONFIG_NAME))) {
    /* something that is not a regular file: the scan below reports it */
  } else if (configText === undefined) add({ level: 'warn', message: 'no vault.json: the vault has not been created', path: join(dir, CONFIG_NAME), fix: 'mcp-tokens init' });
  else {
    try {
      const config = parseConfig(configText, join(dir, CONFIG_NAME));
      parsed = config;
      backend = config.backend;
      add({ level: 'ok', message: `vault backend: ${backend}`, path: join(dir, CONFIG_NAME) });
      // Opened at all only under the test suite's switch (checkKdfFloor refuses it otherwise).
      if (config.backend === 'file' && isWeakKdf(config.kdf)) {
        add({ level: 'warn', message: `weak KDF: opslimit ${config.kdf.opslimit}, memlimit ${config.kdf.memlimit} is below the interactive preset (a test vault)`, path: join(dir, CONFIG_NAME), fix: 'mcp-tokens passwd --kdf default' });
      }
      if (config.backend === 'file' && config.previous) {
        add({ level: 'warn', message: 'an interrupted rekey: every file still opens, but the old key is kept until it finishes', path: join(dir, CONFIG_NAME), fix: 'mcp-tokens rekey' });
      }
    } catch (e) {
      add({ level: 'error', message: (e as Error).message, path: join(dir, CONFIG_NAME) });
    }
  }

  for (const name of fs.readdirSync(dir)) {
    const path = join(dir, name);
    const s = lstat(path);
    if (!s) continue;
    if (name === BACKUPS_DIR) {
      if (checkNode(path, s, 'dir', me, opts.fix, add)) scanBackups(path, me, opts.fix, add);
      continue;
    }
    if (name.startsWith(TEMP_PREFIX) || name.startsWith(`${LOCK_NAME}.stale-`)) {
      staleFile(path, name, opts.fix, add);
      continue;
    }
    if (name === LOCK_NAME) {
      staleLock(path, opts.fix, add);
      continue;
    }
    if (!checkNode(path, s, 'file', me, opts.fix, add)) continue;
    if (parseEntryName(name)) {
      const text = readIfRegular(path);
      if (text !== undefined && !looksSealed(text)) {
        const { service, key } = parseEntryName(name)!;
        add({
          level: 'warn',
          message: 'plaintext credential left by the old shell script (never read as a credential)',
          path,
          fix: `mcp-tokens migrate (moves it into the vault and removes it; undo with mcp-tokens migrate --undo), or replace it: mcp-tokens store ${service} ${key}, or remove it: mcp-tokens delete ${service} ${key} (both keep its value as an encrypted backup)`,
        });
      }
    }
  }

  if (backend === 'keychain') {
    const kc = await import('../backends/keychain.js');
    const kcOpts = { service: kc.vaultService(parsed?.backend === 'keychain' ? parsed.id : undefined, opts.keychainService || kc.KEYCHAIN_SERVICE) };
    const probe = await kc.probeKeychain(kcOpts);
    if (probe.ok) add({ level: 'ok', message: `the OS keychain is reachable; this vault's items are under the service ${kcOpts.service}` });
    else add({ level: 'error', message: `the OS keychain is not reachable: ${probe.reason}`, fix: probe.hint, unavailable: true });
    if (parsed?.backend === 'keychain' && parsed.id === undefined) {
      shared = true;
      add({ level: 'warn', message: `this vault's items are under the service ${kcOpts.service}, which every vault made before vault ids shares`, path: join(dir, CONFIG_NAME), fix: 'the next mcp-tokens command that opens the vault moves them to its own service (e.g. mcp-tokens list)' });
    }
    if (probe.ok && !(await kc.readVaultKey(kcOpts))) {
      add({ level: 'error', message: `the keychain item ${kcOpts.service} / vault-key is missing: backups cannot be written`, fix: 'store it again with: mcp-tokens doctor --fix' });
      if (opts.fix) {
        const { newDataKey } = await import('./config.js');
        await kc.writeVaultKey(await newDataKey(), kcOpts);
        findings[findings.length - 1]!.fixed = true;
      }
    }
  }

  if (parsed) {
    // Blobs sealed under a key the vault no longer holds (a write that raced a rekey, an old copy).
    const ids = await currentKeyIds(parsed, opts.keychainService).catch(() => undefined);
    for (const f of ids ? filesUnderOlderKeys(dir, parsed.backend === 'file', ids) : []) {
      add({ level: 'error', message: `sealed under an older key (${f.kid}) that the vault no longer holds: it cannot be read`, path: f.path, fix: 'mcp-tokens rekey re-seals what it can open; restore the rest from a backup (mcp-tokens restore) or store it again' });
    }
  }

  if (backend) {
    // A backend move that was interrupted: the vault works, but stale copies sit in the other store.
    const { readMoveJournal } = await import('./move.js');
    try {
      const j = readMoveJournal(dir);
      if (j) add({ level: 'warn', message: `an interrupted move from the ${j.from} to the ${j.to} backend (the vault uses the ${backend} backend)`, path: join(dir, 'move.json'), fix: `mcp-tokens backend ${j.to} (finish) or mcp-tokens backend ${j.from} (undo)` });
    } catch (e) {
      add({ level: 'error', message: (e as Error).message, path: join(dir, 'move.json') });
    }
  }

  if (opts.passphraseFile) await checkPassphraseFile(dir, opts.passphraseFile, backend, me, opts.fix, add);

  const now = opts.now ?? new Date();
  for (const [name, m] of Object.entries(metadataIfSafe(dir))) {
    const t = m.storedAt ? Date.parse(m.storedAt) : NaN;
    if (!Number.isNaN(t) && now.getTime() - t > 90 * 86_400_000) {
      add({ level: 'warn', message: `${name.replace('_', ' ')} was stored ${Math.floor((now.getTime() - t) / 86_400_000)} days ago: rotation due`, fix: 'create a new token, store it, then revoke the old one' });
    }
  }
  if (!findings.some((f) => f.level !== 'ok')) add({ level: 'ok', message: 'permissions and files look right' });
  return { dir, backend, findings, ...(shared ? { sharedKeychainItems: true as const } : {}) };
}

/**
 * The passphrase file other commands would use: the same checks as a vault file (a link, a FIFO,
 * a foreign owner or a loose mode make every command refuse it; --fix repairs the mode), then
 * whether it opens this file vault.
 */
async function checkPassphraseFile(dir: string, file: string, backend: DoctorReport['backend'], me: number | undefined, fix: boolean, add: (f: Finding) => void): Promise<void> {
  const st = lstat(file);
  if (!st) {
    add({ level: 'error', message: 'MCP_TOKENS_PASSPHRASE_FILE names a file that does not exist', path: file, fix: 'create it with mode 0600, or unset the variable' });
    return;
  }
  if (!checkNode(file, st, 'file', me, fix, add)) return;
  if ((st.mode & 0o077) !== 0 && !fix) return; // reported above; commands refuse it until fixed
  if (backend !== 'file') return;
  const bytes = readIfRegular(file);
  if (bytes === undefined) return;
  const passphrase = new TextEncoder().encode(bytes.replace(/\r?\n$/, ''));
  const { Vault } = await import('./vault.js');
  try {
    const vault = await Vault.open({ dir, passphrase: async () => passphrase.slice() });
    vault.close(); // the file vault unwraps its data key at open: a wrong passphrase threw already
    add({ level: 'ok', message: 'the passphrase file (MCP_TOKENS_PASSPHRASE_FILE) opens the vault', path: file });
  } catch (e) {
    if (isVaultError(e, 'BAD_PASSPHRASE')) add({ level: 'error', message: 'the passphrase in MCP_TOKENS_PASSPHRASE_FILE does not open this vault', path: file, fix: 'put the vault passphrase in it (one line), or unset the variable' });
    // Anything else (a loose vault.json, a damaged one) is what the scan above reported.
  } finally {
    passphrase.fill(0);
  }
}

/** metadata.json for the age checks; a loose or linked one was already reported by the scan above. */
function metadataIfSafe(dir: string): ReturnType<typeof readMetadata> {
  try {
    return readMetadata(dir);
  } catch (e) {
    if (isVaultError(e, 'UNSAFE_PERMISSIONS')) return {};
    throw e;
  }
}

/** backups/ and, one level down, backups/files/ (migrate's encrypted copies of config files). */
function scanBackups(dir: string, me: number | undefined, fix: boolean, add: (f: Finding) => void, depth = 0): void {
  for (const name of fs.readdirSync(dir)) {
    const path = join(dir, name);
    const s = lstat(path);
    if (!s) continue;
    if (name.startsWith(TEMP_PREFIX)) staleFile(path, name, fix, add);
    else if (depth === 0 && name === 'files' && s.isDirectory()) {
      if (checkNode(path, s, 'dir', me, fix, add)) scanBackups(path, me, fix, add, 1);
    } else checkNode(path, s, 'file', me, fix, add);
  }
}

/** One file or directory; returns false when it must not be looked into further. */
function checkNode(path: string, st: fs.Stats, kind: 'file' | 'dir', me: number | undefined, fix: boolean, add: (f: Finding) => void): boolean {
  if (st.isSymbolicLink()) {
    add({ level: 'error', message: 'a symbolic link where a real ' + kind + ' belongs (never followed)', path, fix: `inspect it, then: rm '${path}'` });
    return false;
  }
  if (kind === 'dir' ? !st.isDirectory() : !st.isFile()) {
    add({ level: 'error', message: `${kindOf(st)} where a ${kind === 'dir' ? 'directory' : 'regular file'} belongs (never opened)`, path, fix: `inspect it, then move it out of the way: mv '${path}' '${path}.aside'` });
    return false;
  }
  if (me !== undefined && st.uid !== me) {
    add({ level: 'error', message: `owned by uid ${st.uid}, not by you (uid ${me})`, path, fix: `chown ${me} '${path}'` });
    return false;
  }
  if ((st.mode & 0o077) !== 0) {
    const want = kind === 'dir' ? 0o700 : 0o600;
    const finding: Finding = { level: 'error', message: `mode ${(st.mode & 0o777).toString(8)} lets other users in`, path, fix: `chmod ${want.toString(8)} '${path}'` };
    if (fix) finding.fixed = fchmodNoFollow(path, kind, want);
    add(finding);
  }
  return true;
}

function fchmodNoFollow(path: string, kind: 'file' | 'dir', mode: number): boolean {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | (kind === 'dir' ? fs.constants.O_DIRECTORY : 0);
  try {
    const fd = fs.openSync(path, flags);
    try {
      fs.fchmodSync(fd, mode);
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } catch {
    return false;
  }
}

function staleFile(path: string, name: string, fix: boolean, add: (f: Finding) => void): void {
  const m = /-(\d+)-[0-9a-f]{12}$/.exec(name);
  if (m && pidAlive(Number(m[1]))) return;
  const f: Finding = { level: 'warn', message: 'temporary file left by an interrupted write', path, fix: 'mcp-tokens doctor --fix' };
  if (fix) f.fixed = unlink(path);
  add(f);
}

function staleLock(path: string, fix: boolean, add: (f: Finding) => void): void {
  let state: ReturnType<typeof inspectLock>;
  try {
    state = inspectLock(path);
  } catch (e) {
    add({ level: 'error', message: (e as Error).message, path, fix: `inspect it, then: rm '${path}'` });
    return;
  }
  if (!state) return;
  if (state.kind === 'held') {
    add({ level: 'ok', message: `the vault is in use: ${describeHolder(state)}`, path });
    return;
  }
  const f: Finding = { level: 'warn', message: `stale lock left by an interrupted command (${state.why})`, path, fix: 'mcp-tokens doctor --fix' };
  if (fix) f.fixed = breakIfStale(path);
  add(f);
}

function lstat(path: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(path);
  } catch {
    return undefined;
  }
}

function unlink(path: string): boolean {
  try {
    fs.unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}
