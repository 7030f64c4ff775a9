/**
 * `unlock` / `lock` end to end with real agent processes: an MCP client starts a server through
 * `run` with no passphrase source at all; status, lock, timeouts; kill -9 and stale sockets; two
 * vaults; passwd and rekey while unlocked; what the agent refuses; the canary never leaks.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, PASSPHRASE, REPO, canary, cliEnv, ensureBuilt, githubClassic, writePassphraseFile } from '../helpers/cli.js';
import { openVault } from '../cli/support.js';
import { findAgent, agentKeyHandle } from '../../src/agent/client.js';
import { entryAd, vaultKeyAd } from '../../src/crypto/format.js';
import { agentVault, cli, pidAlive, procText, status, unlockVault, until, type AgentVault } from './support.js';
import { withMcpClient } from '../helpers/mcp.js';

const FIXTURE = join(REPO, 'test/fixtures/mcp-env-server.mjs');
const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');

beforeAll(() => ensureBuilt());

describe('unlock, run through the agent, lock', () => {
  const token = githubClassic();
  const secret = canary();
  let v: AgentVault;
  let pid: number;
  const outputs: string[] = [];

  beforeAll(async () => {
    v = await agentVault([
      ['github', 'token', token],
      ['myapp', 'secret', secret],
    ]);
    const s = await unlockVault(v, ['--timeout', '10m', '--idle', '5m']);
    outputs.push(s.unlock.stdout, s.unlock.stderr);
    pid = s.pid!;
  });

  it('status says unlocked, which vault, since and until', async () => {
    const s = await status(v);
    expect(s).toMatchObject({ unlocked: true, vault: v.dir, idleMs: 300_000 });
    const span = Date.parse(s.until!) - Date.parse(s.since!);
    expect(span).toBe(600_000);
    const text = await cli(v, ['unlock', '--status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^unlocked {2}.*\nsince {5}.*\nuntil {5}.*\nidle {6}locks after 5m without use\nagent {5}pid \d+/);
    outputs.push(text.stdout, text.stderr);
  });

  it('an MCP client starts a server through run with no passphrase anywhere in the environment', async () => {
    const env = cliEnv(v.home, v.env);
    expect(Object.keys(env).some((k) => k.startsWith('MCP_TOKENS_PASSPHRASE'))).toBe(false);
    await withMcpClient({ command: process.execPath, args: [BIN, 'run', 'github', 'myapp', '--', process.execPath, FIXTURE], env }, async ({ client }) => {
      const result = await client.callTool({ name: 'env_report', arguments: { names: ['GITHUB_PERSONAL_ACCESS_TOKEN', 'MYAPP_SECRET'] } });
      expect((result.structuredContent as { report: unknown[] }).report).toEqual([
        { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha(token) },
        { name: 'MYAPP_SECRET', set: true, sha256: sha(secret) },
      ]);
    });
  });

  it('load, store (with its backup), list and restore work with no passphrase', async () => {
    const next = githubClassic();
    const stored = await cli(v, ['store', 'github', 'token', '-'], { input: next });
    expect(stored.code, stored.stderr).toBe(0);
    const loaded = await cli(v, ['load', 'github']);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toContain(next);
    const list = await cli(v, ['list']);
    expect(list.code, list.stderr).toBe(0);
    outputs.push(list.stdout, list.stderr, stored.stdout, stored.stderr);
    const restored = await cli(v, ['restore', 'github', 'token']);
    expect(restored.code, restored.stderr).toBe(0);
    expect((await cli(v, ['load', 'github'])).stdout).toContain(token);
    // What the agent sealed opens with the passphrase too (same key, same format).
    const vault = await openVault(v.dir);
    try {
      expect(await vault.get('github', 'token')).toBe(token);
    } finally {
      vault.close();
    }
  });

  it('no secret in the agent argv or environment; the passphrase and canary in no output', () => {
    const argv = procText(pid, 'cmdline');
    expect(argv.startsWith('mcp-tokens-agent')).toBe(true); // the right process (its title replaces argv)
    for (const s of [PASSPHRASE, secret, token]) expect(argv).not.toContain(s);
    expect(procText(pid, 'environ')).toBe('');
    for (const o of outputs) for (const s of [PASSPHRASE, secret, token]) expect(o).not.toContain(s);
  });

  it('the agent holds no file of the vault open', () => {
    const links = readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    expect(links.some((l) => l.startsWith('socket:'))).toBe(true); // we did read its descriptors
    expect(links.filter((l) => l.startsWith(v.dir))).toEqual([]);
    expect(readlinkSync(`/proc/${pid}/cwd`)).toBe('/');
  });

  it('refuses associated data that is not an entry, backup or file label (the vault-key AD)', async () => {
    const found = await findAgent(v.dir, v.env);
    if (!('connection' in found)) throw new Error(`no agent: ${'notice' in found ? found.notice : ''}`);
    const handle = agentKeyHandle(found.connection);
    try {
      const wrapped = JSON.parse(readFileSync(join(v.dir, 'vault.json'), 'utf8')) as { kdf: { salt: string; opslimit: number; memlimit: number } };
      const ad = vaultKeyAd(new Uint8Array(Buffer.from(wrapped.kdf.salt, 'base64')), wrapped.kdf.opslimit, wrapped.kdf.memlimit);
      await expect(handle.seal(new Uint8Array(32), ad)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(handle.seal(new Uint8Array(4), new TextEncoder().encode('anything'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      const bad = new Uint8Array([...entryAd('entry', 'github', 'token'), 0]);
      await expect(handle.seal(new Uint8Array(4), bad)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      // A well-formed entry AD works, and a blob opens only under its own AD.
      const text = await handle.seal(new TextEncoder().encode('x'), entryAd('entry', 'github', 'token'));
      await expect(handle.open(text, entryAd('entry', 'hass', 'token'), 'swapped')).rejects.toMatchObject({ code: 'INTEGRITY' });
      const replies = await found.connection.request('open', { ad: 'AAAA', text, what: 'x' });
      expect(replies.ok).toBe(false);
      expect(JSON.stringify(replies)).not.toContain(secret);
    } finally {
      found.connection.close();
    }
  });

  it('unlock again changes nothing and says so', async () => {
    const before = await status(v);
    const r = await cli(v, ['unlock', '--timeout', '1h']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Already unlocked');
    expect(await status(v)).toEqual(before);
  });

  it('lock: the agent exits, its socket is gone, and commands need the passphrase again', async () => {
    const r = await cli(v, ['lock']);
    expect(r.code, r.stderr).toBe(0);
    expect(await until(() => !pidAlive(pid))).toBe(true);
    expect(readdirSync(join(v.run, 'mcp-tokens'))).toEqual([]);
    expect((await status(v)).unlocked).toBe(false);
    const load = await cli(v, ['load', 'github']);
    expect(load.code).toBe(4);
    expect(load.stderr).toContain('mcp-tokens unlock');
    const again = await cli(v, ['lock']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('was not unlocked');
  });
});

describe('timeouts', () => {
  it('the absolute timeout locks by itself', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const s = await unlockVault(v, ['--timeout', '3s']);
    expect(Date.parse(s.until!) - Date.parse(s.since!)).toBe(3_000);
    expect(await until(() => !pidAlive(s.pid!), 15_000)).toBe(true);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(s.until!));
    expect((await status(v)).unlocked).toBe(false);
    expect(readdirSync(join(v.run, 'mcp-tokens'))).toEqual([]);
  });

  it('the idle timeout locks after no use, and use postpones it', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const s = await unlockVault(v, ['--idle', '3s']);
    const started = Date.now();
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 1_200));
      const found = await findAgent(v.dir, v.env); // each request restarts the idle clock
      expect('connection' in found).toBe(true);
      if ('connection' in found) found.connection.close();
    }
    expect(Date.now() - started).toBeGreaterThan(4_000);
    expect(pidAlive(s.pid!)).toBe(true);
    expect(await until(() => !pidAlive(s.pid!), 15_000)).toBe(true);
  });

  it('SIGTERM locks', async () => {
    const v = await agentVault([['github', 'token', githubClassic()]]);
    const s = await unlockVault(v);
    process.kill(s.pid!, 'SIGTERM');
    expect(await until(() => !pidAlive(s.pid!))).toBe(true);
    expect(readdirSync(join(v.run, 'mcp-tokens'))).toEqual([]);
  });
});

describe('a dead or foreign agent is ignored', () => {
  it('kill -9: clients fall back to the passphrase with a clear message; unlock replaces the stale socket', async () => {
    const token = githubClassic();
    const v = await agentVault([['github', 'token', token]]);
    const s = await unlockVault(v);
    process.kill(s.pid!, 'SIGKILL');
    expect(await until(() => !pidAlive(s.pid!))).toBe(true);
    const withPass = await cli(v, ['load', 'github'], { withPassphrase: true });
    expect(withPass.code, withPass.stderr).toBe(0);
    expect(withPass.stdout).toContain(token);
    expect(withPass.stderr).toMatch(/agent socket .* is stale/);
    const without = await cli(v, ['load', 'github']);
    expect(without.code).toBe(4);
    expect(without.stderr).toContain('stale');
    const again = await unlockVault(v);
    expect(again.pid).not.toBe(s.pid);
    expect((await cli(v, ['load', 'github'])).stdout).toContain(token);
    expect((await cli(v, ['lock'])).code).toBe(0);
  });

  it('two vaults, two agents, each serving its own', async () => {
    const [t1, t2] = [githubClassic(), githubClassic()];
    const a = await agentVault([['github', 'token', t1]]);
    const b = await agentVault([['github', 'token', t2]], 'another passphrase here');
    // Same runtime dir for both: one agent per vault, told apart by the socket name.
    b.env = a.env;
    b.passEnv = { ...b.passEnv, XDG_RUNTIME_DIR: a.run };
    const sa = await unlockVault(a);
    const sb = await unlockVault(b);
    expect(sa.pid).not.toBe(sb.pid);
    expect(readdirSync(join(a.run, 'mcp-tokens')).filter((n) => n.endsWith('.sock'))).toHaveLength(2);
    expect((await cli(a, ['load', 'github'])).stdout).toContain(t1);
    expect((await cli(b, ['load', 'github'])).stdout).toContain(t2);
    expect((await cli(a, ['lock'])).code).toBe(0);
    expect((await cli(a, ['load', 'github'])).code).toBe(4);
    expect((await cli(b, ['load', 'github'])).stdout).toContain(t2);
    expect((await cli(b, ['lock'])).code).toBe(0);
  });
});

describe('the key changes under the agent', () => {
  it('passwd while unlocked: the agent locks itself; nothing is sealed under a stale unlock', async () => {
    const token = githubClassic();
    const v = await agentVault([['github', 'token', token]]);
    const s = await unlockVault(v);
    const found = await findAgent(v.dir, v.env);
    if (!('connection' in found)) throw new Error('no agent');
    const handle = agentKeyHandle(found.connection);
    const newPass = writePassphraseFile(v.home, 'a brand new passphrase', 'newpass');
    const r = await cli(v, ['passwd'], { withPassphrase: true, env: { MCP_TOKENS_NEW_PASSPHRASE_FILE: newPass } });
    expect(r.code, r.stderr).toBe(0);
    // Before or after its watch fires, a seal asked over an open connection is refused.
    await expect(handle.seal(new TextEncoder().encode('x'), entryAd('entry', 'github', 'token'))).rejects.toBeDefined();
    found.connection.close();
    expect(await until(() => !pidAlive(s.pid!))).toBe(true);
    const load = await cli(v, ['load', 'github'], { env: { MCP_TOKENS_PASSPHRASE_FILE: newPass } });
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toContain(token);
  });

  it('rekey while unlocked: the agent locks itself and every file opens under the new key only', async () => {
    const token = githubClassic();
    const v = await agentVault([
      ['github', 'token', githubClassic()],
      ['github', 'token', token],
    ]);
    const s = await unlockVault(v);
    const r = await cli(v, ['rekey'], { withPassphrase: true });
    expect(r.code, r.stderr).toBe(0);
    expect(await until(() => !pidAlive(s.pid!))).toBe(true);
    const stored = await cli(v, ['store', 'github', 'token', '-'], { input: githubClassic() });
    expect(stored.code).toBe(4); // no agent, no passphrase: refused, nothing written
    const vault = await openVault(v.dir);
    try {
      expect(await vault.get('github', 'token')).toBe(token);
      expect((await vault.list()).every((e) => e.status === 'ok')).toBe(true);
      expect(vault.backups()).toHaveLength(1);
      const { readBackup } = await import('../../src/vault/backups.js');
      await readBackup([await vault.key()], vault.backups()[0]!); // opens under the new key alone
    } finally {
      vault.close();
    }
  });
});
