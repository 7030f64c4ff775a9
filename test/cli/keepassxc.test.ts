/**
 * A second Secret Service provider for real: KeePassXC (Debian `keepassxc`), started headless with
 * a throw-away database (test/helpers/keepassxc-session.ts). The keychain backend's basic contract
 * (set, get, list, delete, probe, the vault key) in-process, and a `run` round trip: a real MCP
 * client with no `env` option starts a server through run on a keychain vault whose Secret
 * Service is KeePassXC at the standard bus address (<root>/run plays /run/user/<uid>).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN, REPO, ensureBuilt, githubClassic, rootsArgs, runCli, tempHome } from '../helpers/cli.js';
import { requireKeePassXCOrSkip, startKeePassXCSession, type KeePassXCSession } from '../helpers/keepassxc-session.js';
import { deleteVaultKey, keychainBackend, probeKeychain, readVaultKey, writeVaultKey } from '../../src/backends/keychain.js';
import { entryName } from '../../src/names.js';

const RUN = requireKeePassXCOrSkip();
const FIXTURE = join(REPO, 'test/fixtures/mcp-env-server.mjs');
const SERVICE = 'mcp-tokens-kpx-test';

describe.skipIf(!RUN)('KeePassXC as the Secret Service', () => {
  let s: KeePassXCSession | undefined;
  beforeAll(async () => {
    ensureBuilt();
    s = await startKeePassXCSession();
    process.env['DBUS_SESSION_BUS_ADDRESS'] = s.env['DBUS_SESSION_BUS_ADDRESS'];
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('the backend contract: set, get, list, delete; probe; the vault key', async () => {
    const b = keychainBackend({ service: SERVICE });
    const gh = entryName('github', 'token');
    const token = githubClassic();
    await b.set(gh, token);
    expect(await b.get(gh)).toBe(token);
    await b.set(gh, `${token}x`); // replaced, not duplicated
    expect(await b.get(gh)).toBe(`${token}x`);
    expect(await b.list()).toEqual([gh]);
    expect(await b.delete(gh)).toBe(true);
    expect(await b.get(gh)).toBeUndefined();
    expect(await b.list()).toEqual([]);
    expect(await probeKeychain({ service: SERVICE })).toEqual({ ok: true });
    const key = new Uint8Array(32).map((_, i) => i * 7);
    await writeVaultKey(key, { service: SERVICE });
    expect(await readVaultKey({ service: SERVICE })).toEqual(key);
    expect(await deleteVaultKey({ service: SERVICE })).toBe(true);
    expect(await readVaultKey({ service: SERVICE })).toBeUndefined();
  });

  it('run round trip: an MCP client with no env option gets the token from KeePassXC at the standard bus', async () => {
    const home = tempHome('mcpt-kpx-');
    const token = githubClassic();
    const stored = await runCli(['--backend', 'keychain', 'store', 'github', 'token', '-'], { home, env: { DBUS_SESSION_BUS_ADDRESS: s!.env['DBUS_SESSION_BUS_ADDRESS'] }, input: token });
    expect(stored.code, stored.stderr).toBe(0);
    const roots = { runUser: join(s!.root, 'run'), tmp: home, home };
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...rootsArgs(roots), BIN, '--dir', join(home, '.mcp_tokens'), 'run', 'github', '--', process.execPath, FIXTURE],
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const client = new Client({ name: 'kpx-test', version: '1.0.0' });
    try {
      await client.connect(transport);
    } catch (e) {
      throw new Error(`the server did not start: ${String(e)}\n${stderr}`);
    }
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('env_report');
      const result = await client.callTool({ name: 'env_report', arguments: { names: ['GITHUB_PERSONAL_ACCESS_TOKEN'] } });
      expect((result.structuredContent as { report: unknown }).report).toEqual([{ name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: createHash('sha256').update(token).digest('hex') }]);
    } finally {
      await client.close();
    }
  }, 60_000);
});
