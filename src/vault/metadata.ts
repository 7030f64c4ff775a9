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

export function writeMetadata(dir: string, meta: Metadata): void {
  const sorted = Object.fromEntries(Object.entries(meta).sort(([a], [b]) => a.localeCompare(b)));
  writeAtomic(dir, METADATA_NAME, `${JSON.stringify({ v: 1, entries: sorted }, null, 2)}\n`);
}

export function updateMetadata(dir: string, name: string, patch: EntryMeta | undefined): void {
  const meta = readMetadata(dir);
  if (patch === undefined) delete meta[name];
  else meta[name] = { ...meta[name], ...patch };
  writeMetadata(dir, meta);
}
