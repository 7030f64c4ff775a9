/**
 * The vault lock (src/vault/lock.ts): one holder at a time, in-process and across processes;
 * a bounded wait that names the holder; recovery from a lock left by a dead process, from one
 * that is too old, and from an unwritten (garbage) one once it has sat there; release removes
 * only our own lock; asides left by a killed lock-breaker are cleaned up.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isVaultError } from '../../src/errors.js';
import { LOCK_NAME, withLock } from '../../src/vault/lock.js';
import { REPO, ensureBuilt, tempHome } from '../helpers/cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freshDir = () => {
  const d = join(tempHome('mcpt-lock-'), 'vault');
  mkdirSync(d, { mode: 0o700 });
  return d;
};

/**
 * A separate Node process that holds the lock on dir for holdMs (via the built dist/), optionally
 * started through a wrapper command such as `unshare -p -f --mount-proc`.
 */
function holder(dir: string, holdMs: number, wrapper: string[] = []) {
  const code = `
    const { withLock } = await import(${JSON.stringify(join(REPO, 'dist/vault/lock.js'))});
    const { writeFileSync } = await import('node:fs');
    await withLock(process.argv[1], async () => {
      process.stdout.write('held\\n');
      await new Promise((r) => setTimeout(r, Number(process.argv[2])));
      writeFileSync(process.argv[1] + '/child-done', 'x');
    }, { heartbeatMs: 100 });`;
  const argv = [...wrapper, process.execPath, '--input-type=module', '-e', code, dir, String(holdMs)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const held = new Promise<void>((resolve) => child.stdout.on('data', (b: Buffer) => b.toString().includes('held') && resolve()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, held, exited };
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

beforeAll(() => ensureBuilt());

describe('withLock', () => {
  it('runs in-process callers one at a time and removes the lock afterwards', async () => {
    const dir = freshDir();
    let inside = 0;
    let most = 0;
    let ran = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withLock(dir, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(5);
          inside--;
          ran++;
        }),
      ),
    );
    expect(ran).toBe(10);
    expect(most).toBe(1);
    expect(existsSync(join(dir, LOCK_NAME))).toBe(false);
  });

  it('waits for a holder in another process', async () => {
    const dir = freshDir();
    const h = holder(dir, 700);
    await h.held;
    let sawDone = false;
    await withLock(dir, async () => {
      sawDone = existsSync(join(dir, 'child-done'));
    });
    await h.exited;
    expect(sawDone).toBe(true);
  });

  it('gives up after the timeout with LOCKED, naming the lock file and the holder', async () => {
    const dir = freshDir();
    const h = holder(dir, 60_000);
    await h.held;
    const started = Date.now();
    const err = await withLock(dir, async () => 'got it', { timeoutMs: 300 }).catch((e: unknown) => e);
    // The holder holds for a minute: LOCKED at all means it gave up; the bound (far above 300 ms,
    // far below the holder's minute) that it gave up after its own timeout, not the holder's.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(isVaultError(err, 'LOCKED')).toBe(true);
    expect((err as Error).message).toContain(join(dir, LOCK_NAME));
    expect((err as Error).message).toContain(`held by process ${h.child.pid}`);
    h.child.kill('SIGKILL');
    await h.exited;
    // The holder died without releasing: its lock is stale now and is taken over.
    expect(await withLock(dir, async () => 'after', { timeoutMs: 2000 })).toBe('after');
  });

  it('takes over a lock left by a dead process at once', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, LOCK_NAME), `${await deadPid()} ${Date.now()} dead\n`);
    // Fresh mtime: judged live, the lock would be waited on until the timeout and fail LOCKED.
    expect(await withLock(dir, async () => 'ok', { timeoutMs: 30_000 })).toBe('ok');
    expect(existsSync(join(dir, LOCK_NAME))).toBe(false);
  });

  it('takes over a lock older than two minutes even if its pid is alive', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, LOCK_NAME), `${process.ppid} ${Date.now() - 200_000} old\n`);
    expect(await withLock(dir, async () => 'ok', { timeoutMs: 3000 })).toBe('ok');
  });

  it('waits on a fresh unwritten lock, and takes it over once it has sat there', async () => {
    const dir = freshDir();
    const path = join(dir, LOCK_NAME);
    writeFileSync(path, '');
    const err = await withLock(dir, async () => 'no', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(isVaultError(err, 'LOCKED')).toBe(true);
    utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect(await withLock(dir, async () => 'ok', { timeoutMs: 3000 })).toBe('ok');
  });

  it('release leaves alone a lock that is no longer ours', async () => {
    const dir = freshDir();
    const path = join(dir, LOCK_NAME);
    const foreign = `${process.ppid} ${Date.now()} someone-else\n`;
    await withLock(dir, async () => writeFileSync(path, foreign));
    expect(readFileSync(path, 'utf8')).toBe(foreign);
  });

  it('removes .lock.stale-* asides left by a breaker killed mid-way', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, `${LOCK_NAME}.stale-0123456789ab`), `${await deadPid()} 1 x\n`);
    await withLock(dir, async () => undefined);
    expect(readdirSync(dir)).toEqual([]);
  });
});

/** The identity fields a lock written by this process carries. */
function myIdentity() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return {
    v: 2,
    host: hostname(),
    boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    pidns: readlinkSync('/proc/self/ns/pid'),
    start: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19],
  };
}

const canUnshare = process.platform === 'linux' && process.getuid?.() === 0 && spawnSync('unshare', ['-p', '-f', '--mount-proc', 'true']).status === 0;

describe('lock staleness (who may break a lock)', () => {
  it('records host, boot id, PID namespace, pid and start time, and keeps the mtime fresh while held', async () => {
    const dir = freshDir();
    const path = join(dir, LOCK_NAME);
    await withLock(
      dir,
      async () => {
        const rec = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
        expect(rec).toMatchObject({ ...myIdentity(), pid: process.pid });
        expect(Math.abs(Date.now() - (rec['since'] as number))).toBeLessThan(5000);
        const old = new Date(Date.now() - 600_000);
        utimesSync(path, old, old);
        await sleep(400);
        expect(Date.now() - statSync(path).mtimeMs).toBeLessThan(5000);
      },
      { heartbeatMs: 50 },
    );
    expect(existsSync(path)).toBe(false);
  });

  it('a holder killed -9 loses its lock at once', async () => {
    const dir = freshDir();
    const h = holder(dir, 30_000);
    await h.held;
    h.child.kill('SIGKILL');
    await h.exited;
    const started = Date.now();
    // Judged live, the lock would be waited on for the whole timeout (30 s) and fail LOCKED.
    expect(await withLock(dir, async () => 'mine', { timeoutMs: 30_000 })).toBe('mine');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a lock whose pid now belongs to another process (start time differs) is stale', async () => {
    const dir = freshDir();
    // Our own pid, alive, but recorded with another start time: the holder was another process.
    const rec = { ...myIdentity(), pid: process.pid, start: '1', since: Date.now(), nonce: 'reused' };
    writeFileSync(join(dir, LOCK_NAME), `${JSON.stringify(rec)}\n`);
    expect(await withLock(dir, async () => 'ok', { timeoutMs: 1000 })).toBe('ok');
  });

  it('a holder paused (SIGSTOP) for 150 s keeps its lock: the waiter times out and names it', async () => {
    const dir = freshDir();
    const path = join(dir, LOCK_NAME);
    const h = holder(dir, 2000);
    await h.held;
    h.child.kill('SIGSTOP');
    try {
      // 150 s of silence: the heartbeat stopped that long ago, and the waiter's clock says so.
      const then = new Date(Date.now() - 150_000);
      utimesSync(path, then, then);
      const err = await withLock(dir, async () => 'stolen', { timeoutMs: 500, now: () => Date.now() + 150_000 }).catch((e: unknown) => e);
      expect(isVaultError(err, 'LOCKED')).toBe(true);
      const msg = (err as Error).message;
      expect(msg).toContain(`held by process ${h.child.pid} on host ${hostname()} since `);
      expect(msg).toMatch(/last heartbeat \d+ s ago/);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: h.child.pid });
    } finally {
      h.child.kill('SIGCONT');
    }
    await h.exited;
    expect(existsSync(join(dir, 'child-done'))).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it.skipIf(!canUnshare)('a holder in another PID namespace keeps its lock while its heartbeat runs, and loses it once the heartbeat stops', async () => {
    const dir = freshDir();
    const path = join(dir, LOCK_NAME);
    const h = holder(dir, 30_000, ['unshare', '-p', '-f', '--kill-child', '--mount-proc']);
    try {
      await h.held;
      const rec = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; pidns: string };
      // Its pid means nothing here (pid 1 in its namespace is our init, alive, started long ago).
      expect(rec.pidns).not.toBe(readlinkSync('/proc/self/ns/pid'));
      expect(rec.pid).not.toBe(h.child.pid);
      const err = await withLock(dir, async () => 'stolen', { timeoutMs: 1500 }).catch((e: unknown) => e);
      expect(isVaultError(err, 'LOCKED')).toBe(true);
      expect((err as Error).message).toContain(`held by process ${rec.pid} on host`);
      // Its heartbeat (every 100 ms) keeps the mtime fresh even when the lock looks old.
      const then = new Date(Date.now() - 150_000);
      utimesSync(path, then, then);
      await sleep(500);
      expect(Date.now() - statSync(path).mtimeMs).toBeLessThan(5000);
      // Stop it: a heartbeat silent for minutes means it is gone.
      h.child.kill('SIGKILL');
      await h.exited;
      expect(existsSync(path)).toBe(true);
      const later = Date.now() + 150_000;
      expect(await withLock(dir, async () => 'taken', { timeoutMs: 5000, now: () => later })).toBe('taken');
    } finally {
      h.child.kill('SIGKILL');
    }
  }, 20_000);

  it('garbage in the lock file: waited on while fresh, taken over once untouched', async () => {
    const dir = freshDir();
    const path = join(dir, LOCK_NAME);
    writeFileSync(path, '{"v":2,"host":');
    const err = await withLock(dir, async () => 'no', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(isVaultError(err, 'LOCKED')).toBe(true);
    expect(await withLock(dir, async () => 'ok', { timeoutMs: 1000, now: () => Date.now() + 60_000 })).toBe('ok');
  });

  it('a FIFO or a symlink in place of the lock is refused at once, naming the path', async () => {
    for (const make of [(p: string) => spawnSync('mkfifo', [p]), (p: string) => spawnSync('ln', ['-s', '/dev/null', p])]) {
      const dir = freshDir();
      const path = join(dir, LOCK_NAME);
      make(path);
      const started = Date.now();
      // Waited on, it would take the whole timeout (30 s); opened blocking, a FIFO would hang.
      const err = await withLock(dir, async () => 'no', { timeoutMs: 30_000 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(isVaultError(err, 'UNSAFE_PERMISSIONS')).toBe(true);
      expect((err as Error).message).toContain(path);
    }
  });

  it('the heartbeat timer never keeps a process alive', async () => {
    const dir = freshDir();
    const code = `
      const { withLock } = await import(${JSON.stringify(join(REPO, 'dist/vault/lock.js'))});
      await withLock(process.argv[1], () => new Promise(() => {}), { heartbeatMs: 10 });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code, dir], { stdio: 'ignore' });
    // A pending promise and an unref'd interval: node exits (code 13, unsettled top-level await).
    const guard = setTimeout(() => child.kill('SIGKILL'), 5000);
    const exit = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    clearTimeout(guard);
    expect(exit).toBe(13);
  });
});
