/**
 * Only the user reaches the agent: planted sockets, symlinks and loose or foreign directories are
 * refused with their path named, and a second user (created here; CI runs as root) can neither
 * connect nor, if the modes were loosened by mistake, get anything without the token.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic } from '../helpers/cli.js';
import { agentPaths } from '../../src/agent/paths.js';
import { agentVault, cli, unlockVault } from './support.js';

beforeAll(() => ensureBuilt());

describe('unsafe agent paths are refused, naming the path', () => {
  it('a planted file where the socket goes: unlock refuses; load falls back to the passphrase and says why', async () => {
    const token = githubClassic();
    const v = await agentVault([['github', 'token', token]]);
    const paths = agentPaths(v.dir, v.env);
    mkdirSync(paths.dir, { mode: 0o700 });
    writeFileSync(paths.socket, 'planted', { mode: 0o600 });
    const u = await cli(v, ['unlock'], { withPassphrase: true });
    expect(u.code).toBe(1);
    expect(u.stderr).toContain(paths.socket);
    expect(u.stderr).toContain('not a socket');
    const load = await cli(v, ['load', 'github'], { withPassphrase: true });
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toContain(token);
    expect(load.stderr).toContain(paths.socket);
  });

  it('a symlinked socket directory is refused', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const elsewhere = mkdtempSync(join(tmpdir(), 'mcpt-elsewhere-'));
    const paths = agentPaths(v.dir, v.env);
    symlinkSync(elsewhere, paths.dir);
    const u = await cli(v, ['unlock'], { withPassphrase: true });
    expect(u.code).toBe(1);
    expect(u.stderr).toContain(paths.dir);
    expect(u.stderr).toContain('symbolic link');
    expect(readdirSync(elsewhere)).toEqual([]); // nothing was created through the link
    const status = await cli(v, ['unlock', '--status']);
    expect(status.code).toBe(3);
    expect(status.stderr).toContain(paths.dir);
  });

  it('a symlinked XDG_RUNTIME_DIR is refused', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const link = join(v.home, 'run-link');
    symlinkSync(v.run, link);
    const u = await cli(v, ['unlock'], { withPassphrase: true, env: { XDG_RUNTIME_DIR: link } });
    expect(u.code).toBe(1);
    expect(u.stderr).toContain(link);
    expect(readdirSync(v.run)).toEqual([]);
  });

  it.each([0o755, 0o730, 0o701])('a socket directory with mode %o is refused', async (mode) => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const paths = agentPaths(v.dir, v.env);
    mkdirSync(paths.dir, { mode: 0o700 });
    chmodSync(paths.dir, mode);
    const u = await cli(v, ['unlock'], { withPassphrase: true });
    expect(u.code).toBe(1);
    expect(u.stderr).toContain(paths.dir);
    expect(u.stderr).toContain(`permissions ${mode.toString(8)}`);
    expect(readdirSync(paths.dir)).toEqual([]);
  });
});

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const haveTools = spawnSync('sh', ['-c', 'command -v useradd && command -v setpriv'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!isRoot || !haveTools)('a second user', () => {
  const user = `mcpt${process.pid % 100000}`;
  let uid = -1;

  beforeAll(() => {
    const r = spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user], { encoding: 'utf8' });
    if (r.status !== 0 && !r.stderr.includes('already exists')) throw new Error(`useradd: ${r.stderr}`);
    uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
  });
  afterAll(() => {
    spawnSync('userdel', [user]);
  });

  /** Run a small script as the other user: connect to the socket and ask for a seal. */
  function asOther(socket: string, token?: string): { status: number | null; out: string } {
    const script = `
      const net = require('net');
      const s = net.connect(${JSON.stringify(socket)});
      s.on('error', (e) => { console.log('ERROR ' + e.code); process.exit(0); });
      s.on('connect', () => {
        const ad = Buffer.concat([Buffer.from('mcp-tokens/v1'), Buffer.from([0,0,0,6]), Buffer.from('github'), Buffer.from([0,0,0,5]), Buffer.from('token')]).toString('base64');
        ${token === undefined ? '' : `s.write(JSON.stringify({ v: 1, id: 1, op: 'hello', token: ${JSON.stringify(token)} }) + '\\n');`}
        s.write(JSON.stringify({ v: 1, id: 2, op: 'seal', ad, plaintext: 'eA==' }) + '\\n');
        let out = '';
        s.on('data', (b) => { out += b; });
        s.on('close', () => { console.log('REPLY ' + out.trim().split('\\n').join(' | ')); process.exit(0); });
        setTimeout(() => { console.log('REPLY ' + out.trim().split('\\n').join(' | ')); process.exit(0); }, 3000);
      });`;
    const r = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', cwd: '/' });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  it('cannot connect through the user-only directory; with the modes loosened, is refused without the token', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const s = await unlockVault(v);
    const paths = agentPaths(v.dir, v.env);
    // Let the other user walk down to the socket directory (the temp HOME is 0700, and so may be
    // the TMPDIR above it: every directory on the way gets search permission, restored after).
    restoreSearch = allowSearchDown(v.home, v.run);
    const blocked = asOther(paths.socket);
    expect(blocked.out).toContain('ERROR EACCES');
    // A mistake: the directory and socket opened to everyone. The token still keeps them out.
    chmodSync(paths.dir, 0o711);
    chmodSync(paths.socket, 0o777);
    const noToken = asOther(paths.socket);
    expect(noToken.out).toContain('REPLY');
    expect(noToken.out).toContain('say hello first');
    expect(noToken.out).not.toContain('"ok":true');
    const guessed = asOther(paths.socket, 'f'.repeat(64));
    expect(guessed.out).toContain('wrong agent token');
    expect(guessed.out).not.toContain('"ok":true');
    // The owner's own commands now refuse the loosened directory rather than trust it.
    const load = await cli(v, ['load', 'github']);
    expect(load.code).toBe(4);
    expect(load.stderr).toContain(paths.dir);
    chmodSync(paths.dir, 0o700);
    chmodSync(paths.socket, 0o700);
    expect((await cli(v, ['lock'])).code).toBe(0);
    expect(s.pid).toBeGreaterThan(0);
  });
});

let restoreSearch = (): void => undefined;
afterAll(() => restoreSearch());

/**
 * Give others search (x) permission on each of `paths` and on every directory above them that
 * lacks it; return a function that puts the old modes back (ancestors first set, last restored).
 */
function allowSearchDown(...paths: string[]): () => void {
  const changed = new Map<string, number>();
  for (const start of paths) {
    for (let d = start; ; d = dirname(d)) {
      const mode = statSync(d).mode & 0o7777;
      if ((mode & 0o011) !== 0o011 && !changed.has(d)) {
        changed.set(d, mode);
        chmodSync(d, mode | 0o011);
      }
      if (dirname(d) === d) break;
    }
  }
  return () => {
    for (const [d, mode] of [...changed].reverse()) chmodSync(d, mode);
    changed.clear();
  };
}
