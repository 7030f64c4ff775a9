/**
 * migrate through the built CLI on configs whose servers do not read the built-in names: each
 * rewritten entry, started exactly as its client would start it, must receive exactly the
 * variables it had before (names and values, proved by hash by the test MCP server) and no other
 * credential variable. A second GitHub account becomes an instance, an unknown server a service
 * of the user's own, and a cloned repository's .mcp.json never changes the global hass URL.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, cliEnv, ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';
import { withMcpClient } from '../helpers/mcp.js';

const FIXTURE = join(REPO, 'test/fixtures/mcp-env-server.mjs');
const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');
const NODE = process.execPath;

type Entry = { command: string; args: string[]; env?: Record<string, string> };

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? allFiles(join(dir, d.name)) : [join(dir, d.name)]));
}

beforeAll(() => ensureBuilt());

describe('migrate: every server keeps exactly its variables; accounts, services of your own, untrusted projects', () => {
  const home = tempHome();
  const passEnv = passphraseEnv(home);
  const gh = githubClassic();
  const ghWork = githubClassic();
  const ha = jwt();
  const haRepo = jwt();
  const openai = `sk-proj-${'Zx81Hq0aLm3Tt9WcVb2N7yR5'}`;
  const repo = join(home, 'src', 'cloned');
  const bindir = join(home, 'bin');
  const paths = {
    desktop: join(home, '.config/Claude/claude_desktop_config.json'),
    claude: join(home, '.claude.json'),
    repoMcp: join(repo, '.mcp.json'),
  };
  const server = (env: Record<string, string>) => ({ command: NODE, args: [FIXTURE], env });
  const originals: Record<string, string> = {
    desktop: `${JSON.stringify({ mcpServers: { hass: server({ HA_URL: 'http://127.0.0.1:8123', HA_TOKEN: ha }) } }, null, 2)}\n`,
    claude: `${JSON.stringify(
      {
        numStartups: 3,
        projects: { [repo]: { allowedTools: [], mcpServers: {} } },
        mcpServers: {
          gh: server({ GITHUB_PERSONAL_ACCESS_TOKEN: gh, LOG_LEVEL: 'debug' }),
          // Another account, read under another name.
          'gh-work': server({ GITHUB_TOKEN: ghWork }),
          // Home Assistant's mcp-proxy reads API_ACCESS_TOKEN (told from the server's name).
          'home-assistant': server({ API_ACCESS_TOKEN: ha }),
          // No built-in service: a service of the user's own.
          openai: server({ OPENAI_API_KEY: openai, LOG_LEVEL: 'info' }),
        },
      },
      null,
      2,
    )}\n`,
    // A cloned repository pointing Home Assistant elsewhere.
    repoMcp: `${JSON.stringify({ mcpServers: { hass: server({ HA_URL: 'http://ha.attacker.example:8123', HA_TOKEN: haRepo }) } }, null, 2)}\n`,
  };
  const modes: Record<string, number> = { desktop: 0o644, claude: 0o600, repoMcp: 0o664 };
  const secrets = [gh, ghWork, ha, haRepo, openai];

  beforeAll(async () => {
    expect((await runCli(['init', '--backend', 'file', '--kdf', 'interactive'], { home, env: passEnv })).code).toBe(0);
    for (const [k, p] of Object.entries(paths)) {
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, originals[k]!, { mode: modes[k] });
      chmodSync(p, modes[k]!); // past the umask
    }
    mkdirSync(bindir);
    writeFileSync(join(bindir, 'mcp-tokens'), `#!/bin/sh\nexec ${JSON.stringify(NODE)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
  });

  /** Start a config entry as its client would, and report the given variables (hash or unset). */
  async function report(entry: Entry, names: string[]): Promise<Record<string, string | false>> {
    const params = { command: entry.command, args: entry.args ?? [], env: cliEnv(home, { ...passEnv, ...entry.env, PATH: `${bindir}:${process.env['PATH'] ?? '/usr/bin:/bin'}` }) };
    return withMcpClient(params, async ({ client }) => {
      const res = await client.callTool({ name: 'env_report', arguments: { names } });
      const rows = (res.structuredContent as { report: { name: string; set: boolean; sha256?: string }[] }).report;
      return Object.fromEntries(rows.map((r) => [r.name, r.set ? r.sha256! : false]));
    });
  }

  const CREDENTIAL_NAMES = ['GITHUB_PERSONAL_ACCESS_TOKEN', 'GITHUB_TOKEN', 'HA_TOKEN', 'HA_URL', 'API_ACCESS_TOKEN', 'OPENAI_API_KEY', 'OPENAI_OPENAI_API_KEY', 'LOG_LEVEL'];
  const expectExactly = async (entry: Entry, had: Record<string, string>): Promise<void> => {
    const got = await report(entry, CREDENTIAL_NAMES);
    expect(got).toEqual(Object.fromEntries(CREDENTIAL_NAMES.map((n) => [n, had[n] === undefined ? false : sha(had[n]!)])));
  };

  it('the dry run says which account and which instance each server gets, and why', async () => {
    const r = await runCli(['migrate', '--dry-run'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/a second github account .*stored as the instance github@gh-work/);
    expect(r.stderr).toMatch(/from the project .*cloned: a project file never sets or replaces the hass service; stored as the instance hass@cloned/);
    expect(r.stderr).toContain('--env API_ACCESS_TOKEN=hass.token');
    for (const s of secrets) expect(r.stderr + r.stdout).not.toContain(s);
    for (const [k, p] of Object.entries(paths)) expect(readFileSync(p, 'utf8')).toBe(originals[k]);
  });

  it('migrates everything, leaves no plaintext, and each server still receives exactly what it had', async () => {
    const r = await runCli(['migrate'], { home, env: passEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Summary: no plaintext secret is left.');
    for (const f of allFiles(home).filter((p) => !p.startsWith(bindir))) {
      const bytes = readFileSync(f);
      for (const s of secrets) expect(bytes.includes(Buffer.from(s)), f).toBe(false);
    }
    const claude = JSON.parse(readFileSync(paths.claude, 'utf8')) as { numStartups: number; mcpServers: Record<string, Entry> };
    expect(claude.numStartups).toBe(3);
    const desktop = JSON.parse(readFileSync(paths.desktop, 'utf8')) as { mcpServers: Record<string, Entry> };
    const repoMcp = JSON.parse(readFileSync(paths.repoMcp, 'utf8')) as { mcpServers: Record<string, Entry> };
    expect(claude.mcpServers['gh']!.args).toEqual(['run', 'github', '--', NODE, FIXTURE]);
    expect(claude.mcpServers['gh-work']!.args).toEqual(['run', '--env', 'GITHUB_TOKEN=github@gh-work.token', '--', NODE, FIXTURE]);
    expect(claude.mcpServers['home-assistant']!.args).toEqual(['run', '--env', 'API_ACCESS_TOKEN=hass.token', '--', NODE, FIXTURE]);
    expect(claude.mcpServers['openai']!.args).toEqual(['run', '--env', 'OPENAI_API_KEY=openai.openai-api-key', '--', NODE, FIXTURE]);
    expect(repoMcp.mcpServers['hass']!.args).toEqual(['run', 'hass@cloned', '--', NODE, FIXTURE]);
    for (const [k, p] of Object.entries(paths)) expect(statSync(p).mode & 0o777, k).toBe(modes[k]);

    await expectExactly(claude.mcpServers['gh']!, { GITHUB_PERSONAL_ACCESS_TOKEN: gh, LOG_LEVEL: 'debug' });
    await expectExactly(claude.mcpServers['gh-work']!, { GITHUB_TOKEN: ghWork });
    await expectExactly(claude.mcpServers['home-assistant']!, { API_ACCESS_TOKEN: ha });
    await expectExactly(claude.mcpServers['openai']!, { OPENAI_API_KEY: openai, LOG_LEVEL: 'info' });
    await expectExactly(desktop.mcpServers['hass']!, { HA_URL: 'http://127.0.0.1:8123', HA_TOKEN: ha });
    await expectExactly(repoMcp.mcpServers['hass']!, { HA_URL: 'http://ha.attacker.example:8123', HA_TOKEN: haRepo });
  }, 240_000);

  it("the cloned repository's URL never became the global one: run hass still sends to the original", async () => {
    const load = await runCli(['load', 'hass', '--format', 'json'], { home, env: passEnv });
    expect(load.code, load.stderr).toBe(0);
    expect(JSON.parse(load.stdout)).toEqual({ HA_TOKEN: ha, HA_URL: 'http://127.0.0.1:8123' });
    const run = await runCli(['run', 'hass', '--', NODE, '-e', 'process.stdout.write(process.env.HA_URL ?? "")'], { home, env: passEnv });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('http://127.0.0.1:8123');
  });

  it('a second run has nothing to migrate; --undo restores every file byte for byte with its mode', async () => {
    const again = await runCli(['migrate'], { home, env: passEnv });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('Nothing to migrate');
    const u = await runCli(['migrate', '--undo'], { home, env: passEnv });
    expect(u.code, u.stderr).toBe(0);
    for (const [k, p] of Object.entries(paths)) {
      expect(readFileSync(p, 'utf8'), k).toBe(originals[k]);
      expect(statSync(p).mode & 0o777, k).toBe(modes[k]);
    }
  });
});
