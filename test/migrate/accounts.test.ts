/** Instance and service names made from server names: always valid, never a built-in or reserved name. */
import { describe, expect, it } from 'vitest';
import { NAME_RE } from '../../src/names.js';
import { assignAccounts, keyFromEnv, safeName, userServiceName } from '../../src/migrate/accounts.js';
import { candidate } from '../../src/migrate/known.js';
import { githubToken } from './tokens.js';

describe('names from server names', () => {
  it('makes a valid name from any text, or none', () => {
    expect(safeName('GitHub (Work)')).toBe('github-work');
    expect(safeName('Café Ünïcode')).toBe('cafe-unicode');
    expect(safeName('1password')).toBe('mcp-1password');
    expect(safeName('--__--')).toBeUndefined();
    expect(safeName('日本語')).toBeUndefined();
    for (const text of ['x'.repeat(80), `a${'-b'.repeat(40)}`, 'A_B_C', '../../etc/passwd', 'name@instance', 'a b\nc']) {
      const n = safeName(text);
      expect(n === undefined || NAME_RE.test(n), text).toBe(true);
    }
    expect(keyFromEnv('OPENAI_API_KEY')).toBe('openai-api-key');
  });

  it('never names a service of your own like a built-in or the reserved service', () => {
    expect(userServiceName('openai')).toBe('openai');
    expect(userServiceName('github')).toBe('github-server');
    expect(userServiceName('mcp-tokens')).toBe('mcp-tokens-server');
    expect(userServiceName('✓')).toBeUndefined();
  });

  it('gives two servers of one name but different tokens two instances (the second after its client), and one token one instance', async () => {
    const [a, b, c] = [githubToken('acc-a'), githubToken('acc-b'), githubToken('acc-c')];
    const mk = (path: string, server: string, value: string) =>
      candidate({ kind: 'config', source: `Cursor (user) config, server '${server}'`, path, envName: 'GITHUB_TOKEN', server: ['mcpServers', server], service: 'github', key: 'token' }, value);
    const list = [mk('/1', 'gh', a), mk('/2', 'work', b), mk('/3', 'work', c), mk('/4', 'other', b)];
    const out = await assignAccounts(list, { get: async () => undefined, overwrite: false, trustProject: false });
    expect(out.map((x) => x.service)).toEqual(['github', 'github@work', 'github@cursor-user', 'github@work']);
  });
});
