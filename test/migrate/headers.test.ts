/** The headersHelper a Claude Code remote server gets (rewrite.ts) and the templates `mcp-tokens headers` reads (launch/headers.ts). */
import { describe, expect, it } from 'vitest';
import { serverChange, type EnvDecision, type LaunchOptions } from '../../src/migrate/rewrite.js';
import type { ServerEntry } from '../../src/migrate/sources/configs.js';
import { parseHeaderTemplates, renderHeaders } from '../../src/launch/headers.js';

const server = { path: ['mcpServers', 'x'], name: 'x', command: undefined, args: [], hasArgs: false, env: [], envSize: 0 } as unknown as ServerEntry;
const opts = (o: Partial<LaunchOptions> = {}): LaunchOptions => ({ runCommand: '/opt/my tools/mcp-tokens', platform: 'linux', inVault: new Set(), required: () => [], ...o });
const auth: EnvDecision = { name: 'headers.Authorization', service: 'github', key: 'token', migrated: true, header: { name: 'Authorization', prefix: 'Bearer ' } };

describe('serverChange for a remote server', () => {
  it('writes one shell-quoted headersHelper command, with --dir for a vault elsewhere', () => {
    const c = serverChange(server, [auth], opts({ vaultDir: "/srv/it's" }))!;
    expect(c.launch).toEqual([]);
    expect(c.headers).toEqual({ removed: ['Authorization'], helper: `'/opt/my tools/mcp-tokens' headers --dir '/srv/it'\\''s' github --header 'Authorization=Bearer {token}'` });
  });

  it('keeps every header when they belong to two services, or one is not stored, or on Windows', () => {
    const other: EnvDecision = { name: 'headers.X-Key', service: 'x', key: 'x-key', migrated: true, header: { name: 'X-Key', prefix: '' } };
    expect(serverChange(server, [auth, other], opts())!.keptEnv.map((k) => k.reason)).toEqual([expect.stringMatching(/github and x/), expect.stringMatching(/github and x/)]);
    expect(serverChange(server, [{ ...auth, migrated: false, reason: 'a conflict' }], opts())!.keptEnv[0]!.reason).toBe('a conflict');
    const win = serverChange(server, [auth], opts({ platform: 'win32' }))!;
    expect(win.headers).toBeUndefined();
    expect(win.services).toEqual([]);
    expect(win.keptEnv[0]!.reason).toMatch(/on Windows/);
  });
});

describe('header templates', () => {
  it('fills {key} from the values and keeps the literal text', () => {
    const t = parseHeaderTemplates(['Authorization=Bearer {token}', 'X-Both={user}:{token}']);
    expect(renderHeaders('s', t, { token: 'T0k', user: 'me' })).toEqual({ Authorization: 'Bearer T0k', 'X-Both': 'me:T0k' });
  });

  it.each([[[]], [['Bad Name={token}']], [['A=x']], [['A={Token}']], [['A={token']], [['A=}{token}']], [['A={token}', 'a={token}']]])('refuses %j', (specs) => {
    expect(() => parseHeaderTemplates(specs)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('a field not stored is NOT_FOUND with the store command', () => {
    expect(() => renderHeaders('acme', parseHeaderTemplates(['A={token}']), {})).toThrow(expect.objectContaining({ code: 'NOT_FOUND', hint: expect.stringContaining('mcp-tokens store acme token') }));
  });
});
