/**
 * Inter-process lock on the vault directory for read-modify-write sequences (DESIGN.md §6).
 *
 * The lock is a file created whole (a temp file opened O_EXCL|O_NOFOLLOW, then link(2)) holding
 * one JSON line that identifies the
 * holder: host name, kernel boot id, PID namespace, pid, the process start time (field 22 of
 * /proc/<pid>/stat) and when it took the lock. While held, a heartbeat (an unref'd timer) bumps
 * the file's mtime every few seconds.
 *
 * A lock is broken only when its holder is provably gone:
 *  - same host, boot and PID namespace: the pid no longer exists or now belongs to a process
 *    that started at another time. A live holder with the same start time is never broken, however
 *    long it has been silent (stopped with SIGSTOP, waiting at a keyring prompt, a long KDF);
 *  - otherwise (another host sharing the directory, another PID namespace such as a container,
 *    a lock from before a reboot) its pid means nothing here: only a heartbeat silent for
 *    HEARTBEAT_DEAD_MS makes it stale.
 * A lock in the old "pid timestamp" format is judged as before (pid gone, or older than two
 * minutes); an unreadable one once it has not been touched for a while. When unsure we wait, and
 * a timeout names the holder. Breaking is atomic: the lock is renamed aside and re-checked.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { VaultError, ioError } from '../errors.js';
import { TEMP_PREFIX, pidAlive, unsafe } from './fsutil.js';

export const LOCK_NAME = '.lock';
export const HEARTBEAT_MS = 5_000;
/** A heartbeat silent this long (12 missed beats) means a holder we cannot see is gone. */
export const HEARTBEAT_DEAD_MS = 60_000;
const LEGACY_STALE_MS = 120_000;
/**
 * An unparsable lock left alone this long is stale. Ours are never seen half written (see
 * tryCreate); an older mcp-tokens wrote its "pid time" line just after creating the file.
 */
const GARBAGE_STALE_MS = 5_000;
const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

export interface LockOptions {
  timeoutMs?: number;
  /** The clock used to judge ages (tests move it forward instead of sleeping for minutes). */
  now?: () => number;
  heartbeatMs?: number;
}

/** Who holds a lock, as recorded in the lock file. */
export interface LockHolder {
  v: 2;
  host: string;
  boot: string;
  pidns: string;
  pid: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22); '' when unknown. */
  start: string;
  /** When the lock was taken (ms since the epoch). */
  since: number;
  nonce: string;
}

export type LockState =
  | { kind: 'held'; holder: LockHolder | undefined; text: string; mtimeMs: number; why: string }
  | { kind: 'stale'; holder: LockHolder | undefined; text: string; mtimeMs: number; why: string };

export async function withLock<T>(dir: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = await acquire(dir, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}

function lockTimeout(): number {
  const fromEnv = Number(process.env['MCP_TOKENS_LOCK_TIMEOUT_MS']);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 30_000;
}

async function acquire(dir: string, opts: LockOptions): Promise<() => void> {
  const path = join(dir, LOCK_NAME);
  const now = opts.now ?? Date.now;
  const me = selfIdentity();
  const deadline = Date.now() + (opts.timeoutMs ?? lockTimeout());
  let delay = 5;
  for (;;) {
    const mine: LockHolder = { ...me, since: now(), nonce: randomBytes(6).toString('hex') };
    const text = `${JSON.stringify(mine)}\n`;
    const fd = tryCreate(path, text);
    if (fd !== undefined) {
      removeAsides(dir);
      return startHeartbeat(path, fd, text, opts.heartbeatMs ?? HEARTBEAT_MS);
    }
    const state = inspectLock(path, now());
    if (state?.kind === 'stale') {
      breakStale(path, state.text, now);
      continue;
    }
    if (Date.now() > deadline) {
      throw new VaultError('LOCKED', `the vault is busy: could not take the lock ${path}${state ? ` (${describeHolder(state, now())})` : ''}`, {
        hint: 'another mcp-tokens command is running; wait for it to finish and run the command again (a lock whose holder is gone is taken over by itself)',
      });
    }
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
}

/**
 * Create the lock with its content already in place, so no reader ever sees it half written:
 * write a temp file, then link(2) it to the lock name (link never replaces an existing file).
 * Returns the lock's descriptor (kept open for the heartbeat), or undefined when the lock exists.
 * A temp file left by a kill -9 between the two steps is a stale temp like any other.
 */
function tryCreate(path: string, text: string): number | undefined {
  const tmp = join(dirname(path), `${TEMP_PREFIX}lock-${process.pid}-${randomBytes(6).toString('hex')}`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
  } catch (e) {
    throw ioError('create the lock', path, e);
  }
  try {
    fs.writeSync(fd, text);
    fs.linkSync(tmp, path);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw ioError('create the lock', path, e);
  } finally {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* never created */
    }
  }
}

/**
 * Bump the lock's mtime while it is held. futimes on our own descriptor touches our lock file even
 * if the name was swapped meanwhile; the timer is unref'd so it never keeps a process alive.
 */
function startHeartbeat(path: string, fd: number, text: string, everyMs: number): () => void {
  const timer = setInterval(() => {
    try {
      const t = new Date();
      fs.futimesSync(fd, t, t);
    } catch {
      /* the next beat tries again */
    }
  }, everyMs);
  timer.unref();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    clearInterval(timer);
    try {
      fs.closeSync(fd);
    } catch {
      /* closed already */
    }
    release(path, text);
  };
}

interface RawLock {
  text: string;
  mtimeMs: number;
}

/** Read the lock without following a link or blocking on a FIFO; undefined when there is none. */
function readLock(path: string): RawLock | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // released meanwhile
    if (code === 'ELOOP') throw unsafe(path, 'it is a symbolic link', `inspect it, then: rm '${path}'`);
    throw ioError('read the lock', path, e);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw unsafe(path, 'it is not a regular file (a FIFO, socket or device where the lock belongs)', `inspect it, then: rm '${path}'`);
    return { text: fs.readFileSync(fd, 'utf8'), mtimeMs: st.mtimeMs };
  } catch (e) {
    if (e instanceof VaultError) throw e;
    throw ioError('read the lock', path, e);
  } finally {
    fs.closeSync(fd);
  }
}

/** Judge the lock at path: held, stale (safe to break), or undefined when there is none. */
export function inspectLock(path: string, now = Date.now()): LockState | undefined {
  const raw = readLock(path);
  if (!raw) return undefined;
  const age = now - raw.mtimeMs;
  const holder = parseHolder(raw.text);
  const base = { holder, text: raw.text, mtimeMs: raw.mtimeMs };
  if (holder) return { ...base, ...judge(holder, age) };
  const legacy = /^(\d+) (\d+)(?: \S+)?\s*$/.exec(raw.text);
  if (legacy) {
    // Written by an older mcp-tokens, which has no heartbeat.
    const pid = Number(legacy[1]);
    if (!pidAlive(pid)) return { ...base, kind: 'stale', why: `process ${pid} is gone` };
    if (now - Number(legacy[2]) > LEGACY_STALE_MS) return { ...base, kind: 'stale', why: 'an old-format lock older than two minutes' };
    return { ...base, kind: 'held', why: `process ${pid} (old-format lock)` };
  }
  if (age > GARBAGE_STALE_MS) return { ...base, kind: 'stale', why: 'an unreadable lock left untouched' };
  return { ...base, kind: 'held', why: 'a lock being written' };
}

function judge(h: LockHolder, age: number): { kind: 'held' | 'stale'; why: string } {
  const me = selfIdentity();
  if (h.host === me.host && h.boot !== '' && h.boot === me.boot && h.pidns !== '' && h.pidns === me.pidns) {
    // Same kernel and PID namespace: the pid and its start time say for sure.
    const start = processStart(h.pid);
    if (start === undefined) return { kind: 'stale', why: `process ${h.pid} is gone` };
    if (h.start !== '' && start !== h.start) return { kind: 'stale', why: `process ${h.pid} is gone (its pid now belongs to another process)` };
    return { kind: 'held', why: 'its holder is running' };
  }
  if (h.host === me.host && h.boot === '' && me.boot === '' && !pidAlive(h.pid)) {
    // No /proc to tell namespaces apart (not Linux): a pid that does not exist is gone.
    return { kind: 'stale', why: `process ${h.pid} is gone` };
  }
  if (age > HEARTBEAT_DEAD_MS) return { kind: 'stale', why: `its heartbeat stopped ${Math.round(age / 1000)} s ago` };
  return { kind: 'held', why: 'its heartbeat is recent' };
}

function parseHolder(text: string): LockHolder | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string';
  if (o['v'] !== 2 || !str('host') || !str('boot') || !str('pidns') || !str('start') || !str('nonce')) return undefined;
  if (!Number.isSafeInteger(o['pid']) || (o['pid'] as number) <= 0 || typeof o['since'] !== 'number') return undefined;
  return o as unknown as LockHolder;
}

/** "held by process 123 on host box since 2026-…Z, last heartbeat 3 s ago" */
export function describeHolder(state: LockState, now = Date.now()): string {
  const beat = `last heartbeat ${Math.max(0, Math.round((now - state.mtimeMs) / 1000))} s ago`;
  const h = state.holder;
  if (!h) return `${state.why}, ${beat}`;
  return `held by process ${h.pid} on host ${h.host} since ${new Date(h.since).toISOString()}, ${beat}`;
}

let identity: Omit<LockHolder, 'since' | 'nonce'> | undefined;

function selfIdentity(): Omit<LockHolder, 'since' | 'nonce'> {
  // Cached per process, but a forked test worker has another pid: recompute when it changed.
  if (identity?.pid === process.pid) return identity;
  identity = {
    v: 2,
    host: hostname(),
    boot: readProc('/proc/sys/kernel/random/boot_id')?.trim() ?? '',
    pidns: readLinkOrEmpty('/proc/self/ns/pid'),
    pid: process.pid,
    start: processStart(process.pid) ?? '',
  };
  return identity;
}

/** Field 22 (starttime) of /proc/<pid>/stat; undefined when the process does not exist. */
export function processStart(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) {
    // No /proc (not Linux): fall back on whether the pid exists at all.
    return fs.existsSync('/proc/self/stat') || !pidAlive(pid) ? undefined : '';
  }
  // comm (field 2) may contain spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? '';
}

function readProc(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readLinkOrEmpty(path: string): string {
  try {
    return fs.readlinkSync(path);
  } catch {
    return '';
  }
}

/**
 * Move a stale lock aside and judge it again there; if what we moved is not the lock we judged
 * (it was replaced meanwhile) or it has come back to life (a heartbeat since), put it back.
 */
function breakStale(path: string, judgedText: string, now: () => number): void {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    fs.renameSync(path, aside);
  } catch {
    return; // someone else broke it first
  }
  let still: LockState | undefined;
  try {
    still = inspectLock(aside, now());
  } catch {
    still = undefined;
  }
  if (!still || still.text !== judgedText || still.kind !== 'stale') {
    try {
      fs.linkSync(aside, path);
    } catch {
      /* a new lock exists already; the mover will retry */
    }
  }
  try {
    fs.unlinkSync(aside);
  } catch {
    /* already gone */
  }
}

/** Break the lock at path if it is stale (doctor --fix); returns whether it is gone now. */
export function breakIfStale(path: string, now = Date.now()): boolean {
  const state = inspectLock(path, now);
  if (!state) return true;
  if (state.kind !== 'stale') return false;
  breakStale(path, state.text, () => now);
  return !fs.existsSync(path);
}

/**
 * Drop `.lock.stale-*` files left by a process killed between breakStale's rename and unlink.
 * Safe while we hold the lock: a breaker still running only compares or puts back its aside,
 * and a put-back cannot replace our lock (link(2) fails on an existing name).
 */
function removeAsides(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(`${LOCK_NAME}.stale-`)) continue;
    try {
      fs.unlinkSync(join(dir, n));
    } catch {
      /* gone already */
    }
  }
}

function release(path: string, text: string): void {
  let current: RawLock | undefined;
  try {
    current = readLock(path);
  } catch {
    return; // something else sits there now: not ours to remove
  }
  if (current?.text === text) {
    try {
      fs.unlinkSync(path);
    } catch {
      /* already gone */
    }
  }
}
