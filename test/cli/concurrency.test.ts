/**
 * Concurrent stores on one existing vault (DESIGN.md §6): 20 processes storing 20 different
 * keys all land; 20 processes storing 20 different values into one key leave one of them as the
 * final value and every replaced value (the original included) in exactly one backup. Afterwards
 * no lock or temp file is left.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { canary, ensureBuilt, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';
import { backupValues, openVault, seedVault } from './support.js';

const N = 20;
let home: string;
let dir: string;
let env: Record<string, string>;
const initial = canary();
beforeAll(async () => {
  ensureBuilt();
  home = tempHome();
  env = { ...passphraseEnv(home), MCP_TOKENS_LOCK_TIMEOUT_MS: '60000' };
  dir = await seedVault(home, [['shared', 'key', initial]]);
});

function leftovers(): string[] {
  const backups = existsSync(join(dir, 'backups')) ? readdirSync(join(dir, 'backups')).map((f) => `backups/${f}`) : [];
  return [...readdirSync(dir), ...backups].filter((f) => /(^|\/)\.(tmp-|lock)/.test(f));
}

describe('concurrent stores', () => {
  it(`${N} stores to different keys: all present`, async () => {
    const values = Array.from({ length: N }, () => canary());
    const results = await Promise.all(values.map((v, i) => runCli(['store', 'many', `key-${i}`, '-'], { home, env, input: v, timeoutMs: 90_000 })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const vault = await openVault(dir);
    try {
      for (const [i, v] of values.entries()) expect(await vault.get('many', `key-${i}`)).toBe(v);
      expect((await vault.list()).filter((e) => e.service === 'many')).toHaveLength(N);
      expect(Object.keys(vault.metadata()).filter((k) => k.startsWith('many_'))).toHaveLength(N);
    } finally {
      vault.close();
    }
    expect(leftovers()).toEqual([]);
  });

  it(`${N} stores of different values to one key: one wins, every replaced value is in a backup`, async () => {
    const values = Array.from({ length: N }, () => canary());
    const results = await Promise.all(values.map((v) => runCli(['store', 'shared', 'key', '-'], { home, env, input: v, timeoutMs: 90_000 })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const vault = await openVault(dir);
    try {
      const final = await vault.get('shared', 'key');
      expect(values).toContain(final);
      const backedUp = await backupValues(vault, 'shared', 'key');
      const replaced = [initial, ...values].filter((v) => v !== final);
      expect([...backedUp].sort()).toEqual(replaced.sort());
    } finally {
      vault.close();
    }
    expect(leftovers()).toEqual([]);
  });
});
