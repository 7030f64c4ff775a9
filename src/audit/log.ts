/**
 * The access log (issue 29): one sealed record per read of credentials (`load`, `run`, `export`,
 * `verify`, the unlock agent's opens), appended to `access.log` in the vault directory.
 *
 * Line format, one record per line:
 *   L1 <prev> <state> <sealed blob>            (the blob is crypto/format.ts's one-line JSON)
 * prev is the chain hash (hex of the first 16 bytes of SHA-256) of the record line this one
 * followed, `-` for the first record of a log; state is `on` or `off` (`log --off` writes an `off`
 * record and appending stops until `log --on`). The blob seals the record's JSON under the vault's
 * data key with AD "mcp-tokens/v1/log" ‖ lp("record") ‖ lp(prev) ‖ lp(state): an edited record,
 * prev or state fails to open, and a record cannot be moved after another one.
 *
 * `access.log.tail` holds one sealed blob (AD kind "tail") of {first, size, last}: the chain hash
 * of the log's first record, the log's size after the last append, and the last record's hash.
 * A log shorter than that size, or without that record, was cut. Past MAX_BYTES the log becomes
 * `access.log.1` (one older generation is kept) and a new one starts, chained to it.
 *
 * Appending takes no lock: one write(2) of one line with O_APPEND (whole lines, never
 * interleaved), then the tail marker replaced by rename. Concurrent appenders may chain to the
 * same previous record (a fork), which reading accepts: a record's prev must name an earlier one,
 * or be `-` in a log whose first record's is too (appenders that all found it empty).
 */
import * as fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { VaultError, isVaultError } from '../errors.js';
import { concat } from '../crypto/format.js';
import { openWithHandles, type KeyHandle } from '../crypto/keyhandle.js';
import { checkStat, readSecureText, TEMP_PREFIX, writeAtomic } from '../vault/fsutil.js';
import { failpoint } from '../vault/failpoint.js';

export const LOG_NAME = 'access.log';
export const OLD_LOG_NAME = 'access.log.1';
export const TAIL_NAME = 'access.log.tail';
/** Size at which the log rotates; with one older generation the log keeps at most twice this. */
export const MAX_BYTES = 1024 * 1024;
/** Longest record line: more names or longer paths are cut to fit. */
const MAX_LINE = 8 * 1024;

export type LogState = 'on' | 'off';

export interface AccessRecord {
  /** ISO time. */
  t: string;
  /** load, run, export, verify, agent, log --off, log --on, rekey. */
  cmd: string;
  /** Entry names read ({service}_{key}), never values. */
  names: string[];
  /** run: the command as given (argv[0]) and the file it resolves to on PATH. */
  program?: string;
  path?: string;
  /** The parent process's name (/proc/<ppid>/comm). */
  parent?: string;
  /** 'MCP client' (stdin is a pipe or socket), 'terminal' or 'other'. */
  client?: string;
  pid: number;
}

export interface ReadRecord extends AccessRecord {
  state: LogState;
}

export interface LogReport {
  records: ReadRecord[];
  /** What does not verify: edited or cut records, a missing or stale tail marker. */
  problems: string[];
  /** Records sealed under a key this vault no longer holds (a rekey that raced an append). */
  unreadable: number;
}

const te = new TextEncoder();
const td = new TextDecoder();

function lp(s: string): Uint8Array {
  const b = te.encode(s);
  const n = new Uint8Array(4);
  new DataView(n.buffer).setUint32(0, b.length, false);
  return concat(n, b);
}

/** The AD of a log record or of the tail marker (the unlock agent accepts it: agent/protocol.ts). */
export function logAd(kind: 'record' | 'tail', prev: string, state: string): Uint8Array {
  return concat(te.encode('mcp-tokens/v1/log'), lp(kind), lp(prev), lp(state));
}

export function chainHash(line: string): string {
  return createHash('sha256').update(line).digest().subarray(0, 16).toString('hex');
}

const LINE_RE = /^L1 (-|[0-9a-f]{32}) (on|off) (\{[^\n]*\}\n)$/;

interface Parsed {
  prev: string;
  state: LogState;
  blob: string;
}

function parseLine(line: string): Parsed | undefined {
  const m = LINE_RE.exec(line);
  return m ? { prev: m[1]!, state: m[2] as LogState, blob: m[3]! } : undefined;
}

/** Whether appending is on: the state of the last record (no key needed). */
export function logState(dir: string): LogState {
  const last = lastLine(join(dir, LOG_NAME));
  return (last && parseLine(last)?.state) || 'on';
}

/**
 * Append one record; resolves 'off' (nothing written) when the log is turned off, unless the
 * record itself sets the state (`log --on` / `--off`). `key` is asked only when a record is written.
 */
export async function appendRecord(
  dir: string,
  key: () => Promise<KeyHandle>,
  record: AccessRecord,
  opts: { state?: LogState; maxBytes?: number } = {},
): Promise<'written' | 'off'> {
  const path = join(dir, LOG_NAME);
  const fd = openLog(path);
  let ours: string;
  let size: number;
  let first: string;
  try {
    const st = fs.fstatSync(fd);
    const prevLine = st.size > 0 ? readLast(fd, st.size) : lastLine(join(dir, OLD_LOG_NAME));
    const prevState = (prevLine && parseLine(prevLine)?.state) || 'on';
    if (opts.state === undefined && prevState === 'off') return 'off';
    const state = opts.state ?? 'on';
    const prev = prevLine ? chainHash(prevLine) : '-';
    const rec = fit(record);
    const handle = await key();
    const blob = await handle.seal(te.encode(JSON.stringify(rec)), logAd('record', prev, state));
    ours = `L1 ${prev} ${state} ${blob}`;
    // A new log gets a marker first ("a log begins"), so a kill -9 right after its first record
    // does not leave a log without one, which reading would have to report.
    if (st.size === 0 && !fs.existsSync(join(dir, TAIL_NAME))) {
      writeMarker(dir, await handle.seal(te.encode(JSON.stringify({ first: '', size: 0, last: '' })), logAd('tail', '', '')));
    }
    fs.writeSync(fd, ours); // O_APPEND: one write, one whole line
    failpoint('log:appended');
    const after = fs.fstatSync(fd);
    size = after.size;
    first = size === Buffer.byteLength(ours) ? ours : (readFirst(fd) ?? ours);
    if (size > (opts.maxBytes ?? MAX_BYTES)) rotate(dir, after.ino);
  } finally {
    fs.closeSync(fd);
  }
  // The marker names the log it was written for by its first record, so a rotation is no cut.
  const marker = JSON.stringify({ first: chainHash(first), size, last: chainHash(ours) });
  writeMarker(dir, await (await key()).seal(te.encode(marker), logAd('tail', '', '')));
  return 'written';
}

/** Read and verify both generations; records that verify are returned, oldest first. */
export async function readLog(dir: string, keys: readonly KeyHandle[]): Promise<LogReport> {
  const report: LogReport = { records: [], problems: [], unreadable: 0 };
  const files = [
    { name: OLD_LOG_NAME, text: readSecureText(join(dir, OLD_LOG_NAME)) },
    { name: LOG_NAME, text: await readSettled(join(dir, LOG_NAME)) },
  ];
  const seen = new Set<string>();
  const firsts = new Map<string, { name: string; size: number; hashes: Set<string> }>();
  for (const [i, f] of files.entries()) {
    if (f.text === undefined || f.text === '') continue;
    const lines = f.text.split(/(?<=\n)/);
    // A log that began with no predecessor: appenders that all found it empty chain to nothing,
    // and any of them may land after another's record (its key or seal took longer).
    const begun = parseLine(lines[0]!)?.prev === '-';
    const hashes = new Set<string>();
    let size = 0;
    for (const [n, line] of lines.entries()) {
      const where = `${f.name} record ${n + 1}`;
      const p = parseLine(line);
      if (!p) {
        report.problems.push(line.endsWith('\n') ? `${where} is damaged` : `${where} is cut short (the log was truncated mid-record)`);
        continue;
      }
      const h = chainHash(line);
      if (seen.has(h)) report.problems.push(`${where} repeats an earlier record`);
      // The first record of the oldest generation may follow one rotated away; any other must
      // follow a record still here (a removed record breaks the chain of the next one), or
      // follow nothing in the oldest generation when its first record does too.
      const oldest = i === 0 || files[0]!.text === undefined || files[0]!.text === '';
      if (p.prev === '-' ? !(oldest && (n === 0 || begun)) : !seen.has(p.prev) && !(n === 0 && oldest)) {
        report.problems.push(`${where} follows a record that is not in the log (records before it were removed)`);
      }
      seen.add(h);
      hashes.add(h);
      size += Buffer.byteLength(line);
      try {
        const { bytes } = await openWithHandles(keys, p.blob, logAd('record', p.prev, p.state), where);
        report.records.push({ ...(JSON.parse(td.decode(bytes)) as AccessRecord), state: p.state });
      } catch (e) {
        if (!isVaultError(e, 'INTEGRITY')) throw e;
        if (e.reason === 'older-key') report.unreadable++;
        else report.problems.push(`${where} was edited (it does not verify)`);
      }
    }
    firsts.set(chainHash(lines[0]!), { name: f.name, size, hashes });
  }
  const tailText = readSecureText(join(dir, TAIL_NAME));
  if (firsts.size > 0 && tailText === undefined) {
    report.problems.push(`${TAIL_NAME} is missing: whether the log was cut cannot be told (it is written after every record; a kill -9 during the very first one can leave it out)`);
  } else if (tailText !== undefined) {
    try {
      const { bytes } = await openWithHandles(keys, tailText, logAd('tail', '', ''), TAIL_NAME);
      const m = JSON.parse(td.decode(bytes)) as { first: string; size: number; last: string };
      const log = firsts.get(m.first);
      if (m.first === '') {
        /* written as the log began: nothing was recorded yet */
      } else if (!log) report.problems.push(`the log is not the one ${TAIL_NAME} was written for (${LOG_NAME} was replaced or its beginning removed)`);
      else if (log.size < m.size || !log.hashes.has(m.last)) report.problems.push(`${log.name} was cut: it ends before its last recorded record (${m.size} bytes expected, ${log.size} found)`);
    } catch (e) {
      if (!isVaultError(e, 'INTEGRITY')) throw e;
      if (e.reason === 'older-key') report.unreadable++;
      else report.problems.push(`${TAIL_NAME} was edited (it does not verify)`);
    }
  }
  return report;
}

/**
 * Re-seal both generations and the marker under keys[0] (rekey, backend moves), the chain rebuilt
 * in order. Records no key opens are kept as they are (reading reports them). A record appended
 * by a reader while this runs may be lost with the old file: readers take no lock.
 */
export async function resealLog(dir: string, keys: readonly KeyHandle[]): Promise<number> {
  const renamed = new Map<string, string>();
  let count = 0;
  let lastFirst: string | undefined;
  let lastSize = 0;
  let lastHash: string | undefined;
  for (const name of [OLD_LOG_NAME, LOG_NAME]) {
    const text = readSecureText(join(dir, name));
    if (!text) continue;
    let out = '';
    let first: string | undefined;
    for (const line of text.split(/(?<=\n)/)) {
      const p = parseLine(line);
      let next = line;
      if (p) {
        try {
          const { bytes, index } = await openWithHandles(keys, p.blob, logAd('record', p.prev, p.state), name);
          const prev = renamed.get(p.prev) ?? p.prev;
          if (index !== 0 || prev !== p.prev) {
            next = `L1 ${prev} ${p.state} ${await keys[0]!.seal(bytes, logAd('record', prev, p.state))}`;
            count++;
          }
          bytes.fill(0);
        } catch (e) {
          if (!isVaultError(e, 'INTEGRITY')) throw e;
        }
      }
      renamed.set(chainHash(line), chainHash(next));
      first ??= next;
      out += next;
      lastHash = chainHash(next);
    }
    if (out !== text) writeAtomic(dir, name, out); // rekey holds the lock: the vault's atomic write
    lastFirst = first && chainHash(first);
    lastSize = Buffer.byteLength(out);
  }
  if (lastFirst && lastHash) {
    writeMarker(dir, await keys[0]!.seal(te.encode(JSON.stringify({ first: lastFirst, size: lastSize, last: lastHash })), logAd('tail', '', '')));
  }
  return count;
}

/** What a record holds, cut to one bounded line: names and paths are short by nature. */
function fit(r: AccessRecord): AccessRecord {
  const clip = (s: string | undefined, n: number) => (s === undefined ? undefined : s.length > n ? `${s.slice(0, n)}…` : s);
  const out: AccessRecord = { t: r.t, cmd: clip(r.cmd, 40)!, names: r.names.slice(0, 100).map((n) => clip(n, 80)!), pid: r.pid };
  for (const k of ['program', 'path', 'parent', 'client'] as const) {
    const v = clip(r[k], 1024);
    if (v !== undefined) out[k] = v;
  }
  if (JSON.stringify(out).length > MAX_LINE / 2) out.names = out.names.slice(0, 10);
  return out;
}

function openLog(path: string): number {
  const { O_RDWR, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VaultError('IO', `cannot open the access log ${path}${code === 'ELOOP' ? ': it is a symbolic link' : ` (${code ?? (e as Error).message})`}`, { cause: e });
  }
  try {
    checkStat(path, fs.fstatSync(fd), 'file');
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

function readAt(fd: number, start: number, length: number): string {
  const buf = Buffer.alloc(length);
  const n = fs.readSync(fd, buf, 0, length, start);
  return buf.subarray(0, n).toString('utf8');
}

/** The last whole line of an open log of `size` bytes. */
/**
 * The log's text once no append is half-seen: a record another process is appending can be read
 * before its write is whole (it ends without its newline for a moment). Only a last line that
 * stays cut is reported as one.
 */
async function readSettled(path: string): Promise<string | undefined> {
  let text = readSecureText(path);
  for (let i = 0; i < 10 && text !== undefined && text !== '' && !text.endsWith('\n'); i++) {
    await new Promise((r) => setTimeout(r, 20));
    text = readSecureText(path);
  }
  return text;
}

function readLast(fd: number, size: number): string | undefined {
  const span = Math.min(size, MAX_LINE * 3);
  const text = readAt(fd, size - span, span);
  // A last line without its newline is one another process is appending right now (its write
  // can be seen before it is whole) or a cut one: chain to the whole line before it, as two
  // appenders that read the same last line both do. Chaining to nothing would be reported.
  const end = text.lastIndexOf('\n');
  if (end < 0) return undefined;
  const lines = text.slice(0, end + 1).split(/(?<=\n)/);
  return span === size || lines.length > 1 ? lines.at(-1) : undefined;
}

function readFirst(fd: number): string | undefined {
  const text = readAt(fd, 0, MAX_LINE * 2);
  const nl = text.indexOf('\n');
  return nl < 0 ? undefined : text.slice(0, nl + 1);
}

function lastLine(path: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    return st.isFile() && st.size > 0 ? readLast(fd, st.size) : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** access.log → access.log.1, only while access.log is still the file this appender wrote to. */
function rotate(dir: string, ino: number): void {
  try {
    if (fs.lstatSync(join(dir, LOG_NAME)).ino === ino) fs.renameSync(join(dir, LOG_NAME), join(dir, OLD_LOG_NAME));
  } catch {
    /* another appender rotated it first */
  }
}

/** Replace a small file by rename, without fsync: the marker is rewritten after every record. */
function writeMarker(dir: string, text: string): void {
  const tmp = join(dir, `${TEMP_PREFIX}${TAIL_NAME}-${process.pid}-${randomBytes(6).toString('hex')}`);
  const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, join(dir, TAIL_NAME));
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
