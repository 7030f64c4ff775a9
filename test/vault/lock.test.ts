/**
 * The vault lock (src/vault/lock.ts): one holder at a time, in-process and across processes;
 * a bounded wait that names the holder; recovery from a lock left by a dead process, from one
 * that is too old, and from an unwritten (garbage) one once it has sat there; release removes
 * only our own lock; asides left by a killed lock-breaker are cleaned up.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
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

/** A separate Node process that holds the lock on dir for holdMs (via the built dist/). */
function holder(dir: string, holdMs: number) {
  const code = `
    const { withLock } = await import(${JSON.stringify(join(REPO, 'dist/vault/lock.js'))});
    const { writeFileSync } = await import('node:fs');
    await withLock(process.argv[1], async () => {
      process.stdout.write('held\\n');
      await new Promise((r) => setTimeout(r, Number(process.argv[2])));
      writeFileSync(process.argv[1] + '/child-done', 'x');
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, dir, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
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
    const h = holder(dir, 3000);
    await h.held;
    const started = Date.now();
    const err = await withLock(dir, async () => 'got it', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2500);
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
    const started = Date.now();
    expect(await withLock(dir, async () => 'ok', { timeoutMs: 5000 })).toBe('ok');
    expect(Date.now() - started).toBeLessThan(1000);
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
    utimesSync(path, new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
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
