/**
 * `mcp-tokens run` end to end: a real MCP client (the SDK's Client + StdioClientTransport)
 * launches a real MCP stdio server through the built CLI, on a file vault and on a keychain
 * vault, and proves the credential arrived by its SHA-256 — the value never crosses the wire.
 * Plus the process contract: exit codes, signals, byte-exact stdout, scrubbed env, clean argv.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, cliEnv, collect, ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, spawnCli, tempHome } from '../helpers/cli.js';
import { requireKeyringOrSkip, startKeyringSession, type KeyringSession } from '../helpers/keyring-session.js';
import { withMcpClient } from '../helpers/mcp.js';

/** Node ≥ 22.15 on POSIX: run replaces itself with the command (src/launch/run.ts). */
const HAS_EXECVE = typeof (process as unknown as { execve?: unknown }).execve === 'function';
const FIXTURE = join(REPO, 'test/fixtures/mcp-env-server.mjs');
const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');

interface Report {
  name: string;
  set: boolean;
  sha256?: string;
}

async function reportThroughRun(services: string[], env: Record<string, string>, names: string[]): Promise<Report[]> {
  return withMcpClient({ command: process.execPath, args: [BIN, 'run', ...services, '--', process.execPath, FIXTURE], env }, async ({ client }) => {
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('env_report');
    const result = await client.callTool({ name: 'env_report', arguments: { names } });
    return (result.structuredContent as { report: Report[] }).report;
  });
}

beforeAll(() => ensureBuilt());

describe('run on a file vault', () => {
  const home = tempHome();
  const token = githubClassic();
  const haToken = jwt();
  const passEnv = passphraseEnv(home);
  // A second passphrase source that must never reach the child either.
  const env = cliEnv(home, { ...passEnv, MCP_TOKENS_PASSPHRASE: 'canary-passphrase-in-env', MCP_TOKENS_PASSPHRASE_FD: '' });

  beforeAll(async () => {
    for (const [svc, key, value] of [
      ['github', 'token', token],
      ['hass', 'token', haToken],
      ['hass', 'url', 'http://127.0.0.1:8123'],
    ] as const) {
      const r = await runCli(['store', svc, key, '-'], { home, env: passEnv, input: value });
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('an MCP client starts the server through run and the server holds the token (by hash)', async () => {
    const report = await reportThroughRun(['github'], env, ['GITHUB_PERSONAL_ACCESS_TOKEN', 'MCP_TOKENS_PASSPHRASE', 'MCP_TOKENS_PASSPHRASE_FILE', 'HA_TOKEN']);
    expect(report).toEqual([
      { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha(token) },
      { name: 'MCP_TOKENS_PASSPHRASE', set: false },
      { name: 'MCP_TOKENS_PASSPHRASE_FILE', set: false },
      { name: 'HA_TOKEN', set: false },
    ]);
  });

  it('no variable that can carry a passphrase reaches the child, passwd\'s new one included', async () => {
    const names = [
      'MCP_TOKENS_PASSPHRASE',
      'MCP_TOKENS_PASSPHRASE_FILE',
      'MCP_TOKENS_PASSPHRASE_FD',
      'MCP_TOKENS_NEW_PASSPHRASE',
      'MCP_TOKENS_NEW_PASSPHRASE_FILE',
      'MCP_TOKENS_NEW_PASSPHRASE_FD',
      'MCP_TOKENS_DIR',
    ];
    const withNew = {
      ...env,
      MCP_TOKENS_NEW_PASSPHRASE: 'canary-new-passphrase',
      MCP_TOKENS_NEW_PASSPHRASE_FILE: join(home, 'new-passphrase'),
      MCP_TOKENS_NEW_PASSPHRASE_FD: '7',
      MCP_TOKENS_DIR: join(home, '.mcp_tokens'), // not a passphrase: passed on
    };
    const report = await reportThroughRun(['github'], withNew, names);
    expect(report.filter((r) => r.set).map((r) => r.name)).toEqual(['MCP_TOKENS_DIR']);
  });

  it('several services at once', async () => {
    const report = await reportThroughRun(['github', 'hass'], env, ['GITHUB_PERSONAL_ACCESS_TOKEN', 'HA_TOKEN', 'HA_URL']);
    expect(report).toEqual([
      { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha(token) },
      { name: 'HA_TOKEN', set: true, sha256: sha(haToken) },
      { name: 'HA_URL', set: true, sha256: sha('http://127.0.0.1:8123') },
    ]);
  });

  it('--env exports a stored field under the name a server reads (alone, or beside a service)', async () => {
    const only = await reportThroughRun(['--env', 'GITHUB_TOKEN=github.token'], env, ['GITHUB_TOKEN', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'HA_TOKEN']);
    expect(only).toEqual([
      { name: 'GITHUB_TOKEN', set: true, sha256: sha(token) },
      { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: false },
      { name: 'HA_TOKEN', set: false },
    ]);
    const beside = await reportThroughRun(['hass', '--env', 'API_ACCESS_TOKEN=hass.token'], env, ['HA_URL', 'HA_TOKEN', 'API_ACCESS_TOKEN']);
    expect(beside).toEqual([
      { name: 'HA_URL', set: true, sha256: sha('http://127.0.0.1:8123') },
      { name: 'HA_TOKEN', set: true, sha256: sha(haToken) },
      { name: 'API_ACCESS_TOKEN', set: true, sha256: sha(haToken) },
    ]);
  });

  it("returns the child's exit code", async () => {
    const r = await runCli(['run', 'github', '--', process.execPath, '-e', 'process.exit(7)'], { home, env: passEnv });
    expect(r.code).toBe(7);
    expect(r.stdoutBytes.length).toBe(0);
  });

  it('stdout is byte-for-byte what the child wrote, and nothing of ours', async () => {
    const script = 'const b=Buffer.alloc(70000);for(let i=0;i<b.length;i++)b[i]=(i*7+3)%256;process.stdout.write(b)';
    const r = await runCli(['run', 'github', '--', process.execPath, '-e', script], { home, env: passEnv });
    expect(r.code).toBe(0);
    const expected = Buffer.alloc(70000);
    for (let i = 0; i < expected.length; i++) expected[i] = (i * 7 + 3) % 256;
    expect(r.stdoutBytes.equals(expected)).toBe(true);
  });

  it.each([
    ['SIGTERM', 'handled', 42],
    ['SIGTERM', 'default', 143],
    ['SIGHUP', 'default', 129],
    ['SIGINT', 'handled', 42],
  ] as const)('%s to run reaches the child (%s) → exit %i', async (signal, mode, expected) => {
    const handler = mode === 'handled' ? `process.on('${signal}',()=>process.exit(42));` : '';
    const script = `${handler}process.stderr.write('ready\\n');setInterval(()=>{},1000)`;
    const child = spawnCli(['run', 'github', '--', process.execPath, '-e', script], { home, env: passEnv });
    const done = collect(child, { timeoutMs: 20_000 });
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
    });
    child.kill(signal);
    const r = await done;
    // Spawned (Node 20): run reports 128 + n. Exec'd (Node ≥ 22.15): the server itself dies of the
    // signal, which its parent sees as such — the same status a shell would report.
    expect(r.code ?? 128 + constants.signals[r.signal!]).toBe(expected);
    if (HAS_EXECVE) expect(r.code === null).toBe(mode === 'default');
  });

  it('no secret in the argv of any process of the chain', async () => {
    const script = `process.stderr.write('pid '+process.pid+' '+process.ppid+'\\n');setInterval(()=>{},1000)`;
    const child = spawnCli(['run', 'github', '--', process.execPath, '-e', script], { home, env: passEnv });
    const done = collect(child, { timeoutMs: 20_000 });
    const [pid, ppid] = await new Promise<number[]>((resolve) => {
      child.stderr!.on('data', (b: Buffer) => {
        const m = /pid (\d+) (\d+)/.exec(b.toString());
        if (m) resolve([Number(m[1]), Number(m[2])]);
      });
    });
    const cmdlines = [pid!, ppid!, child.pid!].map((p) => readFileSync(`/proc/${p}/cmdline`));
    child.kill('SIGTERM');
    await done;
    // We did read the right processes: the runner's (spawned) or the server's own (exec'd).
    if (!HAS_EXECVE) expect(cmdlines.some((c) => c.includes(Buffer.from(BIN)))).toBe(true);
    else expect(pid).toBe(child.pid);
    for (const c of cmdlines) expect(c.includes(Buffer.from(token))).toBe(false);
  });

  it.skipIf(!HAS_EXECVE)('Node ≥ 22.15: the server replaces run (same pid), no mcp-tokens process remains', async () => {
    const script = `process.stderr.write('pid '+process.pid+'\\n');setInterval(()=>{},1000)`;
    const child = spawnCli(['run', 'github', '--', process.execPath, '-e', script], { home, env: passEnv });
    const done = collect(child, { timeoutMs: 20_000 });
    const pid = await new Promise<number>((resolve) => {
      child.stderr!.on('data', (b: Buffer) => {
        const m = /pid (\d+)/.exec(b.toString());
        if (m) resolve(Number(m[1]));
      });
    });
    // The CLI was started in a session of its own (spawnCli is detached): list that session.
    const inSession = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .flatMap((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          const sid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
          return sid === child.pid ? [{ pid: Number(p), cmdline: readFileSync(`/proc/${p}/cmdline`, 'utf8') }] : [];
        } catch {
          return []; // exited meanwhile
        }
      });
    child.kill('SIGTERM');
    await done;
    expect(pid).toBe(child.pid);
    expect(inSession.map((p) => p.pid)).toEqual([pid]);
    expect(inSession[0]!.cmdline).toContain(script);
    expect(inSession.filter((p) => p.cmdline.includes(BIN))).toEqual([]);
  });

  it('a missing credential exits 3 with the seed message and never starts the child', async () => {
    const marker = join(home, 'child-started');
    const r = await runCli(['run', 'proxmox', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)},'x')`], { home, env: passEnv });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('No credentials stored for proxmox');
    expect(r.stderr).toContain('Please run:');
    expect(r.stderr).toContain('mcp-tokens store proxmox token');
    expect(existsSync(marker)).toBe(false);
  });

  it('a wrong passphrase exits 4 and never starts the child', async () => {
    const marker = join(home, 'child-started-2');
    const r = await runCli(['run', 'github', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)},'x')`], {
      home,
      env: passphraseEnv(home, 'not the passphrase'),
    });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(existsSync(marker)).toBe(false);
  });

  it('a command that does not exist fails before anything reaches stdout', async () => {
    const r = await runCli(['run', 'github', '--', 'no-such-command-mcpt'], { home, env: passEnv });
    expect(r.code).toBe(127); // as a shell reports a command not found
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no-such-command-mcpt');
    expect(r.stderr).toContain('command not found');
    expect(r.stderr).not.toContain(token);
  });

  it('a file that is not executable exits 126, as a shell reports it', async () => {
    const file = join(home, 'not-executable.sh');
    writeFileSync(file, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const r = await runCli(['run', 'github', '--', file], { home, env: passEnv });
    expect(r.code).toBe(126);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('permission denied');
  });

  it('without -- it is a usage error', async () => {
    const r = await runCli(['run', 'github', 'true'], { home, env: passEnv });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});

describe('run on a keychain vault', () => {
  const enabled = requireKeyringOrSkip();
  let session: KeyringSession | undefined;
  const token = githubClassic();

  beforeAll(async () => {
    if (!enabled) return;
    session = await startKeyringSession();
    const r = await runCli(['store', 'github', 'token', '-'], { home: session.env['HOME']!, env: { ...session.env, MCP_TOKENS_BACKEND: 'keychain' }, input: token });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('keychain');
  });
  afterAll(async () => session?.stop());

  it.skipIf(!enabled)('an MCP client gets the token from the keychain through run, no passphrase involved', async () => {
    const env = cliEnv(session!.env['HOME']!, { ...session!.env, MCP_TOKENS_PASSPHRASE: 'canary-passphrase-in-env' });
    const report = await reportThroughRun(['github'], env, ['GITHUB_PERSONAL_ACCESS_TOKEN', 'MCP_TOKENS_PASSPHRASE']);
    expect(report).toEqual([
      { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha(token) },
      { name: 'MCP_TOKENS_PASSPHRASE', set: false },
    ]);
  });
});
