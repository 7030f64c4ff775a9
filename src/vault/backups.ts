/** Encrypted backups: backups/{service}[@{instance}]_{key}.{YYYYMMDDTHHMMSSmmmZ}[-N].backup, 0600 (DESIGN.md §3). */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { VaultError, ioError } from '../errors.js';
import { entryAd } from '../crypto/format.js';
import { openText, sealText, type KeyHandle } from '../crypto/keyhandle.js';
import { parseEntryName } from '../names.js';
import { ensureDir, readSecureText, removeFile, writeExclusive, fsyncDir } from './fsutil.js';
import type { Tx } from './transaction.js';

export const BACKUPS_DIR = 'backups';
const BACKUP_RE = /^([a-z][a-z0-9-]{0,31}(?:@[a-z][a-z0-9-]{0,31})?_[a-z][a-z0-9-]{0,31})\.(\d{8}T\d{9}Z)(?:-(\d+))?\.backup$/;

export interface BackupInfo {
  file: string;
  path: string;
  service: string;
  key: string;
  /** The name's timestamp, e.g. 20261127T115000123Z (with -N when several share a millisecond). */
  stamp: string;
  date: Date;
}

export function timestamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('.', '');
}

export function parseStamp(stamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(stamp);
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function parseBackupName(dir: string, file: string): BackupInfo | undefined {
  const m = BACKUP_RE.exec(file);
  if (!m) return undefined;
  const parts = parseEntryName(m[1]!);
  const date = parseStamp(m[2]!);
  if (!parts || !date) return undefined;
  const stamp = m[3] === undefined ? m[2]! : `${m[2]}-${m[3]}`;
  return { file, path: join(dir, file), service: parts.service, key: parts.key, stamp, date };
}

/** Write an encrypted backup of value; never replaces an existing backup. Returns its file name. */
export async function writeBackup(
  backupsDir: string,
  handle: KeyHandle,
  service: string,
  key: string,
  value: string,
  now: Date,
): Promise<string> {
  ensureDir(backupsDir, true);
  const text = await sealText(handle, value, entryAd('backup', service, key));
  const base = `${service}_${key}.${timestamp(now)}`;
  for (let n = 0; n < 1000; n++) {
    const file = n === 0 ? `${base}.backup` : `${base}-${n}.backup`;
    if (writeExclusive(backupsDir, file, text)) return file;
  }
  throw new VaultError('IO', `cannot name a backup for ${service} ${key}: too many in one millisecond`);
}

/** Backups, oldest first; optionally of one service (and key). */
export function listBackups(backupsDir: string, service?: string, key?: string): BackupInfo[] {
  if (!ensureDir(backupsDir, false)) return [];
  let files: string[];
  try {
    files = fs.readdirSync(backupsDir);
  } catch (e) {
    throw ioError('list', backupsDir, e);
  }
  const out: BackupInfo[] = [];
  for (const f of files) {
    const b = parseBackupName(backupsDir, f);
    if (!b) continue;
    if (service !== undefined && b.service !== service) continue;
    if (key !== undefined && b.key !== key) continue;
    out.push(b);
  }
  return out.sort((a, b) => a.date.getTime() - b.date.getTime() || seq(a) - seq(b));
}

function seq(b: BackupInfo): number {
  const m = /-(\d+)$/.exec(b.stamp);
  return m ? Number(m[1]) : 0;
}

export async function readBackup(keys: readonly KeyHandle[], b: BackupInfo): Promise<string> {
  const text = readSecureText(b.path);
  if (text === undefined) throw new VaultError('NOT_FOUND', `backup ${b.file} disappeared`);
  return openText(keys, text, entryAd('backup', b.service, b.key), b.path);
}

export function removeBackups(backupsDir: string, list: readonly BackupInfo[], onProgress?: (done: number, total: number) => void): number {
  let n = 0;
  for (const [i, b] of list.entries()) {
    if (removeFile(b.path)) n++;
    onProgress?.(i + 1, list.length);
  }
  if (n > 0) fsyncDir(backupsDir);
  return n;
}

/** In a transaction: back up value (sealed with the current key); at defaults to now. Returns the file name. */
export async function takeBackup(tx: Tx, service: string, key: string, value: string, at?: Date): Promise<string> {
  return writeBackup(join(tx.dir, BACKUPS_DIR), await tx.key(), service, key, value, at ?? tx.now());
}

/** In a transaction: remove the backups older than cutoff (ms since the epoch); returns them. */
export function pruneBackups(tx: Tx, cutoff: number, onProgress?: (done: number, total: number) => void): BackupInfo[] {
  const backupsDir = join(tx.dir, BACKUPS_DIR);
  const old = listBackups(backupsDir).filter((b) => b.date.getTime() < cutoff);
  removeBackups(backupsDir, old, onProgress);
  return old;
}

/** The value held by the backup file `file` (a name as listed by listBackups). */
export async function readBackupFile(backupsDir: string, keys: readonly KeyHandle[], file: string): Promise<string> {
  const info = parseBackupName(backupsDir, file);
  if (!info) throw new VaultError('NOT_FOUND', `no backup named ${file}`);
  return readBackup(keys, info);
}
