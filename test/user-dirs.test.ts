/**
 * The places found by uid alone (src/user-dirs.ts): /run/user/<uid> counts only as a real 0700
 * directory of the user's, and its bus only as a socket of the user's in it. Stand-ins replace
 * /run/user/<uid> here, as in every test.
 */
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runtimeDir, standardBus, type UserRoots } from '../src/user-dirs.js';

const made: string[] = [];
const servers: net.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function roots(): UserRoots & { base: string } {
  const base = mkdtempSync(join(tmpdir(), 'mcpt-userdirs-'));
  made.push(base);
  return { base, runUser: join(base, 'run'), tmp: base, home: base };
}

async function listen(path: string): Promise<void> {
  const s = net.createServer(() => undefined);
  servers.push(s);
  await new Promise<void>((ok) => s.listen(path, ok));
}

describe('runtimeDir and standardBus', () => {
  it('a 0700 directory of ours with a socket of ours at bus: the standard bus address', async () => {
    const r = roots();
    mkdirSync(r.runUser, { mode: 0o700 });
    await listen(join(r.runUser, 'bus'));
    expect(runtimeDir(r)).toBe(r.runUser);
    expect(standardBus(r)).toEqual({ address: `unix:path=${join(r.runUser, 'bus')}` });
  });

  it('missing, loosened or a symlink: no runtime directory, and no bus in it', async () => {
    const r = roots();
    expect(runtimeDir(r)).toBeUndefined();
    expect(standardBus(r)).toMatchObject({ why: expect.stringContaining(r.runUser) });
    mkdirSync(r.runUser, { mode: 0o700 });
    await listen(join(r.runUser, 'bus'));
    chmodSync(r.runUser, 0o755);
    expect(runtimeDir(r)).toBeUndefined();
    expect('address' in standardBus(r)).toBe(false);
    chmodSync(r.runUser, 0o700);
    const link = join(r.base, 'run-link');
    symlinkSync(r.runUser, link);
    expect(runtimeDir({ ...r, runUser: link })).toBeUndefined();
    expect('address' in standardBus({ ...r, runUser: link })).toBe(false);
  });

  it('a bus that is not a socket is not used', () => {
    const r = roots();
    mkdirSync(r.runUser, { mode: 0o700 });
    writeFileSync(join(r.runUser, 'bus'), '');
    expect(standardBus(r)).toEqual({ why: `${join(r.runUser, 'bus')} is not a socket of yours` });
  });

  it.skipIf(process.getuid?.() !== 0)('a bus socket of another uid is not used', async () => {
    const r = roots();
    mkdirSync(r.runUser, { mode: 0o700 });
    await listen(join(r.runUser, 'bus'));
    lchownSync(join(r.runUser, 'bus'), 65534, 65534);
    expect(standardBus(r)).toEqual({ why: `${join(r.runUser, 'bus')} is not a socket of yours` });
  });
});
