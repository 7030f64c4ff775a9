/**
 * The access log (issue 29) on the binary: load, run, export, verify and headers each append one sealed
 * record naming what they read (never a value), run's program and its path, the parent and the
 * client; `log` shows it, `log --who` answers which programs had a service; an edited, removed,
 * cut or replaced record is exit 6; concurrent appenders never corrupt it; a log that cannot be
 * written never stops `load`; `log --off` stops it, recorded.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { cloneVault, seedVault } from './support.js';

const token = githubClassic();
const hassToken = jwt();
let base: string;
let env: Record<string, string>;

interface Rec {
  t: string;
  cmd: string;
  names: string[];
  program?: string;
  path?: string;
  parent?: string;
  client?: string;
  state: string;
}

beforeAll(async () => {
  ensureBuilt();
  base = tempHome();
  env = passphraseEnv(tempHome());
  await seedVault(base, [
    ['github', 'token', token],
    ['hass', 'token', hassToken],
    ['hass', 'url', 'http://hass.local:8123'],
  ]);
});

async function records(home: string): Promise<{ records: Rec[]; problems: string[]; code: number | null; stderr: string }> {
  const r = await runCli(['log', '--json'], { home, env });
  const doc = JSON.parse(r.stdout) as { records: Rec[]; problems: string[] };
  return { ...doc, code: r.code, stderr: r.stderr };
}

describe('what is recorded', () => {
  it('load, run, verify and export each append one record of the names read; run names its program and path; values never appear', async () => {
    const home = cloneVault(base);
    const dir = vaultDir(home);
    expect((await runCli(['load', 'github'], { home, env })).code).toBe(0);
    const run = await runCli(['run', 'hass', '--', 'true'], { home, env, input: '{}' }); // stdin a pipe: an MCP client
    expect(run.code, run.stderr).toBe(0);
    expect((await runCli(['verify', 'github', '--offline'], { home, env })).code).toBe(0);
    const id = await runCli(['identity'], { home, env });
    expect(id.code, id.stderr).toBe(0);
    const exp = await runCli(['export', 'hass', '--to', id.stdout.trim(), '--armor'], { home, env });
    expect(exp.code, exp.stderr).toBe(0);
    const hdr = await runCli(['headers', 'github', '--header', 'Authorization=Bearer {token}'], { home, env });
    expect(hdr.code, hdr.stderr).toBe(0);

    const got = await records(home);
    expect(got.code, got.stderr).toBe(0);
    expect(got.problems).toEqual([]);
    expect(got.records.map((r) => [r.cmd, r.names])).toEqual([
      ['load', ['github_token']],
      ['run', ['hass_token', 'hass_url']],
      ['verify', ['github_token']],
      ['export', ['hass_token', 'hass_url']],
      ['headers', ['github_token']],
    ]);
    const runRec = got.records[1]!;
    expect(runRec.program).toBe('true');
    expect(runRec.path).toMatch(/^\/.*\/true$/);
    expect(runRec.client).toBe('MCP client');
    // runCli's /bin/sh execs node: the parent is this test process.
    expect(runRec.parent).toBe(readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim());
    expect(Date.parse(runRec.t)).toBeGreaterThan(Date.now() - 600_000);

    // The canary: no value in the log's bytes, its marker, or anything log prints.
    const files = ['access.log', 'access.log.tail'].map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    const shown = await runCli(['log'], { home, env });
    const who = await runCli(['log', '--who', 'github', '--json'], { home, env });
    for (const text of [files, shown.stdout, shown.stderr, who.stdout, who.stderr, JSON.stringify(got)]) {
      for (const secret of [token, hassToken, token.slice(4, 20)]) expect(text).not.toContain(secret);
    }
    // Records are sealed: names are not readable from the file without the key.
    expect(files).not.toContain('github_token');
  });

  it('log --who github lists the programs that had the token; log hass --since filters', async () => {
    const home = cloneVault(base);
    for (const cmd of [['run', 'github', '--', 'true'], ['run', 'github', '--', 'env'], ['run', 'github', '--', 'true'], ['load', 'hass']]) {
      const r = await runCli(cmd, { home, env });
      expect(r.code, r.stderr).toBe(0);
    }
    const who = await runCli(['log', '--who', 'github', '--json'], { home, env });
    expect(who.code, who.stderr).toBe(0);
    const programs = (JSON.parse(who.stdout) as { programs: Array<{ program: string; times: number }> }).programs;
    expect(programs.map((p) => [p.program, p.times]).sort()).toEqual([['env', 1], ['true', 2]]);
    const table = await runCli(['log', '--who', 'github'], { home, env });
    expect(table.stdout).toMatch(/^PROGRAM\s+PATH/);
    expect(table.stdout).toMatch(/true\s+\/\S+\/true/);
    const hass = await runCli(['log', 'hass', '--since', '1d', '--json'], { home, env });
    expect((JSON.parse(hass.stdout) as { records: Rec[] }).records.map((r) => r.cmd)).toEqual(['load']);
    const none = await runCli(['log', '--who', 'proxmox'], { home, env });
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/No record of proxmox/);
  });

  it('log --off stops recording (and is recorded); --on starts again', async () => {
    const home = cloneVault(base);
    expect((await runCli(['log', '--off'], { home, env })).code).toBe(0);
    expect((await runCli(['load', 'github'], { home, env })).code).toBe(0);
    expect((await runCli(['log', '--on'], { home, env })).code).toBe(0);
    expect((await runCli(['load', 'hass'], { home, env })).code).toBe(0);
    const got = await records(home);
    expect(got.problems).toEqual([]);
    expect(got.records.map((r) => [r.cmd, r.state])).toEqual([
      ['log --off', 'off'],
      ['log --on', 'on'],
      ['load', 'on'],
    ]);
  });
});

describe('an altered log is reported (exit 6), never silently accepted', () => {
  let logged: string;
  beforeAll(async () => {
    logged = cloneVault(base);
    for (const cmd of [['load', 'github'], ['load', 'hass'], ['run', 'github', '--', 'true'], ['load', 'github']]) {
      expect((await runCli(cmd, { home: logged, env })).code).toBe(0);
    }
  });
  const lines = (dir: string) => readFileSync(join(dir, 'access.log'), 'utf8').split(/(?<=\n)/);
  const edit = (fn: (dir: string, l: string[]) => void) => (dir: string) => fn(dir, lines(dir));
  const put = (dir: string, l: readonly (string | undefined)[]) => writeFileSync(join(dir, 'access.log'), l.join(''));
  const flipCt = (line: string) => {
    const at = line.indexOf('"ct":"') + 6;
    return line.slice(0, at) + (line[at] === 'A' ? 'B' : 'A') + line.slice(at + 1);
  };

  it.each([
    ['a byte of a record changed', edit((d, l) => put(d, l.map((x, i) => (i === 1 ? flipCt(x) : x)))), /record 2 was edited/],
    ['a record removed from the middle', edit((d, l) => writeFileSync(join(d, 'access.log'), l.filter((_x, i) => i !== 1).join(''))), /follows a record that is not in the log/],
    ['the last record removed', edit((d, l) => writeFileSync(join(d, 'access.log'), l.slice(0, -1).join(''))), /was cut/],
    ['cut in the middle of the last record', edit((d, l) => writeFileSync(join(d, 'access.log'), l.join('').slice(0, -40))), /cut short|was cut/],
    ['two records swapped', edit((d, l) => writeFileSync(join(d, 'access.log'), [l[0], l[2], l[1], l[3]].join(''))), /follows a record that is not in the log/],
    ['a state flipped to off', edit((d, l) => writeFileSync(join(d, 'access.log'), l.map((x, i) => (i === 3 ? x.replace(' on ', ' off ') : x)).join(''))), /record 4 was edited/],
    ['the tail marker removed', (d: string) => rmSync(join(d, 'access.log.tail')), /access\.log\.tail is missing/],
    ['the log emptied', (d: string) => writeFileSync(join(d, 'access.log'), ''), /not the one access\.log\.tail was written for/],
    ['the log replaced by a new one', (d: string) => rmSync(join(d, 'access.log')), /not the one access\.log\.tail was written for/],
  ])('%s', async (_label, spoil, message) => {
    const home = cloneVault(logged);
    spoil(vaultDir(home));
    const r = await runCli(['log'], { home, env });
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/integrity check failed/);
  });

  it('an older copy of the log and its marker together (a rollback of both) is not detected: documented', async () => {
    const home = cloneVault(logged);
    const dir = vaultDir(home);
    copyFileSync(join(dir, 'access.log'), join(home, 'old.log'));
    copyFileSync(join(dir, 'access.log.tail'), join(home, 'old.tail'));
    expect((await runCli(['load', 'hass'], { home, env })).code).toBe(0);
    copyFileSync(join(home, 'old.log'), join(dir, 'access.log'));
    copyFileSync(join(home, 'old.tail'), join(dir, 'access.log.tail'));
    const r = await runCli(['log'], { home, env });
    expect(r.code).toBe(0); // SECURITY.md: what the log does not detect
  });
});

describe('appending', () => {
  it('24 concurrent loads and runs append 24 whole records that verify', async () => {
    const home = cloneVault(base);
    const runs = Array.from({ length: 24 }, (_x, i) => runCli(i % 2 ? ['load', 'github'] : ['run', 'hass', '--', 'true'], { home, env, timeoutMs: 120_000 }));
    for (const r of await Promise.all(runs)) expect(r.code, r.stderr).toBe(0);
    const got = await records(home);
    expect(got.code, got.stderr).toBe(0);
    expect(got.problems).toEqual([]);
    expect(got.records).toHaveLength(24);
    expect(got.records.filter((r) => r.cmd === 'load')).toHaveLength(12);
  }, 180_000);

  it('a log that cannot be written (a symlink in its place) never stops load: one warning, the values printed', async () => {
    const home = cloneVault(base);
    const dir = vaultDir(home);
    mkdirSync(join(home, 'elsewhere'));
    symlinkSync(join(home, 'elsewhere', 'log'), join(dir, 'access.log'));
    const r = await runCli(['load', 'github'], { home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('GITHUB_PERSONAL_ACCESS_TOKEN=');
    expect(r.stderr.match(/could not write the access log/g)).toHaveLength(1);
    expect(() => readFileSync(join(home, 'elsewhere', 'log'))).toThrow(); // never written through the link
    const run = await runCli(['run', 'github', '--', 'true'], { home, env });
    expect(run.code, run.stderr).toBe(0);
  });

  it('kill -9 between a record and its tail marker (the first record, and a later one) leaves a log that verifies, the record in it', async () => {
    const home = cloneVault(base);
    const killed = { MCP_TOKENS_FAILPOINT: 'log:appended' };
    const first = await runCli(['load', 'github'], { home, env: { ...env, ...killed } });
    expect(first.signal).toBe('SIGKILL');
    expect((await runCli(['load', 'hass'], { home, env })).code).toBe(0);
    const later = await runCli(['run', 'github', '--', 'true'], { home, env: { ...env, ...killed } });
    expect(later.signal).toBe('SIGKILL');
    const got = await records(home);
    expect(got.code, got.stderr).toBe(0);
    expect(got.problems).toEqual([]);
    expect(got.records.map((r) => r.cmd)).toEqual(['load', 'load', 'run']);
  });

  it('rekey re-seals the log: every record still reads, the chain still verifies', async () => {
    const home = cloneVault(base);
    for (const cmd of [['load', 'github'], ['load', 'hass']]) expect((await runCli(cmd, { home, env })).code).toBe(0);
    const before = readFileSync(join(vaultDir(home), 'access.log'), 'utf8');
    const rk = await runCli(['rekey'], { home, env });
    expect(rk.code, rk.stderr).toBe(0);
    expect(readFileSync(join(vaultDir(home), 'access.log'), 'utf8')).not.toBe(before);
    const got = await records(home);
    expect(got.code, got.stderr).toBe(0);
    expect(got.problems).toEqual([]);
    expect(got.records.map((r) => r.cmd)).toEqual(['load', 'load']);
  });
});
