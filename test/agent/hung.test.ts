/**
 * An agent that is there but does not answer — stopped (SIGSTOP, Ctrl-Z) or a socket that accepts
 * and never replies — costs every client a few seconds at most: run and load fall back to the
 * passphrase (or fail saying what is wrong, never "unlock"), `lock` and `unlock --status` fail
 * saying so. Also: the agent keeps none of its invoker's descriptors, and
 * `--print-systemd-unit` lets no newline into the unit.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync, chmodSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, collect, ensureBuilt, githubClassic, rootsArgs } from '../helpers/cli.js';
import { agentPaths } from '../../src/agent/paths.js';
import { agentVault, cli, pidAlive, status, unlockVault, until, type AgentVault } from './support.js';

beforeAll(() => ensureBuilt());

/** Well inside the harness's 30 s kill: a client that waited for the agent would be killed (code null). */
const BOUND = { timeoutMs: 25_000 };

/** What every client says about an agent that does not answer; never a call to unlock. */
function saysNotAnswering(stderr: string): void {
  expect(stderr).toContain('does not answer');
  expect(stderr).toContain('kill -CONT');
  expect(stderr).not.toMatch(/unlock the vault|\(mcp-tokens unlock\)|run: mcp-tokens unlock/);
}

/** Concurrent: each waits out the client's bound on the silent agent, and none changes anything. */
function checkClients(get: () => AgentVault, token: string): void {
  it.concurrent('load falls back to the passphrase file, saying why, within seconds', async () => {
    const v = get();
    const started = Date.now();
    const r = await cli(v, ['load', 'github'], { withPassphrase: true, ...BOUND });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(token);
    expect(r.stderr).toContain('does not answer');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it.concurrent('run with no passphrase source fails at once, saying the agent does not answer (not "unlock")', async () => {
    const v = get();
    const r = await cli(v, ['run', 'github', '--', 'true'], BOUND);
    expect(r.code).toBe(4);
    saysNotAnswering(r.stderr);
  });

  it.concurrent('unlock --status fails saying so (not "locked"), lock too', async () => {
    const v = get();
    const [st, lock, again] = await Promise.all([
      cli(v, ['unlock', '--status'], BOUND),
      cli(v, ['lock'], BOUND),
      cli(v, ['unlock'], { withPassphrase: true, ...BOUND }),
    ]);
    expect(st.code).toBe(1);
    expect(st.stdout).toBe('');
    saysNotAnswering(st.stderr);
    expect(lock.code).toBe(1);
    saysNotAnswering(lock.stderr);
    expect(again.code).toBe(1);
    saysNotAnswering(again.stderr);
  });
}

describe('a stopped agent (SIGSTOP)', () => {
  const token = githubClassic();
  let v: AgentVault;
  let pid = 0;
  beforeAll(async () => {
    v = await agentVault([['github', 'token', token]]);
    pid = (await unlockVault(v)).pid!;
    process.kill(pid, 'SIGSTOP');
  });
  afterAll(() => {
    // SIGTERM waits while a process is stopped: let it go on first, then lock it.
    if (pid) for (const sig of ['SIGCONT', 'SIGTERM'] as const) process.kill(pid, sig);
  });
  checkClients(() => v, token);

  it('once continued, it serves again', async () => {
    process.kill(pid, 'SIGCONT');
    expect((await status(v)).unlocked).toBe(true);
    expect((await cli(v, ['lock'])).code).toBe(0);
    expect(await until(() => !pidAlive(pid))).toBe(true);
  });
});

describe('a socket that accepts and never answers', () => {
  const token = githubClassic();
  let v: AgentVault;
  let server: net.Server;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    v = await agentVault([['github', 'token', token]]);
    const paths = agentPaths(v.dir, v.roots);
    mkdirSync(paths.dir, { mode: 0o700 });
    writeFileSync(paths.token, `${'a'.repeat(64)}\n`, { mode: 0o600 });
    server = net.createServer((s) => void sockets.push(s)); // reads the hello, never replies
    await new Promise<void>((ok) => server.listen(paths.socket, ok));
    chmodSync(paths.socket, 0o600);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((ok) => server.close(ok));
  });
  checkClients(() => v, token);
});

describe('the agent keeps none of the descriptors of whoever ran unlock', () => {
  it('a file open on fd 7 of unlock is not open in the agent', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const marker = join(v.home, 'inherited-marker');
    writeFileSync(marker, '');
    // The shell opens fd 7 (not close-on-exec) and execs the CLI with it; the CLI execs the agent.
    const child = spawn('/bin/sh', ['-c', 'exec 7>>"$MARKER"; exec "$@"', 'sh', process.execPath, ...rootsArgs(v.roots), BIN, 'unlock'], {
      cwd: v.home,
      env: cliEnv(v.home, { ...v.passEnv, MARKER: marker }),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const r = await collect(child);
    expect(r.code, r.stderr).toBe(0);
    const s = await status(v);
    expect(s.unlocked).toBe(true);
    const pid = s.pid!;
    try {
      const links = readdirSync(`/proc/${pid}/fd`).map((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      });
      expect(links.some((l) => l.startsWith('socket:'))).toBe(true); // we did read its descriptors
      expect(links).not.toContain(marker);
      // Only what the agent opened itself is left, all close-on-exec.
      for (const fd of readdirSync(`/proc/${pid}/fd`).map(Number).filter((n) => n > 2)) {
        let flags: string;
        try {
          flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1]!;
        } catch {
          continue;
        }
        expect(parseInt(flags, 8) & 0o2000000, `fd ${fd} (${readlinkSync(`/proc/${pid}/fd/${fd}`)})`).not.toBe(0);
      }
    } finally {
      await cli(v, ['lock']);
    }
  });
});

describe('--print-systemd-unit lets no control character into the unit', () => {
  let v: AgentVault;
  beforeAll(async () => {
    v = await agentVault([]);
  });

  it.each([
    ['--dir', ['--dir', '/tmp/vault\nExecStartPre=/bin/touch /tmp/pwned', 'unlock', '--print-systemd-unit']],
    ['--timeout', ['unlock', '--print-systemd-unit', '--timeout', '8h\nExecStartPre=/bin/touch /tmp/pwned']],
    ['--idle', ['unlock', '--print-systemd-unit', '--idle', '1h\nExecStartPre=/bin/touch /tmp/pwned']],
  ])('a newline in %s is refused, nothing printed', async (_what, args) => {
    const r = await cli(v, args);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/control character|invalid/);
  });

  it('durations are printed in our own words; $ and % in the path are escaped for systemd', async () => {
    const dir = join(v.home, 'va$HOME%h');
    const r = await cli(v, ['--dir', dir, 'unlock', '--print-systemd-unit', '--timeout', ' 8h ', '--idle', '90m']);
    expect(r.code, r.stderr).toBe(0);
    const exec = r.stdout.split('\n').find((l) => l.startsWith('ExecStart='))!;
    expect(exec).toContain('--dir "');
    expect(exec).toContain('va$$HOME%%h"');
    expect(exec).toMatch(/ unlock --timeout 8h --idle 90m$/);
  });
});
