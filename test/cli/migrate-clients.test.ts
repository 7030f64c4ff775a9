/**
 * migrate through the built CLI on --config files of the clients that are not JSON or not
 * `mcpServers` (issue 26): a Codex TOML, a Goose YAML, a Zed and an opencode JSONC file are
 * rewritten; the rewritten Codex server, started as Codex would start it, gets its token through
 * `mcp-tokens run`; a broken TOML file is named as TOML (never "not valid JSON"); a token in a
 * shape no client record knows is listed; the exit code says something is left; undo restores
 * every byte.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { withMcpClient } from '../helpers/mcp.js';
import { BIN, REPO, cliEnv, ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';

const FIXTURE = join(REPO, 'test/fixtures/mcp-env-server.mjs');
const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');

beforeAll(() => ensureBuilt());

describe('migrate --config on TOML, YAML and JSONC files of other clients', () => {
  const home = tempHome();
  const passEnv = passphraseEnv(home);
  const token = githubClassic();
  const other = 'Zq8kW2xLm5Np7Rt9Vb3Cd6Fg4Hj';
  const dir = join(home, 'configs');
  const bindir = join(home, 'bin');
  const files: Record<string, string> = {
    'codex.toml': `# Codex\nmodel = "o3"   # kept\n\n[mcp_servers.github]\ncommand = ${JSON.stringify(process.execPath)}\nargs = [${JSON.stringify(FIXTURE)}]\n\n[mcp_servers.github.env]\nGITHUB_PERSONAL_ACCESS_TOKEN = "${token}"\nLOG_LEVEL = "debug"\n`,
    'goose.yaml': `extensions:\n  github:\n    cmd: npx\n    args:\n    - -y\n    - '@modelcontextprotocol/server-github'\n    envs:\n      GITHUB_PERSONAL_ACCESS_TOKEN: ${token}   # mine\n    type: stdio\n`,
    'zed.json': `// Zed\n{\n  "context_servers": {\n    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${token}"}},\n  },\n}\n`,
    'opencode.jsonc': `{\n  // opencode\n  "mcp": {\n    "github": {"type": "local", "command": ["npx", "-y", "@modelcontextprotocol/server-github"], "environment": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${token}"}}\n  }\n}\n`,
    // Broken on the line that holds a token: the parser's message quotes that line, migrate must not.
    'broken.toml': `[mcp_servers.x]\nenv = { TOKEN = "${other}" \n`,
    'broken.yaml': `a:\n  b: [${other}\n`,
    'unknown.yaml': `tools:\n  - id: search\n    secret_key: ${other}\n`,
  };
  const paths = Object.fromEntries(Object.keys(files).map((f) => [f, join(dir, f)]));
  let migrate: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(paths[f]!, text, { mode: 0o600 });
    mkdirSync(bindir);
    writeFileSync(join(bindir, 'mcp-tokens'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
    const configs = Object.values(paths).flatMap((p) => ['--config', p]);
    migrate = await runCli(['migrate', '--no-client-configs', ...configs], { home, env: { ...passEnv, PATH: `${bindir}:${process.env['PATH'] ?? '/usr/bin:/bin'}` } });
  }, 120_000);

  it('rewrites the four clients and leaves none of their tokens', () => {
    for (const f of ['codex.toml', 'goose.yaml', 'zed.json', 'opencode.jsonc']) {
      expect(readFileSync(paths[f]!, 'utf8'), `${f}\n${migrate.stderr}`).not.toContain(token);
      expect(readFileSync(paths[f]!, 'utf8'), f).toMatch(/"run"|- run/);
    }
    expect(readFileSync(paths['codex.toml']!, 'utf8')).toContain('model = "o3"   # kept\n');
    expect(readFileSync(paths['goose.yaml']!, 'utf8')).toContain('    - run\n    - github\n');
    // Real parsers read them.
    const py = 'import sys, tomllib, yaml\ntomllib.load(open(sys.argv[1], "rb"))\nyaml.safe_load(open(sys.argv[2]))\n';
    execFileSync('python3', ['-c', py, paths['codex.toml']!, paths['goose.yaml']!]);
  });

  it('names the broken TOML file as TOML, lists the unknown secret, and exits 1', () => {
    expect(migrate.stderr).toMatch(/broken\.toml[^\n]*\n?[^\n]*not valid TOML \(read as TOML by its name: line 2, column 7: Expected "\}"\)/);
    expect(migrate.stderr).toMatch(/broken\.yaml[^\n]*\n?[^\n]*not valid YAML \(read as YAML by its name: line \d+, column \d+: Flow sequence/);
    expect(migrate.stderr).not.toMatch(/not valid JSON/);
    expect(migrate.stderr).toMatch(/unknown\.yaml: tools\[0\]\.secret_key \(YAML path\)/);
    expect(migrate.stderr + migrate.stdout).not.toContain(other);
    expect(migrate.stderr + migrate.stdout).not.toContain(token);
    expect(migrate.code).toBe(1);
  });

  it('the rewritten Codex server starts through mcp-tokens run and gets its token', async () => {
    const out = execFileSync('python3', ['-c', 'import sys, tomllib, json; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))))', paths['codex.toml']!], { encoding: 'utf8' });
    const gh = (JSON.parse(out) as { mcp_servers: Record<string, { command: string; args: string[]; env: Record<string, string> }> }).mcp_servers['github']!;
    expect([gh.command, ...gh.args]).toEqual(['mcp-tokens', 'run', 'github', '--', process.execPath, FIXTURE]);
    expect(gh.env).toEqual({ LOG_LEVEL: 'debug' });
    await withMcpClient(
      { command: gh.command, args: gh.args, env: cliEnv(home, { ...passEnv, ...gh.env, PATH: `${bindir}:${process.env['PATH'] ?? '/usr/bin:/bin'}` }) },
      async ({ client }) => {
        const res = await client.callTool({ name: 'env_report', arguments: { names: ['GITHUB_PERSONAL_ACCESS_TOKEN', 'LOG_LEVEL'] } });
        expect((res.structuredContent as { report: unknown[] }).report).toEqual([
          { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', set: true, sha256: sha(token) },
          { name: 'LOG_LEVEL', set: true, sha256: sha('debug') },
        ]);
      },
      'migrate-clients',
    );
  });

  it('mcp-tokens clients --json: each file, its servers, those through the vault, those still holding plaintext', async () => {
    const configs = Object.values(paths).flatMap((p) => ['--config', p]);
    const r = await runCli(['clients', '--json', ...configs], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { files: { client: string; path: string; format: string; servers: number; viaVault: number; plaintext: number; otherSecrets: number }[]; unreadable: { path: string; reason: string }[] };
    const row = (f: string) => report.files.find((x) => x.path === paths[f]);
    expect(row('codex.toml')).toMatchObject({ client: 'Codex (--config)', format: 'TOML', servers: 1, viaVault: 1, plaintext: 0 });
    expect(row('goose.yaml')).toMatchObject({ client: 'Goose (--config)', format: 'YAML', servers: 1, viaVault: 1, plaintext: 0 });
    expect(row('zed.json')).toMatchObject({ client: 'Zed (--config)', servers: 1, viaVault: 1 });
    expect(row('opencode.jsonc')).toMatchObject({ client: 'opencode (--config)', servers: 1, viaVault: 1 });
    expect(row('unknown.yaml')).toMatchObject({ servers: 0, otherSecrets: 1 });
    expect(report.unreadable.map((u) => u.path).sort()).toEqual([paths['broken.toml'], paths['broken.yaml']].sort());
    expect(r.stdout + r.stderr).not.toContain(other);
    const table = await runCli(['clients', '--no-projects', '--config', paths['codex.toml']!], { home, env: passEnv });
    expect(table.stdout).toMatch(/^CLIENT\s+SERVERS\s+VAULT\s+PLAINTEXT\s+OTHER\s+FILE\n/);
    expect(table.stdout).toContain('Codex (--config)');
  });

  it('--undo restores every file byte for byte', async () => {
    const r = await runCli(['migrate', '--undo'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    for (const [f, text] of Object.entries(files)) expect(readFileSync(paths[f]!, 'utf8'), f).toBe(text);
  });
});

describe('run as npx mcp-tokens migrate: no mcp-tokens on the PATH', () => {
  it('the plan writes this CLI by its absolute path, with a warning', async () => {
    const home = tempHome();
    const zed = join(home, '.config/zed/settings.json');
    mkdirSync(join(zed, '..'), { recursive: true });
    writeFileSync(zed, `{"context_servers": {"github": {"command": "npx", "args": ["x"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${githubClassic()}"}}}}\n`, { mode: 0o600 });
    const r = await runCli(['migrate', '--dry-run', '--json'], { home, env: { ...passphraseEnv(home), PATH: '/usr/bin:/bin' } });
    expect(r.stderr).toMatch(/mcp-tokens is not on this PATH, so the rewritten entries start it by its absolute path/);
    const plan = JSON.parse(r.stdout) as { files: { path: string; servers: { launch: string[] }[] }[] };
    const launch = plan.files.find((f) => f.path === zed)!.servers[0]!.launch;
    expect(launch.slice(0, 3)).toEqual([BIN, 'run', 'github']);
  });
});
