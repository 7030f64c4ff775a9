/** The public library API: loadCredentials on a real file vault made through the Vault class. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCredentials, Vault, VaultError } from '../src/index.js';
import { githubClassic } from './helpers/cli.js';

for (const k of Object.keys(process.env)) if (k.startsWith('MCP_TOKENS_')) delete process.env[k];
const root = mkdtempSync(join(tmpdir(), 'mcpt-lib-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const pass = 'library passphrase';
const provider = async () => new TextEncoder().encode(pass);

describe('loadCredentials', () => {
  const dir = join(root, 'vault');
  const token = githubClassic();

  it('returns the env map of a service', async () => {
    const vault = await Vault.open({ dir, passphrase: provider, backend: 'file', kdf: 'interactive' }, { create: true });
    await vault.store('github', 'token', token);
    await vault.store('hass', 'url', 'http://127.0.0.1:8123');
    vault.close();
    const env = await loadCredentials('github', { dir, passphrase: pass });
    expect(env).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: token });
  });

  it('rejects with NOT_FOUND and the store hint when a required field is missing', async () => {
    const err = await loadCredentials('hass', { dir, passphrase: pass }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).code).toBe('NOT_FOUND');
    expect((err as VaultError).hint).toContain('mcp-tokens store hass token');
  });

  it('rejects a wrong passphrase with BAD_PASSPHRASE and never prompts', async () => {
    const err = await loadCredentials('github', { dir, passphrase: 'wrong' }).catch((e: unknown) => e);
    expect((err as VaultError).code).toBe('BAD_PASSPHRASE');
    const none = await loadCredentials('github', { dir }).catch((e: unknown) => e);
    expect((none as VaultError).code).toBe('NO_PASSPHRASE');
  });
});
