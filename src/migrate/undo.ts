/**
 * undoMigration: put back, byte for byte and with their modes, the files the last `migrate` run
 * changed. Values stay in the vault (they are harmless there, and deleting them could lose one).
 * A file edited since the migration is not overwritten unless `force`: the user's later edits
 * would be lost. A removed legacy file is restored only where nothing sits at its path now — in a
 * file-backend vault the vault's own encrypted entry may live there.
 */
import { atomicWrite, readNoFollow, sha256 } from './fsutil.js';
import type { FileBackup, MigrationTarget } from './types.js';

export interface UndoOptions {
  force?: boolean;
}

export interface UndoOutcome {
  path: string;
  outcome: 'restored' | 'unchanged' | 'skipped' | 'failed';
  reason?: string;
}

export interface UndoResult {
  /** The run undone, or undefined when no migration left backups. */
  runId: string | undefined;
  files: UndoOutcome[];
  ok: boolean;
}

export async function undoMigration(target: MigrationTarget, o: UndoOptions = {}): Promise<UndoResult> {
  const all = await target.listFileBackups();
  const runId = all.map((b) => b.runId).sort().at(-1);
  if (runId === undefined) return { runId, files: [], ok: true };
  // One backup per file per run; should a run have saved two, the first is the original.
  const byPath = new Map<string, FileBackup>();
  for (const b of all.filter((x) => x.runId === runId).sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
    if (!byPath.has(b.path)) byPath.set(b.path, b);
  }
  const files: UndoOutcome[] = [];
  for (const b of byPath.values()) files.push(await restore(target, b, o.force ?? false));
  return { runId, files, ok: files.every((f) => f.outcome !== 'failed') };
}

async function restore(target: MigrationTarget, b: FileBackup, force: boolean): Promise<UndoOutcome> {
  const path = b.path;
  try {
    const original = Buffer.from(await target.readFileBackup(b.id));
    const now = await readNoFollow(path, 64 * 1024 * 1024);
    if (now.ok && now.file.bytes.equals(original)) return { path, outcome: 'unchanged' };
    if (!now.ok && !now.absent) return { path, outcome: 'skipped', reason: `${path} ${now.reason}` };
    if (b.after === null && now.ok) {
      return { path, outcome: 'skipped', reason: 'another file now sits at this path (the vault entry, or a new file); not overwritten' };
    }
    if (b.after !== null && !force) {
      if (!now.ok) return { path, outcome: 'skipped', reason: 'the file was removed after the migration; use --force to restore it' };
      if (sha256(now.file.bytes) !== b.after) {
        return { path, outcome: 'skipped', reason: 'the file was edited after the migration; use --force to restore it anyway' };
      }
    }
    await atomicWrite(path, original, b.mode);
    return { path, outcome: 'restored' };
  } catch (e) {
    return { path, outcome: 'failed', reason: e instanceof Error ? e.message : String(e) };
  }
}
