/**
 * Service and key names are checked before any file is touched (DESIGN.md §3): `../x`, `a_b`,
 * `A`, empty, control characters and over-long names exit 2 and leave no file anywhere — not in
 * the vault, not beside it, not where a naive path join would have put it.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { seedVault, snapshot } from './support.js';

const bad = ['../x', '../../x', 'a/b', 'a_b', 'A', 'Github', '', '.', '..', '1abc', 'a.b', 'a b', 'ä', '\u0001x', 'x\u007f', 'x\u200b', 'a'.repeat(33), 'a'.repeat(4096)];

let home: string;
let env: Record<string, string>;
beforeAll(async () => {
  ensureBuilt();
  home = tempHome();
  env = passphraseEnv(home);
  await seedVault(home, [['github', 'token', githubClassic()], ['myapp', 'key', 'v1']]);
});

/** Where a naive `join(vaultDir, service + '_' + key)` would have written. */
function naivePaths(service: string, key: string): string[] {
  return [resolve(vaultDir(home), `${service}_${key}`), resolve(vaultDir(home), 'backups', `${service}_${key}`)];
}

function expectBadName(r: { code: number | null; stdout: string; stderr: string }, kind: 'service' | 'key') {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(new RegExp(`^mcp-tokens: Invalid ${kind} name`, 'm'));
  expect(r.stderr).toMatch(/hint: .*lower-case/);
}

describe.concurrent('bad names', () => {
  it.each(bad)('store with service %j: exit 2, no file anywhere', async (name) => {
    const before = snapshot(home);
    const r = await runCli(['store', '--', name, 'token', '-'], { home, env, input: 'value-1' });
    expectBadName(r, 'service');
    expect(snapshot(home)).toEqual(before);
    for (const p of naivePaths(name, 'token')) expect(existsSync(p)).toBe(false);
  });

  it.each(['../x', 'a_b', 'A', '', '\u0001x', 'a'.repeat(33)])('store with key %j: exit 2, no file anywhere', async (name) => {
    const before = snapshot(home);
    const r = await runCli(['store', '--', 'myapp', name, '-'], { home, env, input: 'value-1' });
    expectBadName(r, 'key');
    expect(snapshot(home)).toEqual(before);
    for (const p of naivePaths('myapp', name)) expect(existsSync(p)).toBe(false);
  });

  it.each(['../x', 'a_b', 'A', ''])('a first store with service %j creates no vault', async (name) => {
    const fresh = tempHome();
    const e = passphraseEnv(fresh);
    const before = snapshot(fresh);
    const r = await runCli(['store', '--', name, 'key', '-'], { home: fresh, env: e, input: 'value-1' });
    expectBadName(r, 'service');
    expect(snapshot(fresh)).toEqual(before);
  });

  it.each([
    ['load', '../x'],
    ['load', 'a_b'],
    ['delete', '../myapp'],
    ['delete', 'A'],
    ['backups', '../x'],
    ['restore', '../myapp', 'key'],
    ['restore', 'myapp', '../key'],
  ])('%s %s …: exit 2, nothing changed', async (...args) => {
    const before = snapshot(home);
    const r = await runCli(args, { home, env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Invalid (service|key) name/);
    expect(snapshot(home)).toEqual(before);
  });
});

describe.concurrent('names at the limits are accepted (validation passes, then the passphrase is needed: exit 4)', () => {
  it.each([
    ['a', 'b'],
    ['a'.repeat(32), 'k'.repeat(32)],
    ['my-app-2', 'api-key-1'],
  ])('store %s %s', async (service, key) => {
    const before = snapshot(home);
    const r = await runCli(['store', service, key, '-'], { home, input: 'value-1' });
    expect(r.code).toBe(4);
    expect(r.stderr).not.toMatch(/Invalid/);
    expect(snapshot(home)).toEqual(before);
  });
});
