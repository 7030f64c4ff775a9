/**
 * The old shell script's plaintext files: `{dir}/{service}_{key}` (one value, usually with a
 * trailing newline) and `{dir}/backups/{service}_{key}.{timestamp}.backup`. The same names are used
 * by the file backend for encrypted entries and backups; those are one line of JSON and skipped.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { looksSealed } from '../../crypto/format.js';
import { parseEntryName } from '../../names.js';
import { readNoFollow, unreadable } from '../fsutil.js';
import { candidate, KNOWN_FIELDS } from '../known.js';
import type { Candidate, Refusal } from '../types.js';

const MAX_LEGACY_BYTES = 64 * 1024;

export interface LegacyScan {
  candidates: Candidate[];
  /** The bytes read, by path: cleanup only removes a file that still holds exactly these. */
  contents: Map<string, Buffer>;
  refused: Refusal[];
  /** Files other users could read (the old script wrote with the umask): path → mode. */
  loose: Map<string, number>;
}

export async function scanLegacy(dir: string): Promise<LegacyScan> {
  const scan: LegacyScan = { candidates: [], contents: new Map(), refused: [], loose: new Map() };
  for (const f of KNOWN_FIELDS) {
    const path = join(dir, `${f.service}_${f.key}`);
    const value = await readPlain(path, scan);
    if (value === undefined) continue;
    scan.candidates.push(candidate({ kind: 'legacy-file', source: 'legacy token file', path, service: f.service, key: f.key }, value));
  }
  const backups = join(dir, 'backups');
  const st = await fs.lstat(backups).catch(() => undefined);
  if (st?.isSymbolicLink()) scan.refused.push({ path: backups, reason: 'is a symbolic link; not followed' });
  if (!st?.isDirectory()) return scan;
  let names: string[];
  try {
    names = (await fs.readdir(backups)).sort();
  } catch (e) {
    scan.refused.push({ path: backups, reason: unreadable(e) });
    return scan;
  }
  for (const name of names) {
    const parsed = parseBackupName(name);
    if (!parsed || !KNOWN_FIELDS.some((f) => f.service === parsed.service && f.key === parsed.key)) continue;
    const path = join(backups, name);
    const value = await readPlain(path, scan);
    if (value === undefined) continue;
    const fields = { kind: 'legacy-backup', source: 'legacy backup file', path, service: parsed.service, key: parsed.key } as const;
    scan.candidates.push(candidate(parsed.takenAt ? { ...fields, takenAt: parsed.takenAt } : fields, value));
  }
  return scan;
}

/** The plaintext value of a legacy file, or undefined (absent, encrypted, refused, empty). */
async function readPlain(path: string, scan: LegacyScan): Promise<string | undefined> {
  try {
    return await readPlainFile(path, scan);
  } catch (e) {
    scan.refused.push({ path, reason: unreadable(e) }); // one file's failure is that file's line
    return undefined;
  }
}

async function readPlainFile(path: string, scan: LegacyScan): Promise<string | undefined> {
  const read = await readNoFollow(path, MAX_LEGACY_BYTES);
  if (!read.ok) {
    if (!read.absent) scan.refused.push({ path, reason: `${read.reason}: check it by hand`, mayHoldSecrets: /_token(\.|$)/.test(path) });
    return undefined;
  }
  const text = read.file.bytes.toString('utf8');
  if (looksSealed(text)) return undefined; // an entry of the vault itself (any blob version)
  if (read.file.bytes.length > 0 && read.file.bytes.every((b) => b === 0)) {
    scan.refused.push({ path, reason: 'holds only zero bytes (left by an interrupted migrate); safe to delete' });
    return undefined;
  }
  // `echo "$value" > file` adds a newline; editors may add CRLF or stray blanks.
  const value = text.replace(/^\uFEFF/, '').trim();
  if (value === '') return undefined;
  scan.contents.set(path, read.file.bytes);
  // A loose mode is no reason to refuse the file: it is the reason to move it (and to say so).
  if ((read.file.mode & 0o077) !== 0) scan.loose.set(path, read.file.mode);
  return value;
}

/**
 * `{service}_{key}.{timestamp}.backup`. The old script's timestamp was `date +%Y%m%d_%H%M%S`
 * or similar; ours is `YYYYMMDDTHHMMSSmmmZ`. Read any run of date digits, else keep no time.
 */
export function parseBackupName(name: string): { service: string; key: string; takenAt: Date | undefined } | undefined {
  const m = /^([^.]+)\.(.*)\.backup$/.exec(name);
  const parts = m && parseEntryName(m[1]!);
  if (!m || !parts) return undefined;
  return { service: parts.service, key: parts.key, takenAt: parseStamp(m[2]!) };
}

function parseStamp(stamp: string): Date | undefined {
  if (/^[0-9]{9,11}$/.test(stamp)) return new Date(Number(stamp) * 1000); // date +%s
  const d = stamp.replace(/[^0-9]/g, '');
  if (d.length < 14) return undefined;
  const [y, mo, da, h, mi, s] = [d.slice(0, 4), d.slice(4, 6), d.slice(6, 8), d.slice(8, 10), d.slice(10, 12), d.slice(12, 14)];
  const ms = d.length >= 17 ? d.slice(14, 17) : '000';
  const date = new Date(`${y}-${mo}-${da}T${h}:${mi}:${s}.${ms}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
