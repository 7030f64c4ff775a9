/**
 * Inter-process lock on the vault directory for read-modify-write sequences (DESIGN.md §6).
 * The lock is a file created with O_EXCL holding "pid timestamp". A lock whose process is gone
 * (kill -9) or that is older than STALE_MS is stale: it is moved aside atomically and the attempt
 * repeats. Waiting is bounded; a timeout names the lock file and its holder.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { VaultError, ioError } from '../errors.js';
import { pidAlive } from './fsutil.js';

export const LOCK_NAME = '.lock';
const STALE_MS = 120_000;
const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = fs.constants;

export interface LockOptions {
  timeoutMs?: number;
}

export async function withLock<T>(dir: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = await acquire(dir, opts.timeoutMs ?? lockTimeout());
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

async function acquire(dir: string, timeoutMs: number): Promise<() => void> {
  const path = join(dir, LOCK_NAME);
  const token = `${process.pid} ${Date.now()} ${randomBytes(4).toString('hex')}\n`;
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    if (tryCreate(path, token)) {
      removeAsides(dir);
      return () => release(path, token);
    }
    const holder = readHolder(path);
    if (holder !== undefined && isStale(holder, path)) {
      breakStale(path, holder);
      continue;
    }
    if (Date.now() > deadline) {
      const who = holder ? ` (held by process ${holder.split(' ')[0]})` : '';
      throw new VaultError('LOCKED', `the vault is busy: could not take the lock ${path}${who}`, {
        hint: 'another mcp-tokens command is running; wait for it, or remove the lock file if no such process exists',
      });
    }
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
}

function tryCreate(path: string, token: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw ioError('create the lock', path, e);
  }
  try {
    fs.writeSync(fd, token);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function readHolder(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined; // released meanwhile
  }
}

function isStale(holder: string, path: string): boolean {
  const [pid, at] = holder.trim().split(' ');
  if (pid === undefined || at === undefined) {
    // Created but not yet written, or garbage: stale only once it has sat there a while.
    try {
      return Date.now() - fs.statSync(path).mtimeMs > 2_000;
    } catch {
      return false;
    }
  }
  return !pidAlive(Number(pid)) || Date.now() - Number(at) > STALE_MS;
}

/** Move a stale lock aside; if what we moved turns out to be fresh, put it back. */
function breakStale(path: string, holder: string): void {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    fs.renameSync(path, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = readHolder(aside);
  if (moved !== holder) {
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

function release(path: string, token: string): void {
  if (readHolder(path) === token) {
    try {
      fs.unlinkSync(path);
    } catch {
      /* already gone */
    }
  }
}
