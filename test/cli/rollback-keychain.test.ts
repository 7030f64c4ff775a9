/**
 * Rollback detection across backend moves (src/vault/manifest.ts): a keychain vault keeps no
 * manifest (its entries are keychain items), a move to the keychain removes it, a move back to
 * files writes a closed one that checks out — and an entry file from before both moves (sealed
 * under the same data key, which moves keep) is then refused.
 */
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { githubClassic, passphraseEnv } from '../helpers/cli.js';
import { keychainCli, requireKeyringOrSkip } from './keychain-harness.js';

const RUN = requireKeyringOrSkip();

describe.runIf(RUN)('rollback manifest across backend moves', () => {
  const kc = keychainCli();
  it('file → keychain removes it; keychain → file writes a closed one; an older entry file is then refused', async () => {
    const env = { MCP_TOKENS_KEYCHAIN_SERVICE: 'mcp-tokens-rollback', ...passphraseEnv(kc.home) };
    const cli = (args: string[], input?: string) => kc.run(args, { env, ...(input !== undefined ? { input } : {}) });
    const old = githubClassic();
    const now = githubClassic();
    expect((await cli(['store', 'github', 'token', '--backend', 'file'], `${old}\n`)).code).toBe(0);
    const older = join(kc.home, 'older-github_token');
    copyFileSync(join(kc.dir, 'github_token'), older);
    expect((await cli(['store', 'github', 'token'], `${now}\n`)).code).toBe(0);
    expect(readdirSync(kc.dir)).toContain('manifest');

    const toKeychain = await cli(['backend', 'keychain']);
    expect(toKeychain.code, toKeychain.stderr).toBe(0);
    expect(readdirSync(kc.dir)).not.toContain('manifest');
    const k = await cli(['load', 'github', '--format', 'json']);
    expect(k.code, k.stderr).toBe(0);
    expect(Object.values(JSON.parse(k.stdout) as Record<string, string>)).toEqual([now]);

    const toFile = await cli(['backend', 'file', '--kdf', 'interactive']);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(readdirSync(kc.dir)).toContain('manifest');
    const f = await cli(['load', 'github', '--format', 'json']);
    expect(f.code, f.stderr).toBe(0);
    expect(Object.values(JSON.parse(f.stdout) as Record<string, string>)).toEqual([now]);
    const d = await cli(['doctor']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(d.stdout + d.stderr).toContain('no entry is older than the vault\'s manifest');

    copyFileSync(older, join(kc.dir, 'github_token'));
    const r = await cli(['load', 'github']);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain('older than the vault\'s manifest');
    expect(r.stderr).not.toContain(old);
  });
});
