/**
 * How a rewritten server will open the vault at start (src/migrate/unlock.ts), in-process: the
 * agent check never hangs on an agent that does not answer, and the server's own env decides
 * (not migrate's). The CLI side is test/cli/migrate-unlock.test.ts.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentPaths } from '../../src/agent/paths.js';
import { setTestRoots } from '../helpers/cli.js';
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
