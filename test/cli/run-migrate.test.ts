/**
 * migrate end to end through the built CLI: a Claude Desktop config whose server holds a token in
 * `env` is migrated; the rewritten entry, started exactly as the client would start it, gets the
 * token through `mcp-tokens run` (proved by hash by the test MCP server); no plaintext is left;
 * `--undo` restores the file byte for byte; a second run has nothing to do.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, cliEnv, ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';
import { withMcpClient } from '../helpers/mcp.js';

const FIXTURE = join(REPO, 'test/fixtures/mcp-env-server.mjs');
const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? allFiles(join(dir, d.name)) : [join(dir, d.name)]));
}

beforeAll(() => ensureBuilt());

describe('migrate a Claude Desktop config and start the rewritten server', () => {
  const home = tempHome();
  const passEnv = passphraseEnv(home);
  const token = githubClassic();
  const haToken = jwt();
  const configPath = join(home, '.config/Claude/claude_desktop_config.json');
  // A shim so the rewritten "command" resolves like an installed mcp-tokens would.
  const bindir = join(home, 'bin');
  const shim = join(bindir, 'mcp-tokens');
  const original = `{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "github": {
      "command": ${JSON.stringify(process.execPath)},
      "args": [${JSON.stringify(FIXTURE)}],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${token}", "LOG_LEVEL": "debug" }
    },
    "hass": {
      "command": ${JSON.stringify(process.execPath)},
      "args": [${JSON.stringify(FIXTURE)}],
      "env": { "HA_TOKEN": "${haToken}", "HA_URL": "http://127.0.0.1:8123" }
    },
    "filesystem": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"] }
  }
}
`;

  beforeAll(() => {
    mkdirSync(join(home, '.config/Claude'), { recursive: true });
    writeFileSync(configPath, original, { mode: 0o600 });
    mkdirSync(bindir);
    writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
  });

  it('dry run shows a masked plan and changes nothing', async () => {
    const r = await runCli(['migrate', '--dry-run'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('github token');
    expect(r.stderr).toContain('Claude Desktop');
    expect(r.stderr + r.stdout).not.toContain(token);
    expect(r.stderr + r.stdout).not.toContain(haToken);
    expect(readFileSync(configPath, 'utf8')).toBe(original);
  });

  it('migrates, leaves no plaintext, keeps the rest of the file, and the server still gets its token', async () => {
    const r = await runCli(['migrate'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    const rewritten = readFileSync(configPath, 'utf8');
    const doc = JSON.parse(rewritten) as { globalShortcut: string; mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }> };
    expect(doc.globalShortcut).toBe('Ctrl+Space');
    expect(doc.mcpServers['filesystem']).toEqual({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'] });
    const gh = doc.mcpServers['github']!;
    expect(gh.command).toBe('mcp-tokens');
    expect(gh.args).toEqual(['run', 'github', '--', process.execPath, FIXTURE]);
    expect(gh.env).toEqual({ LOG_LEVEL: 'debug' });
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    for (const f of [...allFiles(home)].filter((p) => !p.startsWith(join(home, 'bin')))) {
      const bytes = readFileSync(f);
      expect(bytes.includes(Buffer.from(token)), f).toBe(false);
      expect(bytes.includes(Buffer.from(haToken)), f).toBe(false);
    }

    // Start the rewritten entry as Claude Desktop would: its command, args and env.
    const params = { command: gh.command, args: gh.args, env: cliEnv(home, { ...passEnv, ...gh.env, PATH: `${bindir}:${process.env['PATH'] ?? '/usr/bin:/bin'}` }) };
    await withMcpClient(params, async ({ client }) => {
      const res = await client.callTool({ name: 'env_report', arguments: { names: ['GITHUB_PERSONAL_ACCESS_TOKEN', 'LOG_LEVEL'] } });
      expect((res.structuredContent as { report: unknown[] }).report).toEqual([
        { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha(token) },
        { name: 'LOG_LEVEL', set: true, sha256: sha('debug') },
      ]);
    });
  });

  it('a second run has nothing to migrate', async () => {
    const r = await runCli(['migrate'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Nothing to migrate');
  });

  it('--undo restores the config byte for byte; the values stay in the vault', async () => {
    const r = await runCli(['migrate', '--undo'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(configPath, 'utf8')).toBe(original);
    const load = await runCli(['load', 'hass', '--format', 'json'], { home, env: passEnv });
    expect(JSON.parse(load.stdout)).toEqual({ HA_TOKEN: haToken, HA_URL: 'http://127.0.0.1:8123' });
  });
});

describe('migrate through the CLI: what is left exits 1, runs are listed and undone by id', () => {
  const home = tempHome();
  const passEnv = passphraseEnv(home);
  const token = githubClassic();
  const stray = githubClassic();
  const configPath = join(home, '.cursor/mcp.json');
  const original = `{"mcpServers": {
  "gh": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${token}"}},
  "old": {"command": "github-mcp", "args": ["--token", "${stray}"]}
}}
`;
  beforeAll(() => {
    mkdirSync(join(home, '.cursor'), { recursive: true });
    writeFileSync(configPath, original, { mode: 0o640 });
  });

  it('migrates what it can, lists the token in args as left with why and what to do, and exits 1', async () => {
    const r = await runCli(['migrate'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("server 'old' args[1] (--token)");
    expect(r.stderr).toMatch(/why: .*other users of this machine/);
    expect(r.stderr).toMatch(/do: {2}/);
    expect(r.stderr).toContain('Summary: 1 plaintext secret is left');
    expect(r.stderr + r.stdout).not.toContain(token);
    expect(r.stderr + r.stdout).not.toContain(stray);
    expect(readFileSync(configPath, 'utf8')).not.toContain(token);
    // Nothing more to do, but still not clean: exit 1 again, not "Nothing to migrate".
    const again = await runCli(['migrate'], { home, env: passEnv });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Nothing more to migrate.');
    expect(again.stderr).not.toContain('Nothing to migrate.');
  });

  it('--history lists the run; --undo <id> restores the file with its mode', async () => {
    const h = await runCli(['migrate', '--history', '--json'], { home, env: passEnv });
    expect(h.code, h.stderr).toBe(0);
    const runs = JSON.parse(h.stdout) as { runId: string; state: string; files: { path: string }[] }[];
    expect(runs.map((r) => [r.state, r.files.map((f) => f.path)])).toEqual([['in place', [configPath]]]);
    const bad = await runCli(['migrate', '--undo', 'no-such-run'], { home, env: passEnv });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('migrate --history');
    const u = await runCli(['migrate', '--undo', runs[0]!.runId], { home, env: passEnv });
    expect(u.code, u.stderr).toBe(0);
    expect(readFileSync(configPath, 'utf8')).toBe(original);
    expect(statSync(configPath).mode & 0o777).toBe(0o640);
  });
});
