/**
 * The older forms two clients still read (issue 26): Zed's `context_servers.<name>.command` as an
 * object `{path, args, env}`, and Continue's `~/.continue/config.json` list
 * `experimental.modelContextProtocolServers[]` of `{transport: {type: "stdio", command, args, env}}`.
 * Each is rewritten in the form it was found, its other keys untouched; what migrate cannot move
 * (an extension's `settings`, a transport with no command) is listed as left with its path; an
 * object of neither form is no server, and its token is still listed. And two more places that
 * hold tokens: a workspace's `.vscode/settings.json` (`"mcp": {"servers"}`, VS Code 1.99–1.101),
 * and Goose's `secrets.yaml` (its keyring turned off), never "nothing to migrate".
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'jsonc-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigration, planMigration, undoMigration } from '../../src/migrate/index.js';
import { TestTarget } from './targets.js';
import { githubToken } from './tokens.js';

const GH = githubToken('older-forms-gh');
const OWN = 'Zq8kW2xLm5Np7Rt9Vb3Cd6Fg4Hj';
const SETTING = 'sk-live-Pq7Rs8Tu9Vw0Xy1Za2Bc3De4';
const SSE = 'Yh6Gf5Ed4Cb3Ba2Zy1Xw0Vu9Ts8';

let root: string | undefined;
afterEach(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
  root = undefined;
});

async function migrateHome(files: Record<string, string>, cwdRel = 'elsewhere') {
  root = await fs.mkdtemp(join(tmpdir(), 'mcpt-older-'));
  const home = join(root, 'home');
  for (const [rel, text] of Object.entries(files)) {
    await fs.mkdir(dirname(join(home, rel)), { recursive: true });
    await fs.writeFile(join(home, rel), text, { mode: 0o600 });
  }
  const cwd = join(root, cwdRel);
  await fs.mkdir(cwd, { recursive: true });
  const target = new TestTarget();
  const plan = await planMigration(target, { home, cwd, platform: 'linux', env: { HOME: home, PATH: '/usr/bin' }, legacyDir: join(home, '.mcp_tokens') });
  const result = await applyMigration(plan, target);
  const read = async (rel: string) => fs.readFile(join(home, rel), 'utf8');
  return { home, target, result, read };
}

describe("Zed's older `command: {path, args, env}`", () => {
  const zed = `{
  "context_servers": {
    "github": { "source": "custom", "command": { "path": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${GH}" } } },
    "wiki": {
      "command": { "path": "/opt/wiki-mcp", "env": { "WIKI_API_TOKEN": "${OWN}", "LOG": "debug" } },
      "settings": { "api_key": "${SETTING}" }
    },
    "no-path": { "command": { "args": ["x"], "env": { "OTHER_TOKEN": "${OWN}x" } } }
  }
}
`;

  it('rewrites each entry in that form: a built-in service through run, a secret of no built-in service to a service of its own', async () => {
    const { result, read, target } = await migrateHome({ '.config/zed/settings.json': zed });
    const data = parse(await read('.config/zed/settings.json')) as { context_servers: Record<string, Record<string, unknown>> };
    expect(data.context_servers['github']).toEqual({ source: 'custom', command: { path: 'mcp-tokens', args: ['run', 'github', '--', 'npx', '-y', '@modelcontextprotocol/server-github'] } });
    expect(data.context_servers['wiki']!['command']).toEqual({ path: 'mcp-tokens', args: ['run', '--env', 'WIKI_API_TOKEN=wiki.wiki-api-token', '--', '/opt/wiki-mcp'], env: { LOG: 'debug' } });
    expect(await target.get('wiki', 'wiki-api-token')).toBe(OWN);
    expect(await target.get('github', 'token')).toBe(GH);
    // An extension's own settings, and a `command` object with no `path`: listed, with their paths.
    const where = result.left.map((l) => l.where);
    expect(where).toEqual(expect.arrayContaining([expect.stringContaining('context_servers.wiki.settings.api_key'), expect.stringContaining('context_servers.no-path.command.env.OTHER_TOKEN')]));
    expect(JSON.stringify(result.left)).not.toContain(SETTING);
    expect(result.left.find((l) => l.where.includes('settings.api_key'))!.step).toMatch(/Zed extension that starts context server 'wiki'/);
    const text = await read('.config/zed/settings.json');
    expect(text).not.toContain(GH);
    expect(text).not.toContain(`"${OWN}"`);
    expect(text).toContain(SETTING); // left, and said so
  });

  it('undo gives the file back byte for byte', async () => {
    const { target, read } = await migrateHome({ '.config/zed/settings.json': zed });
    expect((await undoMigration(target)).ok).toBe(true);
    expect(await read('.config/zed/settings.json')).toBe(zed);
  });
});

describe("Continue's older config.json", () => {
  const json = `{
  "models": [{ "title": "GPT", "provider": "openai", "model": "gpt-4o" }],
  "experimental": {
    "modelContextProtocolServers": [
      { "transport": { "type": "sse", "url": "https://mcp.example.com/sse", "requestOptions": { "headers": { "Authorization": "Bearer ${SSE}" } } } },
      { "name": "GitHub", "transport": { "type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${GH}" } } },
      { "transport": { "type": "stdio", "command": "/opt/wiki-mcp", "args": [], "env": { "WIKI_API_TOKEN": "${OWN}" } } }
    ]
  }
}
`;

  it('reads the stdio transports (named, or by their place in the list), rewrites them in place, and lists the rest', async () => {
    const { result, read, target } = await migrateHome({ '.continue/config.json': json });
    const data = JSON.parse(await read('.continue/config.json')) as { experimental: { modelContextProtocolServers: Record<string, unknown>[] } };
    const [sse, github, unnamed] = data.experimental.modelContextProtocolServers;
    expect(github).toEqual({ name: 'GitHub', transport: { type: 'stdio', command: 'mcp-tokens', args: ['run', 'github', '--', 'npx', '-y', '@modelcontextprotocol/server-github'] } });
    expect(unnamed!['transport']).toEqual({ type: 'stdio', command: 'mcp-tokens', args: ['run', '--env', expect.stringMatching(/^WIKI_API_TOKEN=[a-z0-9-]+\.wiki-api-token$/), '--', '/opt/wiki-mcp'] });
    expect(sse).toEqual(JSON.parse(json).experimental.modelContextProtocolServers[0]);
    expect(await target.get('github', 'token')).toBe(GH);
    expect(result.left.map((l) => l.where)).toEqual(expect.arrayContaining([expect.stringContaining('experimental.modelContextProtocolServers[0].transport.requestOptions.headers.Authorization')]));
    expect(JSON.stringify(result.left)).not.toContain(SSE);
    expect(result.files.find((f) => f.path.endsWith('config.json'))?.outcome).toBe('rewritten');
  });
});

describe('other places that hold tokens', () => {
  it("a workspace's .vscode/settings.json: its \"mcp\" servers are rewritten", async () => {
    const settings = `{\n  "editor.tabSize": 2,\n  "mcp": { "servers": { "github": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${GH}" } } } }\n}\n`;
    const { result, read } = await migrateHome({ '../repo/.vscode/settings.json': settings }, 'repo');
    const text = await read('../repo/.vscode/settings.json');
    expect(text).not.toContain(GH);
    expect((parse(text) as { mcp: { servers: { github: unknown } } }).mcp.servers.github).toEqual({ command: 'mcp-tokens', args: ['run', 'github@repo', '--', 'npx', '-y', '@modelcontextprotocol/server-github'] });
    // A project's file: its token goes to an instance named after the folder, as for .vscode/mcp.json.
    expect(result.stored).toEqual([{ service: 'github@repo', key: 'token' }]);
  });

  it("Goose's secrets.yaml (keyring off): each token listed as left with its key and Goose's step, never nothing to migrate", async () => {
    const { result, read } = await migrateHome({ '.config/goose/secrets.yaml': `GITHUB_PERSONAL_ACCESS_TOKEN: ${GH}\nOPENAI_API_KEY: ${SETTING}\n` });
    const left = result.left.filter((l) => l.path?.endsWith('secrets.yaml'));
    expect(left.map((l) => l.where)).toEqual([expect.stringContaining('GITHUB_PERSONAL_ACCESS_TOKEN'), expect.stringContaining('OPENAI_API_KEY')]);
    expect(left[0]!.step).toContain('GOOSE_DISABLE_KEYRING');
    expect(JSON.stringify(left)).not.toContain(GH);
    expect(await read('.config/goose/secrets.yaml')).toContain(GH); // not Goose's to lose: listed, untouched
  });
});
