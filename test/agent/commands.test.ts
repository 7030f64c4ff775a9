/**
 * Every command the unlock issue lists works through the agent with no passphrase source at all
 * (no MCP_TOKENS_PASSPHRASE*, no terminal): migrate (its values, its sealed file backups of the
 * rewritten config, and --undo, byte for byte) and verify here; run, load, store and list in
 * agent.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt } from '../helpers/cli.js';
import { openVault } from '../cli/support.js';
import { agentVault, cli, unlockVault, type AgentVault } from './support.js';

beforeAll(() => ensureBuilt());

describe('migrate and verify through the agent, no passphrase anywhere', () => {
  const stored = githubClassic();
  const haToken = jwt();
  let v: AgentVault;
  let configPath: string;
  let original: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const ok = req.url === '/user' && req.headers.authorization === `Bearer ${stored}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { login: 'octocat' } : { message: 'Bad credentials' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    v = await agentVault([
      ['github', 'token', stored],
      ['github', 'api', base],
    ]);
    configPath = join(v.home, '.config/Claude/claude_desktop_config.json');
    original = `{
  "mcpServers": {
    "hass": { "command": "npx", "args": ["-y", "hass-mcp"], "env": { "HA_TOKEN": "${haToken}", "HA_URL": "http://127.0.0.1:8123" } },
    "gh": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${stored}" } }
  }
}
`;
    mkdirSync(join(v.home, '.config/Claude'), { recursive: true });
    writeFileSync(configPath, original, { mode: 0o600 });
    // A plaintext file the old script left in the vault directory: migrate seals it in place.
    writeFileSync(join(v.dir, 'proxmox_user'), 'root@pam\n', { mode: 0o600 });
    await unlockVault(v);
  });
  afterAll(() => server.close());

  it('verify checks the stored token live', async () => {
    const r = await cli(v, ['verify', 'github', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { ok: boolean }).ok).toBe(true);
  });

  it('migrate stores the values and seals its backup of the config through the agent', async () => {
    const r = await cli(v, ['migrate']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/passphrase/i);
    const rewritten = readFileSync(configPath, 'utf8');
    expect(rewritten).not.toContain(haToken);
    expect(rewritten).not.toContain(stored);
    expect(readFileSync(join(v.dir, 'proxmox_user'), 'utf8')).toMatch(/^\{"v":2,/);
    expect(readdirSync(join(v.dir, 'backups', 'files')).filter((n) => n.endsWith('.file'))).toHaveLength(2);
    // What the agent sealed opens with the passphrase too: the same key, the same formats.
    const vault = await openVault(v.dir);
    try {
      expect(await vault.get('hass', 'token')).toBe(haToken);
      expect(await vault.get('proxmox', 'user')).toBe('root@pam');
    } finally {
      vault.close();
    }
  });

  it('migrate --history opens the sealed backups', async () => {
    const r = await cli(v, ['migrate', '--history', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const runs = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>;
    // The rewritten config and the replaced plaintext file, each backed up (sealed) first.
    expect(runs.flatMap((run) => run.files.map((f) => f.path)).sort()).toEqual([configPath, join(v.dir, 'proxmox_user')].sort());
  });

  it('migrate --undo restores the config byte for byte', async () => {
    const r = await cli(v, ['migrate', '--undo']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(configPath, 'utf8')).toBe(original);
  });

  it('locked again, the same commands need the passphrase (so the ones above went through the agent)', async () => {
    expect((await cli(v, ['lock'])).code).toBe(0);
    const r = await cli(v, ['migrate', '--history']);
    expect(r.code).toBe(4);
  });
});

describe('the access log through the agent (issue 29)', () => {
  it("load with no passphrase appends its record sealed by the agent, and the agent appends one of the entries it opened", async () => {
    const token = githubClassic();
    const v = await agentVault([['github', 'token', token]]);
    await unlockVault(v);
    const load = await cli(v, ['load', 'github']);
    expect(load.code, load.stderr).toBe(0);
    const { until } = await import('./support.js');
    // The agent writes its record when the connection closes, after load has exited.
    const agentRecord = () => readFileSync(join(v.dir, 'access.log'), 'utf8').split('\n').filter(Boolean).length >= 2;
    expect(await until(agentRecord, 10_000)).toBe(true);
    const log = await cli(v, ['log', '--json']);
    expect(log.code, log.stderr).toBe(0);
    const records = (JSON.parse(log.stdout) as { records: Array<{ cmd: string; names: string[]; client?: string }> }).records;
    expect(records.map((r) => [r.cmd, r.names]).sort()).toEqual([
      ['agent open', ['github_token']],
      ['load', ['github_token']],
    ]);
    expect(records.find((r) => r.cmd === 'agent open')!.client).toBe('agent socket');
    expect(readFileSync(join(v.dir, 'access.log'), 'utf8')).not.toContain(token);
    expect((await cli(v, ['lock'])).code).toBe(0);
  });
});
