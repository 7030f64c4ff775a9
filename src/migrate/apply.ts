/**
 * applyMigration. The order is what makes a crash (kill -9) or failure at any point safe:
 *   1. store each value, read it back, compare;            (a value may now be in both places)
 *   2. import legacy backups, read them back, compare;
 *   3. only for values that passed: back up each file (encrypted, through the target), then
 *      replace it atomically or shred and unlink it.
 * Anything not verified keeps its plaintext source byte-for-byte.
 */
import { randomBytes } from 'node:crypto';
import { VaultError } from '../errors.js';
import { decide, fieldId } from './decide.js';
import { atomicWrite, readNoFollow, readSource, sha256, shredIfUnchanged } from './fsutil.js';
import { pausePoint } from '../vault/failpoint.js';
import { planInternals } from './plan.js';
import { newContent } from './content.js';
import { leftovers } from './left.js';
import type { FileChange, Leftover, MigrationPlan, MigrationTarget, PlanItem } from './types.js';

export type ApplyEvent =
  | { type: 'stored'; service: string; key: string }
  | { type: 'backup-imported'; path: string }
  | { type: 'file-saved'; path: string }
  | { type: 'file-changed'; path: string };

export interface ApplyOptions {
  /** Progress, in order; the CLI may show it, the crash tests kill the process on one. */
  onEvent?: (e: ApplyEvent) => void;
  now?: () => Date;
}

export interface FileOutcome {
  path: string;
  /** A symlink followed: the file that was (or would have been) written; the link is never replaced. */
  target?: string;
  outcome: 'rewritten' | 'removed' | 'replaced-by-vault' | 'skipped' | 'failed';
  reason?: string;
  backupId?: string;
}

export interface MigrationResult {
  runId: string;
  stored: { service: string; key: string }[];
  failed: { service: string; key: string; error: string }[];
  backupsImported: number;
  files: FileOutcome[];
  /** The plan's items with the cleanup that actually happened. */
  items: PlanItem[];
  /** Plaintext secrets left after the run: the CLI exits 1 unless this is empty. */
  left: Leftover[];
  /** Every store and file change that was attempted succeeded. */
  ok: boolean;
}

export async function applyMigration(plan: MigrationPlan, target: MigrationTarget, o: ApplyOptions = {}): Promise<MigrationResult> {
  const internals = planInternals(plan);
  const emit = o.onEvent ?? (() => undefined);
  const runId = `${stamp((o.now ?? (() => new Date()))())}-${randomBytes(3).toString('hex')}`;
  const result: MigrationResult = { runId, stored: [], failed: [], backupsImported: 0, files: [], items: [], left: [], ok: true };

  // 1. Values. One store per service/key; every item of it shares the outcome.
  const verified = new Set<string>();
  let broken: string | undefined;
  const groups = new Map<string, PlanItem[]>();
  for (const i of plan.items) {
    if (i.action !== 'store' && i.action !== 'same') continue;
    const id = fieldId(i.candidate.service, i.candidate.key);
    groups.set(id, [...(groups.get(id) ?? []), i]);
  }
  // The old script's files go into the undo journal before their value is stored: a file vault
  // in the same directory renames its entry over the file in that store.
  const journaled = new Map<string, string>();
  for (const [id, group] of groups) {
    const { service, key, value } = group.find((i) => i.action === 'store')?.candidate ?? group[0]!.candidate;
    const storing = group.some((i) => i.action === 'store');
    try {
      if (broken && storing) throw new VaultError('FAILED', `not attempted after an earlier failure (${broken})`);
      if (storing) {
        for (const i of group) if (i.candidate.kind === 'legacy-file') await journalLegacy(i, plan, target, runId, journaled, emit);
        await target.store(service, key, value);
      }
      if ((await target.get(service, key)) !== value) {
        throw new VaultError('INTEGRITY', `${service} ${key}: the vault did not return the value just stored`);
      }
      verified.add(id);
      if (storing) {
        result.stored.push({ service, key });
        emit({ type: 'stored', service, key });
      }
    } catch (e) {
      const error = message(e);
      result.failed.push({ service, key, error });
      if (storing && !broken) broken = `${service} ${key}: ${error}`;
    }
  }

  // 2. Legacy backups become encrypted backups.
  const backedUp = new Set<PlanItem>();
  for (const i of plan.items) {
    if (i.action !== 'backup' || broken) continue;
    const { service, key, value, takenAt } = i.candidate;
    try {
      const id = await target.importBackup(service, key, value, takenAt);
      if ((await target.readBackup(id)) !== value) throw new VaultError('INTEGRITY', 'the backup did not read back');
      backedUp.add(i);
      result.backupsImported++;
      emit({ type: 'backup-imported', path: i.candidate.path! });
    } catch (e) {
      broken = `${service} ${key} backup: ${message(e)}`;
      result.failed.push({ service, key, error: broken });
    }
  }

  // 3. Files, only for what is verified.
  const inVault = new Set([...internals.vault].filter(([, v]) => v !== undefined).map(([id]) => id));
  for (const id of verified) inVault.add(id);
  const safe = (i: PlanItem): boolean =>
    i.action === 'backup' ? backedUp.has(i) : verified.has(fieldId(i.candidate.service, i.candidate.key)) && i.action !== 'conflict' && i.action !== 'invalid';
  const { files, cleanup } = decide(plan.items, internals.sources, safe, inVault);
  for (const change of files) result.files.push(await changeFile(change, plan, target, runId, emit, journaled));

  const failedPaths = new Set(result.files.filter((f) => f.outcome === 'failed' || f.outcome === 'skipped').map((f) => f.path));
  result.items = plan.items.map((i) => {
    const c = cleanup.get(i) ?? { cleanup: 'keep' as const };
    const undone = i.candidate.path !== undefined && failedPaths.has(i.candidate.path) && c.cleanup !== 'report';
    const why = undone ? result.files.find((f) => f.path === i.candidate.path)?.reason : undefined;
    const reason = why ? `the file was not changed: ${why}` : c.reason;
    return { ...i, candidate: i.candidate, cleanup: undone ? 'keep' : c.cleanup, ...(reason ? { reason } : {}) };
  });
  result.left = leftovers(plan, result.items);
  result.ok = result.failed.length === 0 && failedPaths.size === 0;
  return result;
}

async function changeFile(
  change: FileChange,
  plan: MigrationPlan,
  target: MigrationTarget,
  runId: string,
  emit: (e: ApplyEvent) => void,
  journaled: ReadonlyMap<string, string>,
): Promise<FileOutcome> {
  const { sources, snapshots, links } = planInternals(plan);
  const path = change.path;
  const before = snapshots.get(path);
  const saved = journaled.get(path);
  // A symlink the plan followed: it must still lead to the same file (same inode), which is the
  // one backed up and replaced; the link itself is left as it is.
  const link = change.kind === 'legacy' ? undefined : links.get(path);
  const written = link?.target ?? path;
  const shown = link ? { target: link.target } : {};
  const readNow = (): ReturnType<typeof readNoFollow> => (link ? readSource(path, 64 * 1024 * 1024, link) : readNoFollow(path, 64 * 1024 * 1024));
  try {
    const read = await readNow();
    // The file backend may already have replaced a legacy file with its encrypted entry.
    if (!read.ok || !before || !read.file.bytes.equals(before)) {
      if (change.kind === 'legacy') return { path, outcome: 'replaced-by-vault', ...(saved ? { backupId: saved } : {}) };
      const why = !read.ok && link && !read.absent ? `${path} ${read.reason}` : 'changed since it was read; re-run migrate';
      return { path, ...shown, outcome: 'skipped', reason: why };
    }
    const after = change.kind === 'legacy' ? undefined : newContent(change, read.file, sources);
    const meta = { runId, path: written, ...(link ? { link: path } : {}), mode: read.file.mode, after: after ? sha256(after) : null };
    const backupId = saved ?? (await target.saveFileBackup(meta, read.file.bytes));
    if (!saved) emit({ type: 'file-saved', path });
    if (!after) {
      const r = await shredIfUnchanged(path, read.file.bytes);
      emit({ type: 'file-changed', path });
      return { path, outcome: r === 'removed' ? 'removed' : 'replaced-by-vault', backupId };
    }
    await pausePoint('before-write');
    // Another program (Claude Code rewrites ~/.claude.json) may have written meanwhile, or a
    // link been pointed elsewhere.
    const again = await readNow();
    if (!again.ok || !again.file.bytes.equals(read.file.bytes)) {
      const why = !again.ok && link && !again.absent ? `${path} ${again.reason}` : 'changed while migrating; re-run migrate';
      return { path, ...shown, outcome: 'skipped', reason: why, backupId };
    }
    await atomicWrite(written, after, read.file.mode);
    emit({ type: 'file-changed', path });
    return { path, ...shown, outcome: 'rewritten', backupId };
  } catch (e) {
    return { path, ...shown, outcome: 'failed', reason: message(e) };
  }
}

/** Keep an old script's token file in the undo journal (once per run), while it is as it was read. */
async function journalLegacy(
  i: PlanItem,
  plan: MigrationPlan,
  target: MigrationTarget,
  runId: string,
  journaled: Map<string, string>,
  emit: (e: ApplyEvent) => void,
): Promise<void> {
  const { path, service, key } = i.candidate;
  if (path === undefined || journaled.has(path)) return;
  const before = planInternals(plan).snapshots.get(path);
  const read = await readNoFollow(path, 64 * 1024 * 1024);
  if (!read.ok || !before || !read.file.bytes.equals(before)) return; // changeFile says what happened
  const id = await target.saveFileBackup({ runId, path, mode: read.file.mode, after: null, entry: { service, key } }, read.file.bytes);
  journaled.set(path, id);
  emit({ type: 'file-saved', path });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `YYYYMMDDTHHMMSSmmmZ`, the timestamp format of backups. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:.]/g, '');
}
