/**
 * How a rewritten server will open the vault at start (src/migrate/unlock.ts), in-process: the
 * agent check never hangs on an agent that does not answer, and the server's own env decides
 * (not migrate's). The CLI side is test/cli/migrate-unlock.test.ts.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentPaths } from '../../src/agent/paths.js';
import { ensureBuilt, githubClassic, setTestRoots } from '../helpers/cli.js';
import { agentVault, cli, unlockVault } from '../agent/support.js';

beforeAll(() => ensureBuilt());
import { unlockAtStart, vaultAccess, type VaultAccess } from '../../src/migrate/unlock.js';

const roots: string[] = [];
afterEach(() => {
  setTestRoots(undefined);
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});
function root(): string {
  const r = mkdtempSync(join(tmpdir(), 'mcpt-unlock-'));
  roots.push(r);
  return r;
}

describe('vaultAccess: the agent check', () => {
  it('an agent socket that accepts but never answers counts as no agent, within the time limit', async () => {
    const r = root();
    const run = join(r, 'run');
    mkdirSync(run, { mode: 0o700 });
    const dir = join(r, 'vault');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'vault.json'), '{}', { mode: 0o600 });
    const env = {};
    setTestRoots({ runUser: run, tmp: r, home: r });
    const paths = agentPaths(dir);
    mkdirSync(paths.dir, { mode: 0o700 });
    writeFileSync(paths.token, 'a'.repeat(64), { mode: 0o600 });
    const sockets: net.Socket[] = [];
    const hung = net.createServer((s) => void sockets.push(s)); // reads the hello, never replies
    await new Promise<void>((ok) => hung.listen(paths.socket, ok));
    chmodSync(paths.socket, 0o600); // as the agent's own: the client refuses a socket others can reach
    try {
      const access = await vaultAccess({ dir, backend: 'file', exists: true, home: r, env });
      expect(access.agent).toBeUndefined();
      expect(sockets).toHaveLength(1); // it did connect: the limit, not a missing socket, ended it
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((ok) => hung.close(ok));
    }
  }, 30_000);

  it('a vault this run creates is not checked for an agent; a folder other than ~/.mcp_tokens is named in the commands', async () => {
    const r = root();
    const access = await vaultAccess({ dir: join(r, 'elsewhere'), backend: 'file', exists: false, home: r, env: {} });
    expect(access).toEqual({ dir: join(r, 'elsewhere'), backend: 'file', defaultDir: join(r, '.mcp_tokens'), dirFlag: `--dir '${join(r, 'elsewhere')}'` });
    const u = unlockAtStart([{ name: 'MCP_TOKENS_DIR', value: join(r, 'elsewhere') }], access, 'linux');
    expect(u).toMatchObject({ via: 'none', launcher: false });
    expect(u.fix).toContain(`mcp-tokens unlock --dir '${join(r, 'elsewhere')}'`);
  });

  it('a vault outside ~/.mcp_tokens that the server env does not name: the server will open the default one', async () => {
    const r = root();
    await withBus(r);
    const access = await vaultAccess({ dir: join(r, 'elsewhere'), backend: 'keychain', exists: true, home: r, env: {} });
    const u = unlockAtStart([], access, 'linux');
    expect(u).toMatchObject({ via: 'none', launcher: false, fix: `add "MCP_TOKENS_DIR": "${join(r, 'elsewhere')}" to the server's env` });
    expect(u.detail).toContain(`it will open the vault in ${join(r, '.mcp_tokens')} (its env sets no MCP_TOKENS_DIR), not ${join(r, 'elsewhere')}`);
    expect(unlockAtStart([{ name: 'MCP_TOKENS_DIR', value: join(r, 'elsewhere') }], access, 'linux')).toMatchObject({ via: 'keychain' });
    expect(unlockAtStart([{ name: 'MCP_TOKENS_DIR', value: 'rel/dir' }], access, 'linux').detail).toContain('is not an absolute path');
    // An entry already launched through run keeps its own --dir, which wins over the env.
    const launch = ['mcp-tokens', 'run', '--dir', join(r, 'elsewhere'), 'github', '--', 'srv'];
    expect(unlockAtStart([], access, 'linux', launch)).toMatchObject({ via: 'keychain' });
    const wrong = unlockAtStart([{ name: 'MCP_TOKENS_DIR', value: join(r, 'elsewhere') }], access, 'linux', ['mcp-tokens', 'run', '--dir=/other', 'github', '--', 'srv', '--dir', join(r, 'elsewhere')]);
    expect(wrong.detail).toContain('it will open the vault in /other (--dir in its command)');
    expect(wrong.fix).toBe(`make the --dir in the server's command '${join(r, 'elsewhere')}'`);
  });
});

/** A stand-in /run/user/<uid> under r with a socket of ours at bus (as the login's session bus). */
async function withBus(r: string): Promise<string> {
  const run = join(r, 'run');
  mkdirSync(run, { mode: 0o700 });
  const bus = net.createServer(() => undefined);
  await new Promise<void>((ok) => bus.listen(join(run, 'bus'), ok));
  buses.push(bus);
  setTestRoots({ runUser: run, tmp: r, home: r });
  return join(run, 'bus');
}
const buses: net.Server[] = [];
afterAll(() => {
  for (const b of buses) b.close();
});

describe('keychain on Linux: MCP clients pass no DBUS_SESSION_BUS_ADDRESS', () => {
  it('the standard session bus of the login is found: the server will reach the keychain', async () => {
    const r = root();
    const bus = await withBus(r);
    const access = await vaultAccess({ dir: join(r, '.mcp_tokens'), backend: 'keychain', exists: true, home: r });
    expect(access.bus).toEqual({ address: `unix:path=${bus}` });
    const u = unlockAtStart([], access, 'linux');
    expect(u).toMatchObject({ via: 'keychain', launcher: true });
    expect(u.detail).toContain(bus);
  });

  it('no bus at /run/user/<uid>/bus: the plan says the server will fail, and what to set', async () => {
    const r = root();
    setTestRoots({ runUser: join(r, 'run'), tmp: r, home: r });
    const access = await vaultAccess({ dir: join(r, '.mcp_tokens'), backend: 'keychain', exists: true, home: r });
    const u = unlockAtStart([], access, 'linux');
    expect(u).toMatchObject({ via: 'none', launcher: false });
    expect(u.detail).toContain('without DBUS_SESSION_BUS_ADDRESS');
    expect(u.detail).toContain(join(r, 'run'));
    expect(u.fix).toContain('"DBUS_SESSION_BUS_ADDRESS"');
    // Set in the server's env: the plan trusts it (run uses it as given).
    expect(unlockAtStart([{ name: 'DBUS_SESSION_BUS_ADDRESS', value: 'unix:path=/x/bus' }], access, 'linux')).toMatchObject({ via: 'keychain' });
  });
});

describe('a file vault: the agent is looked for where run will look, not through migrate\'s own environment', () => {
  it('an agent under XDG_RUNTIME_DIR of migrate\'s env but not at the uid\'s place does not count; the one at the uid\'s place does', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    await unlockVault(v);
    try {
      // Where run looks (the uid's places) has no agent, though migrate's env points at one.
      const r = root();
      setTestRoots({ runUser: join(r, 'run'), tmp: r, home: r });
      const away = await vaultAccess({ dir: v.dir, backend: 'file', exists: true, home: v.home, env: { XDG_RUNTIME_DIR: v.run } });
      expect(away.agent).toBeUndefined();
      expect(unlockAtStart([], away, 'linux')).toMatchObject({ via: 'none', launcher: false });
      // The uid's places hold it: found, with no help from any variable.
      setTestRoots(v.roots);
      const here = await vaultAccess({ dir: v.dir, backend: 'file', exists: true, home: v.home, env: {} });
      expect(here.agent).toBeDefined();
      expect(unlockAtStart([], here, 'linux')).toMatchObject({ via: 'agent', launcher: true });
    } finally {
      await cli(v, ['lock']);
    }
  }, 60_000);
});

describe('unlockAtStart: what the server env gives run', () => {
  const file: VaultAccess = { dir: '/v', backend: 'file' };
  it('MCP_TOKENS_PASSPHRASE_FD is read before any file and no client opens that descriptor: it will fail', () => {
    const r = root();
    const pass = join(r, 'pass');
    writeFileSync(pass, 'secret passphrase\n', { mode: 0o600 });
    const u = unlockAtStart(
      [
        { name: 'MCP_TOKENS_PASSPHRASE_FD', value: '3' },
        { name: 'MCP_TOKENS_PASSPHRASE_FILE', value: pass },
      ],
      file,
      'linux',
    );
    expect(u).toMatchObject({ via: 'none', launcher: false });
    expect(u.detail).toContain('MCP_TOKENS_PASSPHRASE_FD');
    expect(unlockAtStart([{ name: 'MCP_TOKENS_PASSPHRASE_FILE', value: pass }], file, 'linux')).toMatchObject({ via: 'passphrase-file', launcher: true });
  });

  it('a passphrase file others can read is refused as run would refuse it; a missing one too', () => {
    const r = root();
    const loose = join(r, 'loose');
    writeFileSync(loose, 'secret passphrase\n', { mode: 0o644 });
    const u = unlockAtStart([{ name: 'MCP_TOKENS_PASSPHRASE_FILE', value: loose }], file, 'linux');
    expect(u).toMatchObject({ via: 'none', launcher: false });
    expect(u.detail).toMatch(/permissions 644 let other users in/);
    expect(u.detail).not.toContain('secret passphrase');
    const gone = unlockAtStart([{ name: 'MCP_TOKENS_PASSPHRASE_FILE', value: join(r, 'nope') }], file, 'linux');
    expect(gone.detail).toContain('which does not exist');
  });

  it('MCP_TOKENS_PASSPHRASE in the config starts the server but is called out; a keychain needs nothing', () => {
    expect(unlockAtStart([{ name: 'MCP_TOKENS_PASSPHRASE', value: 'x' }], file, 'linux')).toMatchObject({ via: 'passphrase-env', launcher: true });
    expect(unlockAtStart([], { dir: '/v', backend: 'keychain' }, 'darwin')).toMatchObject({ via: 'keychain', launcher: true, detail: expect.stringContaining('macOS Keychain') });
  });
});
