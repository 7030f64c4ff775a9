/**
 * One access-log record for this process (audit/log.ts): who is reading (the parent process's
 * name, whether stdin is an MCP client's pipe), what (entry names) and, for `run`, which program.
 * A log that cannot be written never stops the read: the caller gets a warning to print once.
 */
import * as fs from 'node:fs';
import { isatty } from 'node:tty';
import { entryName } from '../names.js';
import { findOnPath } from '../path-lookup.js';
import type { KeyHandle } from '../crypto/keyhandle.js';
import { appendRecord, type AccessRecord } from './log.js';

export interface AccessInfo {
  cmd: string;
  /** Entry names ({service}_{key}) or [service, key] pairs read. */
  names: Iterable<string>;
  /** run: argv[0] of the command started. */
  program?: string | undefined;
}

/** The record for this process; the program's path is looked up as PATH finds it (for the record only). */
export function accessRecord(info: AccessInfo, now = new Date()): AccessRecord {
  const rec: AccessRecord = { t: now.toISOString(), cmd: info.cmd, names: [...new Set(info.names)].sort(), pid: process.pid };
  if (info.program !== undefined) {
    rec.program = info.program;
    const path = info.program.includes('/') ? info.program : findOnPath(info.program, process.env['PATH']);
    if (path !== undefined) rec.path = path.startsWith('/') ? path : `${process.cwd()}/${path}`;
  }
  const parent = parentName();
  if (parent !== undefined) rec.parent = parent;
  rec.client = clientKind();
  return rec;
}

let warned = false;

/**
 * Append the record; on failure warn once (per process) and go on. key is asked only when the
 * log is on. Resolves without throwing.
 */
export async function logAccess(dir: string, key: () => Promise<KeyHandle>, info: AccessInfo, warn: (m: string) => void): Promise<void> {
  try {
    await appendRecord(dir, key, accessRecord(info));
  } catch (e) {
    if (warned) return;
    warned = true;
    warn(`could not write the access log in ${dir} (${(e as Error).message}); the command goes on without a record`);
  }
}

export function names(pairs: Iterable<readonly [string, string]>): string[] {
  return [...pairs].map(([s, k]) => entryName(s, k));
}

function parentName(): string | undefined {
  try {
    return fs.readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim().slice(0, 64) || undefined;
  } catch {
    return undefined;
  }
}

function clientKind(): string {
  try {
    const st = fs.fstatSync(0);
    if (st.isFIFO() || st.isSocket()) return 'MCP client';
    if (st.isCharacterDevice()) return isatty(0) ? 'terminal' : 'other';
    return 'other';
  } catch {
    return 'other';
  }
}
