/** metadata.json: non-secret, advisory facts per credential. A damaged file is ignored, not fatal. */
import { join } from 'node:path';
import { readSecureText, writeAtomic } from './fsutil.js';
import { VaultError } from '../errors.js';

export const METADATA_NAME = 'metadata.json';

export interface EntryMeta {
  storedAt?: string;
  verifiedAt?: string;
  verifyStatus?: string;
  expiresAt?: string;
}

export type Metadata = Record<string, EntryMeta>;

/** One `export`: when, to which age recipients (public keys), which entries (names only). */
export interface ExportRecord {
  at: string;
  to: string[];
  entries: string[];
}

/** The export log keeps its newest records only; it is advisory, not an audit trail. */
const MAX_EXPORTS = 200;

export function readMetadata(dir: string): Metadata {
  let text: string | undefined;
  try {
    text = readSecureText(join(dir, METADATA_NAME));
  } catch (e) {
    if (e instanceof VaultError && e.code === 'UNSAFE_PERMISSIONS') throw e;
    return {};
  }
  if (text === undefined) return {};
  try {
    const doc = JSON.parse(text) as { v?: unknown; entries?: unknown };
    if (doc.v !== 1 || typeof doc.entries !== 'object' || doc.entries === null) return {};
    const out: Metadata = {};
    for (const [name, m] of Object.entries(doc.entries as Record<string, unknown>)) {
      if (typeof m !== 'object' || m === null) continue;
      const rec = m as Record<string, unknown>;
      const e: EntryMeta = {};
      for (const k of ['storedAt', 'verifiedAt', 'verifyStatus', 'expiresAt'] as const) {
        const v = rec[k];
        if (typeof v === 'string') e[k] = v;
      }
      out[name] = e;
    }
    return out;
  } catch {
    return {};
  }
}

/** Callers hold the vault lock: the export log on disk is carried over unchanged. */
export function writeMetadata(dir: string, meta: Metadata, exports: ExportRecord[] = readExports(dir)): void {
  const sorted = Object.fromEntries(Object.entries(meta).sort(([a], [b]) => a.localeCompare(b)));
  const doc = exports.length > 0 ? { v: 1, entries: sorted, exports } : { v: 1, entries: sorted };
  writeAtomic(dir, METADATA_NAME, `${JSON.stringify(doc, null, 2)}\n`);
}

/** The export log (oldest first); a damaged file or record is skipped. */
export function readExports(dir: string): ExportRecord[] {
  let doc: { exports?: unknown };
  try {
    doc = JSON.parse(readSecureText(join(dir, METADATA_NAME)) ?? '{}') as { exports?: unknown };
  } catch (e) {
    if (e instanceof VaultError && e.code === 'UNSAFE_PERMISSIONS') throw e;
    return [];
  }
  if (!Array.isArray(doc.exports)) return [];
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  return doc.exports.flatMap((r: unknown) => {
    const rec = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    const { at, to, entries } = rec;
    return typeof at === 'string' && strings(to) && strings(entries) ? [{ at, to, entries }] : [];
  });
}

export function appendExport(dir: string, record: ExportRecord): void {
  writeMetadata(dir, readMetadata(dir), [...readExports(dir), record].slice(-MAX_EXPORTS));
}

/**
 * Under the lock: what a transaction records in metadata.json — a store (a patch with storedAt
 * replaces the entry's record) or a delete (undefined) — gathered and written once, however many
 * entries it touched. metadata.json is advisory: a failed write is a warning, not an error.
 */
export class MetadataBatch {
  private readonly changes = new Map<string, EntryMeta | undefined>();

  constructor(private readonly dir: string) {}

  set(name: string, patch: EntryMeta | undefined): void {
    this.changes.set(name, patch);
  }

  /** Write the changes (one read, one write); the warning to give when that failed. */
  flush(): string | undefined {
    if (this.changes.size === 0) return undefined;
    try {
      const meta = readMetadata(this.dir);
      for (const [name, patch] of this.changes) {
        if (patch === undefined) delete meta[name];
        else if ('storedAt' in patch) meta[name] = patch;
        else meta[name] = { ...meta[name], ...patch };
      }
      writeMetadata(this.dir, meta);
      return undefined;
    } catch (e) {
      return `could not update metadata.json (${(e as Error).message}); the credential itself is safe`;
    } finally {
      this.changes.clear();
    }
  }
}

export interface VerificationRecord {
  name: string;
  status: string;
  at: Date;
  storedAt?: string | undefined;
}

/**
 * Under the lock: record verification results, one write. `storedAt` is the entry's storedAt
 * when its value was read for the check: an entry stored again meanwhile keeps no verdict about
 * the value it replaced.
 */
export function recordVerifications(dir: string, results: readonly VerificationRecord[]): void {
  const meta = readMetadata(dir);
  let changed = false;
  for (const r of results) {
    if (meta[r.name]?.storedAt !== r.storedAt) continue;
    meta[r.name] = { ...meta[r.name], verifiedAt: r.at.toISOString(), verifyStatus: r.status };
    changed = true;
  }
  if (changed) writeMetadata(dir, meta);
}
