/**
 * Backend moves of more keychain items than the session bus lets one user hold connections for.
 *
 * The keychain library gives every item a process touches a D-Bus connection of its own, held
 * until garbage collection, and its select() breaks at descriptor 1,024: a move of 1,000 spun at
 * 100 % CPU for minutes. Past its first accounts a process hands item calls to worker threads that
 * end, their connections with them, every batch (src/backends/keychain-pool.ts). This file's bus
 * allows 30 connections per user, so a process keeping one per item is refused one well before
 * the 60th item ("The maximum number of active connections"); MCP_TOKENS_KEYCHAIN_BATCH=6 bounds
 * the process's own connections and each worker's at 6 (the defaults, 100 and 400, are for a
 * desktop bus, which allows 100,000 per user). Few items on purpose: every item is a connection
 * and a Secret Service session opened, and gnome-keyring 42 has an upstream race that aborts the
 * daemon under many of them (SECURITY.md).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PASSPHRASE, passphraseEnv, tempHome } from '../helpers/cli.js';
import { Vault } from '../../src/vault/vault.js';
import { entryFiles, keychainCli, keychainServiceOf, requireKeyringOrSkip } from './keychain-harness.js';

const RUN = requireKeyringOrSkip();

describe.skipIf(!RUN)('backend moves past the bus\'s connections per user', () => {
  const kc = keychainCli({ maxConnectionsPerUser: 30 });

  it('moves 60 credentials both ways with calls in worker threads: every value arrives, nothing is left behind', async () => {
    const home = tempHome('mcpt-move-many-');
    const dir = join(home, 'vault');
    const base = 'mcp-tokens-move-many';
    const env = { MCP_TOKENS_DIR: dir, MCP_TOKENS_KEYCHAIN_SERVICE: base, MCP_TOKENS_KEYCHAIN_BATCH: '6', ...passphraseEnv(home) };
    const cli = (args: string[]) => kc.run(args, { env });
    const count = 60;
    const value = (i: number) => `value-${i}-${'x'.repeat(20)}`;
    const passphrase = async () => new TextEncoder().encode(PASSPHRASE);
    const vault = await Vault.open({ dir, backend: 'file', kdf: 'interactive', passphrase, keychainService: base }, { create: true });
    try {
      await vault.storeMany(Array.from({ length: count }, (_x, i) => ({ service: `svc${i}`, key: 'token', value: value(i) })));
    } finally {
      vault.close();
    }

    const there = await cli(['backend', 'keychain']);
    expect(there.code, there.stderr).toBe(0);
    expect(there.stderr).toContain(`Moved ${count} credentials from encrypted files`);
    expect(there.stdout + there.stderr).not.toContain('value-'); // values cross threads, never into output
    expect(entryFiles(dir)).toEqual([]);
    const service = keychainServiceOf(dir, base);
    for (const i of [0, 1, 37, count - 1]) expect(await kc.lookup(`svc${i}/token`, service)).toBe(value(i));
    const all = await cli(['load', 'all', '--format', 'json']);
    expect(all.code, all.stderr).toBe(0);
    expect(Object.values(JSON.parse(all.stdout) as Record<string, string>).sort()).toEqual(Array.from({ length: count }, (_x, i) => value(i)).sort());

    const back = await cli(['backend', 'file', '--kdf', 'interactive']);
    expect(back.code, back.stderr).toBe(0);
    expect(entryFiles(dir)).toHaveLength(count);
    expect(back.stdout + back.stderr).not.toContain('value-');
    // secret-tool prints the attributes of what it finds on stderr: nothing at all is left.
    const left = spawnSync('secret-tool', ['search', '--all', 'service', service], { env: { ...process.env, ...kc.session().env }, encoding: 'utf8' });
    expect(left.stdout + left.stderr).toBe('');
    const again = await cli(['load', 'all', '--format', 'json']);
    expect(Object.keys(JSON.parse(again.stdout) as Record<string, string>)).toHaveLength(count);
  });
});
