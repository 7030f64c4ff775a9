/**
 * Duplicate JSON keys (issue 12): JSON.parse, and so every client, keeps the LAST occurrence of a
 * key. migrate must migrate that one, remove every occurrence when it rewrites the entry (an
 * overridden variable, `env` or `args`, an earlier entry of the same server name), say in the plan
 * what it removed and whether it differed, and list as left any copy it does not remove. After
 * every run: no fixture secret anywhere in HOME, the file still parses, a second run is a no-op,
 * and undo restores the file byte for byte with its mode.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyMigration, describePlan, leftovers, planMigration, undoMigration } from '../../src/migrate/index.js';
import { parseJsonc } from '../../src/migrate/jsonc-edit.js';
import { ensureBuilt, passphraseEnv, runCli } from '../helpers/cli.js';
import { TestTarget } from './targets.js';
import { githubToken, jwt } from './tokens.js';

let root: string | undefined;
afterEach(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
  root = undefined;
});

async function homeWith(config: string): Promise<{ home: string; path: string }> {
  root = await fs.mkdtemp(join(tmpdir(), 'mcp-tokens-dup-'));
  const home = join(root, 'home');
  await fs.mkdir(join(home, '.cursor'), { recursive: true });
  const path = join(home, '.cursor', 'mcp.json');
  await fs.writeFile(path, config);
  await fs.chmod(path, 0o640);
  return { home, path };
}

const options = (home: string) => ({ home, cwd: home, platform: 'linux' as const, env: {}, legacyDir: join(home, '.mcp_tokens') });

/** Every file under home that still holds one of `secrets`, as `relative path: secret prefix`. */
async function plaintextIn(home: string, secrets: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const text = await fs.readFile(p, 'utf8');
        for (const s of secrets) if (text.includes(s)) found.push(`${relative(home, p)}: ${s.slice(0, 8)}`);
      }
    }
  };
  await walk(home);
  return found;
}

/** Migrate, then every check the issue asks for; returns the plan's text. */
async function migrateClean(home: string, path: string, secrets: readonly string[], used: string): Promise<string[]> {
  const original = await fs.readFile(path);
  const target = new TestTarget();
  const plan = await planMigration(target, options(home));
  const text = describePlan(plan);
  expect(leftovers(plan, plan.items)).toEqual([]);
  const result = await applyMigration(plan, target);
  expect(result.ok).toBe(true);
  expect(result.left).toEqual([]);
  expect(target.state.values['github/token']).toBe(used);
  expect(await plaintextIn(home, secrets)).toEqual([]);
  const after = await fs.readFile(path, 'utf8');
  expect(parseJsonc(after).ok).toBe(true);
  const doc = JSON.parse(after) as { mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }> };
  expect(doc.mcpServers['github']!.args.slice(0, 3)).toEqual(['run', 'github', '--']);
  expect(doc.mcpServers['github']!.args.slice(3)).toEqual(['npx', '-y', '@modelcontextprotocol/server-github']);
  const again = await planMigration(target, options(home));
  expect(again.pending).toBe(0);
  expect(leftovers(again, again.items)).toEqual([]);
  const undo = await undoMigration(target);
  expect(undo.files).toEqual([{ path, outcome: 'restored' }]);
  expect((await fs.readFile(path)).equals(original)).toBe(true);
  expect((await fs.stat(path)).mode & 0o777).toBe(0o640);
  return text;
}

describe('a variable that appears twice in env', () => {
  it('with the same value: stored once, both occurrences removed', async () => {
    const a = githubToken('dup-same');
    const { home, path } = await homeWith(`{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "${a}",
        "LOG_LEVEL": "debug",
        "GITHUB_PERSONAL_ACCESS_TOKEN": "${a}"
      }
    }
  }
}
`);
    const text = await migrateClean(home, path, [a], a);
    expect(text.join('\n')).toMatch(/duplicate key removed: server 'github' env\.GITHUB_PERSONAL_ACCESS_TOKEN \(an earlier duplicate of the key\) ghp_….*the same value as the one clients use/);
  });

  it('with different values: the last (the one clients use) is stored; the other is removed too, and the plan says it differed', async () => {
    const first = githubToken('dup-first');
    const last = githubToken('dup-last');
    const { home, path } = await homeWith(`{"mcpServers": {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
  "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${first}", "GITHUB_PERSONAL_ACCESS_TOKEN": "${last}", "LOG_LEVEL": "debug"}}}}
`);
    const text = (await migrateClean(home, path, [first, last], last)).join('\n');
    expect(text).toContain(`${first.slice(0, 4)}…${first.slice(-4)}: a different value, which clients never read`);
    expect(text).not.toContain(first);
  });
});

describe('duplicated env, args and server names', () => {
  it('an earlier env object, args and server entry go with the rewrite of the entry clients use', async () => {
    const old = githubToken('dup-old-entry');
    const slack = 'xoxb-1234567890-' + 'abcdefghijklmnop';
    const hass = jwt('dup-args');
    const used = githubToken('dup-used');
    const { home, path } = await homeWith(`{
  "mcpServers": {
    "github": {"command": "npx", "args": ["old"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${old}"}},
    "other": {"command": "uvx", "args": ["mcp-server-time"]},
    "github": {
      "command": "npx",
      "args": ["--token", "${hass}"],
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": {"SLACK_BOT_TOKEN": "${slack}"},
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${used}"}
    }
  }
}
`);
    const text = (await migrateClean(home, path, [old, slack, hass, used], used)).join('\n');
    expect(text).toContain("server 'github' env.GITHUB_PERSONAL_ACCESS_TOKEN (in an earlier entry of the same name)");
    expect(text).toContain(`server 'github' env.SLACK_BOT_TOKEN (under an earlier duplicate of "env")`);
    expect(text).toContain(`server 'github' args[1] (under an earlier duplicate of "args")`);
  });

  it("copies the rewrite does not remove are listed as left, never silently kept", async () => {
    const first = githubToken('dup-kept-first');
    const last = 'ghp_not-a-valid-token-value';
    const stray = githubToken('dup-top');
    // The value clients use fails validation: the entry is kept as it is, so is its earlier copy.
    const { home, path } = await homeWith(`{"mcpServers": {"github": {"command": "npx", "args": ["x"],
  "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${first}", "GITHUB_PERSONAL_ACCESS_TOKEN": "${last}"}}},
  "token": "${stray}", "token": "none"}
`);
    const target = new TestTarget();
    const before = await fs.readFile(path);
    const plan = await planMigration(target, options(home));
    const result = await applyMigration(plan, target);
    const left = result.left.map((l) => `${l.where} ${l.masked}`);
    expect(left).toContain(`server 'github' env.GITHUB_PERSONAL_ACCESS_TOKEN (an earlier duplicate of the key) ${first.slice(0, 4)}…${first.slice(-4)}`);
    expect(left).toContain(`token (an earlier duplicate of the key) ${stray.slice(0, 4)}…${stray.slice(-4)}`);
    expect(left.some((l) => l.includes(`${last.slice(0, 4)}…${last.slice(-4)}`))).toBe(true);
    expect(result.left.find((l) => l.where.startsWith('token'))!.reason).toMatch(/clients read only the last one/);
    expect(target.state.values).toEqual({});
    expect((await fs.readFile(path)).equals(before)).toBe(true);
  });
});

describe('through the CLI', () => {
  beforeAll(() => ensureBuilt());

  it('the real run migrates the value clients use, says what it removed, and leaves no copy', async () => {
    const first = githubToken('dup-cli-first');
    const last = githubToken('dup-cli-last');
    const { home, path } = await homeWith(`{"mcpServers": {
  "github": {"command": "npx", "args": ["old"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${first}"}},
  "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${last}"}}
}}
`);
    const env = passphraseEnv(root!);
    const r = await runCli(['migrate'], { home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`duplicate key removed: server 'github' env.GITHUB_PERSONAL_ACCESS_TOKEN (in an earlier entry of the same name) ${first.slice(0, 4)}…${first.slice(-4)}: a different value`);
    expect(r.stderr + r.stdout).not.toContain(first);
    expect(r.stderr + r.stdout).not.toContain(last);
    expect(await plaintextIn(home, [first, last])).toEqual([]);
    expect(Object.keys((JSON.parse(await fs.readFile(path, 'utf8')) as { mcpServers: object }).mcpServers)).toEqual(['github']);
    const load = await runCli(['load', 'github', '--format', 'json'], { home, env });
    expect(JSON.parse(load.stdout)).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: last });
    const again = await runCli(['migrate'], { home, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('Nothing to migrate.');
  }, 60_000);
});
