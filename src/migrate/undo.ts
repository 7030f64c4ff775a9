/**
 * undoMigration: put back, byte for byte and with their modes, the files one `migrate` run
 * changed — by default the latest run whose changes are still in place (a later run that failed
 * or changed nothing does not hide it), or any run by its id. Values stay in the vault (they are
 * harmless there, and deleting them could lose one). A file edited since the migration is not
 * overwritten unless `force`: the user's later edits would be lost. A removed legacy file is
 * restored only where nothing sits at its path now — in a file-backend vault the vault's own
 * encrypted entry may live there. A plaintext original is only ever written at the absolute path
 * it was read from, with its original mode.
 */
import { isAbsolute } from 'node:path';
import { VaultError } from '../errors.js';
import { looksSealed } from '../crypto/format.js';
import { atomicWrite, readNoFollow, sha256 } from './fsutil.js';
import type { FileBackup, MigrationTarget } from './types.js';

export interface UndoOptions {
  force?: boolean;
  /** The run to undo (see listRuns); default: the latest run whose changes are still in place. */
  runId?: string;
}

export interface UndoOutcome {
  path: string;
  /** The symlink the run followed to `path`; undo writes `path` and leaves the link as it is. */
  link?: string;
  outcome: 'restored' | 'unchanged' | 'skipped' | 'failed';
  reason?: string;
}

export interface UndoResult {
  /** The run undone, or undefined when no run has changes left to undo. */
  runId: string | undefined;
  files: UndoOutcome[];
  ok: boolean;
}

export interface RunSummary {
  runId: string;
  /** When its first file was backed up (ISO). */
  startedAt: string;
  /** `link`: the symlink the run followed to `path` (the file it changed). */
  files: { path: string; link?: string; state: FileState }[];
  /** 'in place': every change is still there; 'undone': none is; 'partly': some. */
  state: 'in place' | 'undone' | 'partly';
}

type FileState = 'changed' | 'original' | 'edited since';

/** One backup per file per run; should a run have saved two, the first is the original. */
function byRun(all: readonly FileBackup[]): Map<string, FileBackup[]> {
  const runs = new Map<string, Map<string, FileBackup>>();
  for (const b of [...all].sort((a, c) => a.createdAt.localeCompare(c.createdAt))) {
    const files = runs.get(b.runId) ?? new Map<string, FileBackup>();
    if (!files.has(b.path)) files.set(b.path, b);
    runs.set(b.runId, files);
  }
  return new Map([...runs].sort(([a], [c]) => a.localeCompare(c)).map(([id, f]) => [id, [...f.values()]]));
}

/** The value an old script's token file held, as migrate read it. */
function legacyValue(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8').replace(/^\uFEFF/, '').trim();
}

/** Whether the file still holds what the run wrote (or is still gone), or its original again. */
async function stateOf(target: MigrationTarget, b: FileBackup): Promise<FileState> {
  const now = await readNoFollow(b.path, 64 * 1024 * 1024);
  if (b.after === null) {
    if (!now.ok) return now.absent ? 'changed' : 'edited since';
  } else if (now.ok && sha256(now.file.bytes) === b.after) return 'changed';
  if (!now.ok) return 'edited since';
  const original = Buffer.from(await target.readFileBackup(b.id));
  if (now.file.bytes.equals(original)) return 'original';
  // A file vault's own entry at the old file's path, holding the value migrated from it.
  if (b.entry && looksSealed(now.file.bytes.toString('utf8')) && (await target.get(b.entry.service, b.entry.key).catch(() => undefined)) === legacyValue(original)) {
    return 'changed';
  }
  return 'edited since';
}

/** Every run that backed up a file, oldest first, with what is in place now. */
export async function listRuns(target: MigrationTarget): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (const [runId, backups] of byRun(await target.listFileBackups())) {
    const files = [];
    for (const b of backups) files.push({ path: b.path, ...(b.link !== undefined ? { link: b.link } : {}), state: await stateOf(target, b) });
    const changed = files.filter((f) => f.state === 'changed').length;
    const state = changed === files.length ? 'in place' : changed === 0 && files.every((f) => f.state === 'original') ? 'undone' : 'partly';
    out.push({ runId, startedAt: backups[0]!.createdAt, files, state });
  }
  return out;
}

export async function undoMigration(target: MigrationTarget, o: UndoOptions = {}): Promise<UndoResult> {
  const runs = byRun(await target.listFileBackups());
  let runId = o.runId;
  if (runId !== undefined && !runs.has(runId)) {
    throw new VaultError('NOT_FOUND', `no migrate run ${runId}`, { hint: "list the runs with 'mcp-tokens migrate --history'" });
  }
  if (runId === undefined) {
    // The latest run whose changes are still in place: a later run that failed or changed
    // nothing hides nothing. Failing that, the latest with a file edited since (undo then says
    // --force); a legacy file whose path now holds the vault's own entry does not count.
    const latest = async (wanted: (b: FileBackup, s: FileState) => boolean): Promise<string | undefined> => {
      for (const [id, backups] of [...runs].reverse()) {
        for (const b of backups) if (wanted(b, await stateOf(target, b))) return id;
      }
      return undefined;
    };
    runId = (await latest((_, s) => s === 'changed')) ?? (await latest((b, s) => s === 'edited since' && b.after !== null));
  }
  if (runId === undefined) return { runId, files: [], ok: true };
  const files: UndoOutcome[] = [];
  for (const b of runs.get(runId)!) {
    const r = await restore(target, b, o.force ?? false);
    files.push(b.link !== undefined ? { path: r.path, link: b.link, outcome: r.outcome, ...(r.reason !== undefined ? { reason: r.reason } : {}) } : r);
  }
  return { runId, files, ok: files.every((f) => f.outcome !== 'failed') };
}

async function restore(target: MigrationTarget, b: FileBackup, force: boolean): Promise<UndoOutcome> {
  const path = b.path;
  try {
    // A journal of an older version may hold a relative path: writing it here would put a
    // plaintext file in whatever folder undo runs from.
    if (!isAbsolute(path)) return { path, outcome: 'skipped', reason: 'recorded with a relative path; not restored anywhere else than where it came from' };
    const original = Buffer.from(await target.readFileBackup(b.id));
    const now = await readNoFollow(path, 64 * 1024 * 1024);
    if (now.ok && now.file.bytes.equals(original)) return { path, outcome: 'unchanged' };
    if (!now.ok && !now.absent) return { path, outcome: 'skipped', reason: `${path} ${now.reason}` };
    if (b.after === null && now.ok) {
      if (b.entry && target.putBackLegacy) {
        // The old script's file in a file vault: the vault's entry took its path.
        const { service, key } = b.entry;
        const r = await target.putBackLegacy(service, key, legacyValue(original), path, original, b.mode);
        if (r === 'restored') return { path, outcome: 'restored', reason: `in place of the vault's ${service} ${key} entry (its value is kept as an encrypted backup)` };
        if (r === 'changed') {
          return { path, outcome: 'skipped', reason: `the vault's ${service} ${key} was changed after the migration; not overwritten (the old file's bytes stay in the encrypted journal)` };
        }
      }
      return { path, outcome: 'skipped', reason: 'another file now sits at this path (a new file, or a vault entry not made by this run); not overwritten' };
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
