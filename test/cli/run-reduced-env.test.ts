/**
 * MCP clients start servers with a reduced environment: the SDK's StdioClientTransport without an
 * `env` option passes only HOME, LOGNAME, PATH, SHELL, TERM and USER (getDefaultEnvironment).
 * No XDG_RUNTIME_DIR, no DBUS_SESSION_BUS_ADDRESS, no TMPDIR. Here a real MCP client starts a real
 * MCP server through `mcp-tokens run` exactly so, and lists its tools and reads the credential's
 * hash: on a file vault unlocked by an agent (whose unlock ran with XDG_RUNTIME_DIR and TMPDIR set
 * elsewhere, as on a desktop), and on a keychain vault whose Secret Service is reached at the
 * standard bus address of the login, /run/user/<uid>/bus.
 *
 * /run/user/<uid> is a stand-in here (test/helpers/cli.ts testRoots, handed to the CLI by
 * `node --import` in the command's argv — no variable, which the transport would drop anyway).
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN, REPO, ensureBuilt, githubClassic, rootsArgs, runCli, tempHome, type UserRoots } from '../helpers/cli.js';
import { requireKeyringOrSkip, startKeyringSession, type KeyringSession } from '../helpers/keyring-session.js';
import { agentVault, cli, unlockVault, type AgentVault } from '../agent/support.js';
import { TEST_KDF_VARIABLE } from '../../src/crypto/kdf.js';

const FIXTURE = join(REPO, 'test/fixtures/mcp-env-server.mjs');
const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');

beforeAll(() => ensureBuilt());

/**
 * A vault with real Argon2id parameters (the interactive preset): the command a client starts gets
 * no MCP_TOKENS_INSECURE_TEST_KDF either, and refuses the suite's cheap test vaults as it would a
 * user's weakened one.
 */
async function realKdfVault(token: string): Promise<AgentVault> {
  const saved = process.env[TEST_KDF_VARIABLE];
  delete process.env[TEST_KDF_VARIABLE];
  try {
    return await agentVault([['github', 'token', token]]);
  } finally {
    if (saved !== undefined) process.env[TEST_KDF_VARIABLE] = saved;
  }
}

/** Start the fixture server through run as an MCP client does by default: no `env` option. */
async function throughRun(roots: UserRoots, dir: string, services: string[], names: string[]): Promise<{ tools: string[]; report: unknown; stderr: string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...rootsArgs(roots), BIN, '--dir', dir, 'run', ...services, '--', process.execPath, FIXTURE],
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const client = new Client({ name: 'reduced-env-test', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (e) {
    throw new Error(`the server did not start: ${String(e)}\n${stderr}`);
  }
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const result = await client.callTool({ name: 'env_report', arguments: { names } });
    return { tools, report: (result.structuredContent as { report: unknown }).report, stderr };
  } finally {
    await client.close();
  }
}

it('the SDK gives a server without an env option only HOME, LOGNAME, PATH, SHELL, TERM and USER', () => {
  for (const k of Object.keys(getDefaultEnvironment())) expect(['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER']).toContain(k);
});

describe('a file vault unlocked by the agent', () => {
  const token = githubClassic();
  let v: AgentVault;
  beforeAll(async () => {
    v = await realKdfVault(token);
    // Unlocked from a desktop terminal: XDG_RUNTIME_DIR and TMPDIR set (to somewhere else).
    const desk = join(v.home, 'desktop-runtime');
    mkdirSync(desk, { mode: 0o700 });
    v.env = { XDG_RUNTIME_DIR: desk, TMPDIR: desk };
    v.passEnv = { ...v.passEnv, ...v.env };
    await unlockVault(v);
  });
  afterAll(async () => {
    await cli(v, ['lock']);
  });

  it('an MCP client with no env option starts the server through run; it lists its tools and holds the token', async () => {
    const r = await throughRun(v.roots, v.dir, ['github'], ['GITHUB_PERSONAL_ACCESS_TOKEN', 'XDG_RUNTIME_DIR']);
    expect(r.tools).toContain('env_report');
    expect(r.report).toEqual([
      { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha(token) },
      { name: 'XDG_RUNTIME_DIR', set: false },
    ]);
    expect(r.stderr).not.toMatch(/passphrase/i);
  });

  it('with no /run/user/<uid> either, the agent serves from the /tmp place and is found there just the same', async () => {
    const w = await realKdfVault(token);
    w.roots = { ...w.roots, runUser: join(w.home, 'no-such-run') };
    await unlockVault(w);
    try {
      const r = await throughRun(w.roots, w.dir, ['github'], ['GITHUB_PERSONAL_ACCESS_TOKEN']);
      expect(r.report).toEqual([{ name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha(token) }]);
    } finally {
      await cli(w, ['lock']);
    }
  });
});

describe('a keychain vault: the Secret Service at /run/user/<uid>/bus', () => {
  const enabled = requireKeyringOrSkip();
  const token = githubClassic();
  let session: KeyringSession | undefined;
  let home = '';
  let roots: UserRoots;
  beforeAll(async () => {
    if (!enabled) return;
    session = await startKeyringSession();
    home = tempHome('mcpt-rre-');
    // The session's bus listens at <root>/run/bus: <root>/run plays /run/user/<uid>.
    roots = { runUser: join(session.root, 'run'), tmp: home, home };
    const { HOME: _home, ...busEnv } = session.env; // the vault in our HOME, the keyring's data in the session's
    const r = await runCli(['--backend', 'keychain', 'store', 'github', 'token', '-'], { home, env: busEnv, input: token });
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => session?.stop());

  it.skipIf(!enabled)('an MCP client with no env option starts the server through run; it lists its tools and holds the token', async () => {
    const r = await throughRun(roots, join(home, '.mcp_tokens'), ['github'], ['GITHUB_PERSONAL_ACCESS_TOKEN', 'DBUS_SESSION_BUS_ADDRESS']);
    expect(r.tools).toContain('env_report');
    expect(r.report).toEqual([
      { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha(token) },
      // Found for the keychain, not handed on: the server gets what the client gave it.
      { name: 'DBUS_SESSION_BUS_ADDRESS', set: false },
    ]);
  });

  it.skipIf(!enabled)('with no bus at the standard place either, run says what it tried and what to set', async () => {
    const elsewhere: UserRoots = { ...roots, runUser: join(home, 'no-such-run') };
    const r = await runCli(['--dir', join(home, '.mcp_tokens'), 'run', 'github', '--', 'true'], { home, roots: elsewhere, env: { DBUS_SESSION_BUS_ADDRESS: undefined } });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('DBUS_SESSION_BUS_ADDRESS is not set');
    expect(r.stderr).toContain(join(home, 'no-such-run'));
    expect(r.stderr).toContain('set DBUS_SESSION_BUS_ADDRESS');
  });
});
