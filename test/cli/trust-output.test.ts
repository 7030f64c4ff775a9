/**
 * Output and input edges from issue 25 (items 10, 12, 13, 14), through the built CLI: a FIFO named
 * as a bundle, escape sequences in what `list` shows, a reader that closes the pipe early, and a
 * huge services.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, vaultDir, type CliOptions } from '../helpers/cli.js';
import { seedVault } from './support.js';

let home: string;
let env: Record<string, string>;
const cli = (args: string[], opts: CliOptions = {}) => runCli(args, { home, env, ...opts });

beforeAll(async () => {
  ensureBuilt();
  home = tempHome('mcpt-out-');
  await seedVault(home, [['github', 'token', githubClassic()]]);
  env = passphraseEnv(home);
}, 60_000);

describe('import <fifo> (item 10)', () => {
  it('is refused at once as not a regular file, with a hint; nothing waits for a writer', async () => {
    const fifo = join(home, 'bundle.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const started = Date.now();
    const r = await cli(['import', fifo], { timeoutMs: 15_000 });
    expect(r.signal).toBeNull(); // not killed by the timer: it did not hang
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${fifo} is not a regular file`);
    expect(r.stderr).toMatch(/hint: .*import - </);
    expect(Date.now() - started).toBeLessThan(14_000);
  }, 30_000);
});

describe('list escapes what it shows (item 12)', () => {
  it('a link whose arguments hold ESC, BEL and a bidi override is shown with escapes, never raw', async () => {
    const args = ['\x1b]0;pwned\x07', '\x1b[2J\x1b[31mred', 'a\u202eb', 'tab\there', 'nl\nx'];
    const l = await cli(['link', 'esc', 'token', '--', '/bin/echo', ...args]);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
    const r = await cli(['list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/); // no control character but the row ends
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07');
    expect(r.stdout).toContain('\\x1b[2J\\x1b[31mred');
    expect(r.stdout).toContain('a\\u202eb');
    expect(r.stdout).toContain('nl\\nx');
    expect(r.stdout.split('\n').filter((line) => line.startsWith('esc')).length).toBe(1); // one row, not broken by the newline
    // --json is data: JSON escapes it, and it round-trips to the real argument.
    const json = await cli(['list', '--json']);
    const row = (JSON.parse(json.stdout) as { entries: { service: string; link?: string }[] }).entries.find((e) => e.service === 'esc');
    expect(row?.link).toContain('\x1b]0;pwned\x07');
    expect((await cli(['unlink', 'esc', 'token'])).code).toBe(0);
  }, 30_000);
});

describe('a reader that goes away is a quiet end (item 13)', () => {
  /** Run the CLI with its stdout pipe closed by the reader before anything is written. */
  function closedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: home, env: cliEnv(home, env), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // like `| head -0`: the read end is gone
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it.each([[['load', '--help']], [['--help']], [['load', 'github']], [['list']], [['services']]])('%j: no stack trace, no EPIPE on stderr', async (args) => {
    const r = await closedStdout(args);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
    expect(r.code).toBe(0);
  }, 30_000);

  it('`load --help | head -1` in a shell: the first line, nothing on stderr', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" load --help | head -1`], { cwd: home, env: cliEnv(home, env), encoding: 'utf8' });
    expect(r.stdout).toMatch(/^Usage: mcp-tokens load/);
    expect(r.stderr).toBe('');
  });
});

describe('services.json has a size cap (item 14)', () => {
  it('a 200 MB file is refused from its size before it is read, with a hint; built-ins keep working', async () => {
    const file = join(vaultDir(home), 'services.json');
    const fd = openSync(file, 'w', 0o600);
    ftruncateSync(fd, 200 * 1024 * 1024); // sparse: costs no disk, but reading it would fill memory
    closeSync(fd);
    chmodSync(file, 0o600);
    try {
      const r = await cli(['services']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${file} is larger than 1024 KiB`);
      expect(r.stderr).toMatch(/hint: .*shrink or remove it/);
      expect((await cli(['load', 'github'])).code).toBe(0);
    } finally {
      spawnSync('rm', ['-f', file]);
    }
  }, 30_000);
});
