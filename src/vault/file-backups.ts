/**
 * migrate's file backups (backups/files/{runId}-{random}.file, vault/migration-target.ts): the
 * sealing write (in a transaction), and the listing and removal `backups` and `prune` use. The run id starts with the run's UTC timestamp
 * (migrate/apply.ts), so a file backup is dated by its name, like a credential's backup, and
 * listed without the passphrase. The newest run is never pruned: `migrate --undo` needs it.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { ioError } from '../errors.js';
import { parseStamp } from './backups.js';
import { fileAd } from '../crypto/format.js';
import { ensureDir, fsyncDir, removeFile, writeExclusive } from './fsutil.js';
import type { Tx } from './transaction.js';

export const FILE_BACKUPS_DIR = 'files';
const FILE_RE = /^((\d{8}T\d{9}Z)-[A-Za-z0-9]{1,40})-[0-9a-f]{8}\.file$/;

export interface FileBackupInfo {
  file: string;
  path: string;
  runId: string;
  date: Date;
}

/** migrate's file backups, oldest run first; names that are not one are left out. */
export function listFileBackups(backupsDir: string): FileBackupInfo[] {
  const dir = join(backupsDir, FILE_BACKUPS_DIR);
  if (!ensureDir(dir, false)) return [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw ioError('list', dir, e);
  }
  const out: FileBackupInfo[] = [];
  for (const file of names) {
    const m = FILE_RE.exec(file);
    const date = m ? parseStamp(m[2]!) : undefined;
    if (m && date) out.push({ file, path: join(dir, file), runId: m[1]!, date });
  }
  return out.sort((a, b) => a.date.getTime() - b.date.getTime() || a.runId.localeCompare(b.runId) || a.file.localeCompare(b.file));
}

/** The file backups older than cutoff, except every file of the newest run. */
export function prunableFileBackups(all: readonly FileBackupInfo[], cutoffMs: number): FileBackupInfo[] {
  const newest = all.at(-1)?.runId;
  return all.filter((b) => b.runId !== newest && b.date.getTime() < cutoffMs);
}

export function removeFileBackups(backupsDir: string, list: readonly FileBackupInfo[]): number {
  let n = 0;
  for (const b of list) if (removeFile(b.path)) n++;
  if (n > 0) fsyncDir(join(backupsDir, FILE_BACKUPS_DIR));
  return n;
}

/** In a transaction: seal doc as the file backup `id` in folder, bound to its name; false when the name is taken. */
export async function writeFileBackup(tx: Tx, folder: string, id: string, doc: Uint8Array): Promise<boolean> {
  return writeExclusive(folder, id, await (await tx.key()).seal(doc, fileAd(id)));
}
