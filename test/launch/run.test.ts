import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VaultError } from '../../src/errors.js';
import { exitStatus, resolveCommand, runWithEnv } from '../../src/launch/run.js';
import { compileForNode, REPO, tempDir } from './helpers.js';
import { signalTracked, track, type Tracked } from '../helpers/pids.js';

const HARNESS = join(REPO, 'test/launch/harness/run-harness.mjs');
const CHILD = join(REPO, 'test/launch/harness/child.mjs');
const HAS_EXECVE = typeof (process as unknown as { execve?: unknown }).execve === 'function';
const CANARY = 'canary-passphrase-7f3a';
const SECRET = 'ghp_secretcanary0123456789abcdefghijklmn';
let runJs: string;
// Recorded with their start times: a pid signalled after its process is gone may name a stranger.
const children: Tracked[] = [];

// If forwarding were broken the child would outlive its runner: never leave one behind.
afterEach(() => {
  for (const child of children.splice(0)) signalTracked(child, 'SIGKILL'); // normally gone already
});

beforeAll(() => {
  runJs = compileForNode('src/launch/run.ts', tempDir('mcpt-build-'));
});

interface Harness {
  pid: number;
  stdout: Promise<Buffer>;
  stderrText: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor: (re: RegExp) => Promise<RegExpMatchArray>;
}

function startHarness(childArgs: string[], opts: { extra?: Record<string, string>; execve?: boolean } = {}): Harness {
  const proc = spawn(process.execPath, [HARNESS, runJs, process.execPath, CHILD, ...childArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HARNESS_EXTRA_ENV: JSON.stringify(opts.extra ?? {}),
      HARNESS_EXECVE: opts.execve ? '1' : '0',
      MCP_TOKENS_PASSPHRASE: CANARY,
      MCP_TOKENS_PASSPHRASE_FILE: '/nonexistent/passphrase',
      MCP_TOKENS_PASSPHRASE_FD: '9',
    },
  });
  const out: Buffer[] = [];
  let err = '';
  const waiters: Array<() => void> = [];
  proc.stdout.on('data', (c: Buffer) => out.push(c));
  proc.stderr.on('data', (c: Buffer) => {
    err += c.toString('utf8');
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on('exit', (code, signal) => res({ code, signal })),
  );
  const stdout = new Promise<Buffer>((res) => proc.stdout.on('end', () => res(Buffer.concat(out))));
  const waitFor = async (re: RegExp): Promise<RegExpMatchArray> => {
    for (;;) {
      const m = err.match(re);
      const pid = /ready (\d+)/.exec(err)?.[1];
      if (pid && !children.some((c) => c.pid === Number(pid)) && Number(pid) !== proc.pid) children.push(track(Number(pid)));
      if (m) return m;
      if (proc.exitCode !== null) throw new Error(`harness exited ${proc.exitCode}: ${err}`);
      await new Promise<void>((res) => waiters.push(res));
    }
  };
  return { pid: proc.pid!, stdout, stderrText: () => err, exited, waitFor };
}

describe('runWithEnv through a separate process (the shape of `mcp-tokens run`)', () => {
  it('returns the child exit code (7 → 7) and prints nothing itself', async () => {
    const h = startHarness(['exit', '7']);
    expect((await h.exited).code).toBe(7);
    expect((await h.stdout).length).toBe(0);
    expect(h.stderrText()).toBe('');
  });

  it('passes the child’s stdout through byte for byte (1 MiB, every byte value)', async () => {
    const h = startHarness(['bytes', String(1 << 20)]);
    const got = await h.stdout;
    expect((await h.exited).code).toBe(0);
    const expected = Buffer.alloc(1 << 20);
    for (let i = 0; i < expected.length; i++) expected[i] = i % 256;
    expect(got.equals(expected)).toBe(true);
  });

  it('gives the child the extra env and no MCP_TOKENS_PASSPHRASE* variable', async () => {
    const h = startHarness(['env'], { extra: { GITHUB_PERSONAL_ACCESS_TOKEN: SECRET } });
    const env = JSON.parse((await h.stdout).toString('utf8')) as Record<string, string>;
    expect((await h.exited).code).toBe(0);
    expect(env['GITHUB_PERSONAL_ACCESS_TOKEN']).toBe(SECRET);
    expect(env['PATH']).toBe(process.env['PATH']);
    expect(Object.keys(env).filter((k) => /PASSPHRASE/i.test(k))).toEqual([]);
    expect(Object.values(env)).not.toContain(CANARY);
    expect(env['HARNESS_EXTRA_ENV']).toBeUndefined();
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('%s sent to the runner reaches the child', async (sig) => {
    const h = startHarness(['wait-signal'], { extra: { GITHUB_PERSONAL_ACCESS_TOKEN: SECRET } });
    const [, childPid] = await h.waitFor(/ready (\d+)/);
    expect(Number(childPid)).not.toBe(h.pid); // spawned, not exec'd (Node 20)
    // While both run: the secret is in neither process's argv.
    for (const pid of [h.pid, Number(childPid)]) {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1')).not.toContain(SECRET);
    }
    process.kill(h.pid, sig);
    const { code } = await h.exited;
    expect(h.stderrText()).toContain(`got ${sig}`);
    expect(code).toBe(40 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[sig]);
  });

  it('a child killed by the forwarded signal gives 128 + signal number', async () => {
    const h = startHarness(['wait-die']);
    await h.waitFor(/ready \d+/);
    process.kill(h.pid, 'SIGTERM');
    expect((await h.exited).code).toBe(128 + 15);
  });

  it.skipIf(!HAS_EXECVE)('with process.execve the command replaces the runner (same pid), env scrubbed', async () => {
    const h = startHarness(['wait-signal'], { execve: true });
    const [, childPid] = await h.waitFor(/ready (\d+)/);
    expect(Number(childPid)).toBe(h.pid);
    process.kill(h.pid, 'SIGTERM');
    expect((await h.exited).code).toBe(40 + 15);
  });
});

describe('runWithEnv in-process: errors before anything starts', () => {
  it('an unknown command is FAILED "cannot start … command not found", and no listener is left', async () => {
    const before = process.listenerCount('SIGTERM');
    const e = await runWithEnv('mcp-tokens-no-such-command', [], { A: SECRET }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VaultError);
    expect((e as VaultError).code).toBe('FAILED');
    expect((e as VaultError).message).toBe('cannot start "mcp-tokens-no-such-command": command not found');
    expect((e as VaultError).exitCode).toBe(127);
    expect(JSON.stringify([(e as VaultError).message, (e as VaultError).hint])).not.toContain(SECRET);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('a file without execute permission is "permission denied"', async () => {
    const dir = tempDir();
    const file = join(dir, 'not-executable');
    writeFileSync(file, '#!/bin/sh\nexit 0\n');
    chmodSync(file, 0o644);
    const e = await runWithEnv(file, [], {}).catch((x: unknown) => x);
    expect((e as VaultError).code).toBe('FAILED');
    expect((e as VaultError).message).toMatch(/permission denied$/);
    expect((e as VaultError).exitCode).toBe(126);
  });

  it('resolves the exit code and removes its signal listeners afterwards', async () => {
    const before = process.listenerCount('SIGHUP');
    // execve: false, or on Node ≥ 22.15 the test worker itself would become the command.
    await expect(runWithEnv(process.execPath, ['-e', 'process.exit(7)'], {}, { execve: false })).resolves.toBe(7);
    await expect(runWithEnv(process.execPath, ['-e', 'process.kill(process.pid, "SIGKILL")'], {}, { execve: false })).resolves.toBe(137);
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });

  it('refuses an empty command, NUL in argv, and a bad extra variable', async () => {
    await expect(runWithEnv('', [], {})).rejects.toMatchObject({ code: 'USAGE' });
    await expect(runWithEnv('true', ['a\0b'], {})).rejects.toMatchObject({ code: 'USAGE' });
    await expect(runWithEnv('true', [], { 'A=B': 'x' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(runWithEnv('true', [], { A: 'x\ny' })).rejects.toBeInstanceOf(VaultError);
  });
});

describe('exitStatus and resolveCommand', () => {
  it.each([
    [0, null, 0],
    [7, null, 7],
    [null, 'SIGTERM', 143],
    [null, 'SIGINT', 130],
    [null, 'SIGHUP', 129],
    [null, 'SIGKILL', 137],
  ] as const)('code %s signal %s → %s', (code, signal, expected) => {
    expect(exitStatus(code, signal)).toBe(expected);
  });

  it('searches PATH like execvp: skips directories and non-executables, honours explicit paths', () => {
    const dir = tempDir();
    for (const d of ['a', 'b', 'c']) mkdirSync(join(dir, d));
    mkdirSync(join(dir, 'a', 'tool')); // a directory named like the command
    writeFileSync(join(dir, 'b', 'tool'), '');
    chmodSync(join(dir, 'b', 'tool'), 0o644); // not executable
    writeFileSync(join(dir, 'c', 'tool'), '#!/bin/sh\n');
    chmodSync(join(dir, 'c', 'tool'), 0o755);
    const path = ['a', 'b', 'c'].map((d) => join(dir, d)).join(':');
    expect(resolveCommand('tool', path, dir)).toBe(join(dir, 'c', 'tool'));
    expect(resolveCommand('./c/tool', '', dir)).toBe(join(dir, 'c', 'tool'));
    expect(() => resolveCommand('tool', join(dir, 'a'), dir)).toThrow(/command not found/);
    expect(() => resolveCommand('tool', join(dir, 'b'), dir)).toThrow(/permission denied/);
  });
});
