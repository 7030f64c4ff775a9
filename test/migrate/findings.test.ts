/**
 * The findings of issue 12, each on a fixture of a real shape: plaintext that migrate used to
 * leave without a word (BOM, mcp-proxy, projects listed in ~/.claude.json, commented lines,
 * secrets of no built-in service, args, Docker -e, headers) and undo that lost originals. After
 * each migrate: every fixture secret is either gone from HOME or listed as left.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigration, leftovers, listRuns, planMigration, undoMigration, type PlanOptions } from '../../src/migrate/index.js';
import { TestTarget } from './targets.js';
import { githubToken, jwt, proxmoxToken } from './tokens.js';
import { requireTools } from '../helpers/tools.js';

let root: string | undefined;
afterEach(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
  root = undefined;
});

const GH = githubToken('findings-gh');
const GH2 = githubToken('findings-gh-commented');
const HA = jwt('findings-ha');
const HA_DOCKER = jwt('findings-ha-docker');
const BEARER = jwt('findings-bearer');
const HEADER = githubToken('findings-header');
const OPENAI = 'sk-proj-Zx81Hq0aLm3Tt9WcVb2N7yR5';
const PVE_SECRET = proxmoxToken('findings-pve').split('=').at(-1)!; // the UUID
const RC_SECRET = 'S3cr3t-rc-Value-0987654321';

const mask = (v: string): string => `${v.slice(0, 4)}…${v.slice(-4)}`;

async function write(rel: string, content: string | Buffer, mode = 0o644): Promise<string> {
  const p = join(root!, 'home', rel);
  await fs.mkdir(dirname(p), { recursive: true });
  await fs.writeFile(p, content, { mode });
  await fs.chmod(p, mode);
  return p;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

async function snapshot(): Promise<Map<string, { bytes: Buffer; mode: number }>> {
  const m = new Map<string, { bytes: Buffer; mode: number }>();
  for (const p of await walk(join(root!, 'home'))) m.set(p, { bytes: await fs.readFile(p), mode: (await fs.stat(p)).mode & 0o7777 });
  return m;
}

const VSCODE = [
  '\uFEFF{',
  '  // my servers',
  '  "inputs": [{ "type": "promptString", "id": "wiki", "password": true }],',
  '  "servers": {',
  '    "github": {',
  '      "type": "stdio",',
  '      "command": "npx",',
  '      "args": ["-y", "@modelcontextprotocol/server-github"],',
  `      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${GH}" } // mine`,
  '    },',
  '    "remote": {',
  '      "type": "http",',
  '      "url": "https://mcp.example.com/mcp",',
  `      "headers": { "Authorization": "Bearer ${BEARER}" }`,
  '    }',
  '  }',
  '}',
  '',
].join('\r\n');

const CLAUDE_JSON = (project: string): string => `{
  "numStartups": 7,
  "projects": {
    ${JSON.stringify(project)}: { "allowedTools": [], "mcpServers": {} }
  },
  "mcpServers": {
    "home-assistant": {
      "command": "uvx",
      "args": ["mcp-proxy", "http://127.0.0.1:8123/mcp_server/sse"],
      "env": { "API_ACCESS_TOKEN": "${HA}" }
    },
    "proxmox": {
      "command": "node",
      "args": ["/opt/proxmox-mcp/index.js"],
      "env": { "PROXMOX_HOST": "pve.lab.example", "PROXMOX_TOKEN_NAME": "root@pam!mcp", "PROXMOX_TOKEN_VALUE": "${PVE_SECRET}" }
    },
    "hass-docker": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "-e", "HA_TOKEN=${HA_DOCKER}", "ghcr.io/example/ha-mcp"]
    },
    "remote-gh": {
      "command": "npx",
      "args": ["mcp-remote", "https://api.example.com/mcp", "--header", "Authorization: Bearer ${HEADER}"]
    },
    "openai": { "command": "npx", "args": ["openai-mcp"], "env": { "OPENAI_API_KEY": "${OPENAI}", "LOG_LEVEL": "info" } }
  }
}
`;

async function home(): Promise<{ options: (o?: Partial<PlanOptions>) => PlanOptions; project: string; paths: { vscode: string; claude: string; projectMcp: string; dotenv: string; bashrc: string } }> {
  root = await fs.mkdtemp(join(tmpdir(), 'mcp-tokens-findings-'));
  const h = join(root, 'home');
  const project = join(h, 'src', 'site'); // listed in ~/.claude.json; migrate does not run from it
  const paths = {
    vscode: await write('.config/Code/User/mcp.json', VSCODE),
    claude: await write('.claude.json', CLAUDE_JSON(project), 0o600),
    projectMcp: await write('src/site/.mcp.json', `{\n  "mcpServers": {\n    "gh": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${GH}" } }\n  }\n}\n`),
    dotenv: await write('work/.env', `\uFEFFNODE_ENV=production\r\n# GITHUB_PERSONAL_ACCESS_TOKEN=${GH2}\r\nHA_URL=http://127.0.0.1:8123\r\n`, 0o640),
    bashrc: await write('.bashrc', `alias ll='ls -l'\nexport MY_SERVICE_SECRET=${RC_SECRET}\n`),
  };
  await fs.mkdir(join(h, 'cwd'), { recursive: true });
  return {
    project,
    paths,
    options: (o = {}) => ({
      home: h,
      cwd: join(h, 'cwd'),
      platform: 'linux',
      env: { PATH: '/usr/bin', HOME: h },
      envFiles: [paths.dotenv],
      legacyDir: join(h, '.mcp_tokens'),
      ...o,
    }),
  };
}

describe('issue 12 findings', () => {
  it('finds every secret; migrates what it can and lists the rest with why and what to do', async () => {
    const { options, paths, project } = await home();
    const target = new TestTarget();
    const before = await snapshot();
    const plan = await planMigration(target, options());
    const found = plan.items.map((i) => [i.candidate.path, i.candidate.envName, `${i.candidate.service}/${i.candidate.key}`, i.action]);
    expect(found).toEqual([
      [paths.dotenv, 'HA_URL', 'hass/url', 'store'],
      // mcp-proxy's JWT is Home Assistant's, told from the server's command line
      [paths.claude, 'API_ACCESS_TOKEN', 'hass/token', 'store'],
      [paths.claude, 'PROXMOX_HOST', 'proxmox/host', 'store'],
      // a secret of no built-in variable: a service of the user's own named after the server
      // ("proxmox" is built in, so proxmox-server)
      [paths.claude, 'PROXMOX_TOKEN_VALUE', 'proxmox-server/proxmox-token-value', 'store'],
      // Docker -e HA_TOKEN=…, another token than the home-assistant server's: a second account
      [paths.claude, 'HA_TOKEN', 'hass@hass-docker/token', 'store'],
      // mcp-remote --header "Authorization: Bearer …": mcp-remote expands ${AUTH_HEADER} itself
      [paths.claude, 'AUTH_HEADER', 'remote-gh/auth-header', 'store'],
      [paths.claude, 'OPENAI_API_KEY', 'openai/openai-api-key', 'store'],
      [paths.vscode, 'GITHUB_PERSONAL_ACCESS_TOKEN', 'github/token', 'store'],
      // found although migrate does not run from the project: ~/.claude.json lists it
      [join(project, '.mcp.json'), 'GITHUB_PERSONAL_ACCESS_TOKEN', 'github/token', 'store'],
    ]);
    const result = await applyMigration(plan, target);
    expect(result.ok).toBe(true);
    expect(target.state.values).toMatchObject({ 'github/token': GH, 'hass/token': HA, 'hass/url': 'http://127.0.0.1:8123' });

    // What stays is listed, each with a reason and a step, never with the value.
    const left = result.left.map((l) => [l.path, l.where, l.masked]);
    expect(left).toEqual([
      [paths.dotenv, 'line 2 (commented out, GITHUB_PERSONAL_ACCESS_TOKEN)', mask(GH2)],
      [paths.bashrc, 'line 2 (MY_SERVICE_SECRET)', mask(RC_SECRET)],
      [paths.vscode, "server 'remote' headers.Authorization", mask(`Bearer ${BEARER}`)],
    ]);
    for (const l of result.left) {
      expect(l.reason.length).toBeGreaterThan(10);
      expect(l.step.length).toBeGreaterThan(10);
    }
    expect(result.left.find((l) => l.where.includes('headers'))!.step).toMatch(/"inputs".*"password": true/);

    // Every fixture secret is gone from HOME or listed as left (by its masked form).
    const listed = new Set(result.left.map((l) => l.masked));
    const all = await Promise.all((await walk(join(root!, 'home'))).map((p) => fs.readFile(p, 'utf8')));
    for (const [name, v] of Object.entries({ GH, GH2, HA, HA_DOCKER, BEARER, HEADER, OPENAI, PVE_SECRET, RC_SECRET })) {
      const present = all.some((t) => t.includes(v));
      const isListed = listed.has(mask(v)) || listed.has(mask(`Bearer ${v}`));
      expect(present ? isListed : true, `${name} left silently`).toBe(true);
    }
    for (const v of [GH, HA, HA_DOCKER, OPENAI, PVE_SECRET, HEADER]) expect(all.some((t) => t.includes(v))).toBe(false);
    expect(target.state.values).toMatchObject({ 'hass@hass-docker/token': HA_DOCKER, 'openai/openai-api-key': OPENAI, 'proxmox-server/proxmox-token-value': PVE_SECRET });

    // VS Code's file keeps its BOM, CRLF line endings and comments, and still parses.
    const vs = await fs.readFile(paths.vscode, 'utf8');
    expect(vs.startsWith('\uFEFF{\r\n  // my servers\r\n')).toBe(true);
    expect(vs.replace(/\r\n/g, '').includes('\n')).toBe(false);
    const errors: ParseError[] = [];
    const doc = parse(vs.slice(1), errors, { allowTrailingComma: true }) as { servers: Record<string, { command: string; args: string[] }> };
    expect(errors).toEqual([]);
    expect(doc.servers['github']).toMatchObject({ command: 'mcp-tokens', args: ['run', 'github', '--', 'npx', '-y', '@modelcontextprotocol/server-github'] });
    // The .env keeps its BOM and CRLF; the migrated line is gone, the commented one is listed.
    expect(await fs.readFile(paths.dotenv, 'utf8')).toBe(`\uFEFFNODE_ENV=production\r\n# GITHUB_PERSONAL_ACCESS_TOKEN=${GH2}\r\n`);
    // Each server gets exactly the variables it had: mcp-proxy reads API_ACCESS_TOKEN, Docker
    // takes HA_TOKEN from its own environment (`-e HA_TOKEN`), openai keeps LOG_LEVEL in env.
    const claude = JSON.parse(await fs.readFile(paths.claude, 'utf8')) as { mcpServers: Record<string, { args: string[]; env?: object }> };
    expect(claude.mcpServers['home-assistant']).toEqual({
      command: 'mcp-tokens',
      args: ['run', '--env', 'API_ACCESS_TOKEN=hass.token', '--', 'uvx', 'mcp-proxy', 'http://127.0.0.1:8123/mcp_server/sse'],
    });
    expect(claude.mcpServers['hass-docker']!.args).toEqual(['run', '--env', 'HA_TOKEN=hass@hass-docker.token', '--', 'docker', 'run', '-i', '--rm', '-e', 'HA_TOKEN', 'ghcr.io/example/ha-mcp']);
    expect(claude.mcpServers['remote-gh']!.args).toEqual(['run', '--env', 'AUTH_HEADER=remote-gh.auth-header', '--', 'npx', 'mcp-remote', 'https://api.example.com/mcp', '--header', 'Authorization:${AUTH_HEADER}']);
    expect(target.state.values['remote-gh/auth-header']).toBe(`Bearer ${HEADER}`);
    expect(claude.mcpServers['openai']).toEqual({ command: 'mcp-tokens', args: ['run', '--env', 'OPENAI_API_KEY=openai.openai-api-key', '--', 'npx', 'openai-mcp'], env: { LOG_LEVEL: 'info' } });
    expect(claude.mcpServers['proxmox']!.env).toEqual({ PROXMOX_HOST: 'pve.lab.example', PROXMOX_TOKEN_NAME: 'root@pam!mcp' });

    // Again: nothing to change, the same list left.
    const again = await planMigration(target, options());
    expect(again.pending).toBe(0);
    expect(leftovers(again, again.items).map((l) => [l.path, l.where, l.masked])).toEqual(left);

    // Undo puts every file back byte for byte, with its mode.
    const undo = await undoMigration(target);
    expect(undo.ok).toBe(true);
    expect(await snapshot()).toEqual(before);
  });

  it("mcp-proxy's --headers Authorization 'Bearer …' moves to API_ACCESS_TOKEN, which it reads instead; other header arguments stay listed", async () => {
    const { options } = await home();
    const PROXY = jwt('findings-proxy');
    const OTHER = jwt('findings-proxy-other');
    const config = await write('.cursor/mcp.json', `${JSON.stringify({
      mcpServers: {
        // Home Assistant's official server, the token on mcp-proxy's command line (as its README's example).
        hass: { command: 'uvx', args: ['mcp-proxy', '--headers', 'Authorization', `Bearer ${PROXY}`, 'http://127.0.0.1:8123/mcp_server/sse'] },
        // Two Authorization headers: which one mcp-proxy sends is not ours to guess; left, listed.
        twice: { command: 'mcp-proxy', args: ['-H', 'Authorization', `Bearer ${OTHER}`, '-H', 'Authorization', `Bearer ${OTHER}`, 'http://127.0.0.1:8123/sse'] },
      },
    }, null, 2)}\n`);
    const target = new TestTarget();
    const plan = await planMigration(target, options({ configs: [config], clientConfigs: false, envFiles: [] }));
    const item = plan.items.find((i) => i.candidate.path === config && i.candidate.server?.at(-1) === 'hass');
    expect(item?.candidate.envName).toBe('API_ACCESS_TOKEN');
    expect(`${item?.candidate.service}/${item?.candidate.key}`).toBe('hass/token');
    expect(item?.candidate.note).toMatch(/mcp-proxy reads API_ACCESS_TOKEN instead of --headers Authorization/);
    const result = await applyMigration(plan, target);
    expect(result.ok).toBe(true);
    expect(target.state.values['hass/token']).toBe(PROXY);
    const doc = JSON.parse(await fs.readFile(config, 'utf8')) as { mcpServers: Record<string, { command: string; args: string[] }> };
    expect(doc.mcpServers['hass']).toEqual({
      command: 'mcp-tokens',
      args: ['run', '--env', 'API_ACCESS_TOKEN=hass.token', '--', 'uvx', 'mcp-proxy', 'http://127.0.0.1:8123/mcp_server/sse'],
    });
    expect(result.left.some((l) => l.where.startsWith("server 'hass'"))).toBe(false);
    expect(doc.mcpServers['twice']!.args.filter((a) => a.includes(OTHER))).toHaveLength(2);
    expect(result.left.filter((l) => l.where.startsWith("server 'twice'")).map((l) => l.masked)).toEqual([mask(`Bearer ${OTHER}`), mask(`Bearer ${OTHER}`)]);
    expect((await fs.readFile(config, 'utf8')).includes(PROXY)).toBe(false);
    expect((await planMigration(target, options({ configs: [config], clientConfigs: false, envFiles: [] }))).pending).toBe(0);
  });

  it('--no-projects (projects: false) skips the projects listed in ~/.claude.json', async () => {
    const { options, project } = await home();
    const plan = await planMigration(new TestTarget(), options({ projects: false }));
    expect(plan.items.some((i) => i.candidate.path === join(project, '.mcp.json'))).toBe(false);
  });

  it('undo: a failed later run does not hide an earlier one; any run by id; history says what is in place', async () => {
    const { options, paths } = await home();
    const target = new TestTarget();
    const original = await fs.readFile(paths.vscode);
    const first = await applyMigration(await planMigration(target, options()), target);
    expect(first.files.find((f) => f.path === paths.vscode)?.outcome).toBe('rewritten');
    // A second run whose only change does not happen: another program (as Claude Code does)
    // writes the file right after migrate backed it up, so migrate leaves it alone.
    const cursor = await write('.cursor/mcp.json', `{"mcpServers": {"g": {"command": "npx", "args": [], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GH}"}}}}\n`);
    const plan2 = await planMigration(target, options());
    const save = target.saveFileBackup.bind(target);
    target.saveFileBackup = async (meta, content) => {
      const id = await save(meta, content);
      await fs.appendFile(cursor, ' ');
      return id;
    };
    const second = await applyMigration(plan2, target);
    target.saveFileBackup = save;
    expect(second.ok).toBe(false);
    expect(second.files).toEqual([expect.objectContaining({ path: cursor, outcome: 'skipped' })]);
    const runs = await listRuns(target);
    expect(runs.map((r) => [r.runId, r.state])).toEqual([
      [first.runId, 'in place'],
      [second.runId, 'partly'], // its backup was taken, then the file was changed by someone else
    ]);
    const undo = await undoMigration(target);
    expect(undo.runId).toBe(first.runId);
    expect(await fs.readFile(paths.vscode)).toEqual(original);
    expect((await listRuns(target))[0]!.state).toBe('undone');
    await expect(undoMigration(target, { runId: 'no-such-run' })).rejects.toThrow(/no migrate run/);
  });

  it('undo never writes a plaintext original at a relative path', async () => {
    const { options } = await home();
    const target = new TestTarget();
    await applyMigration(await planMigration(target, options()), target);
    for (const f of target.state.files) f.path = 'relative/.env';
    const r = await undoMigration(target, { runId: target.state.files[0]!.runId, force: true });
    expect(r.files.every((f) => f.outcome === 'skipped' && /relative path/.test(f.reason!))).toBe(true);
  });
});

describe('rc files are edited only when the result still parses', () => {
  it.skipIf(!requireTools('zsh', ['zsh'], 'the migrate test that edits .zshrc'))('an export inside if … fi is left (and listed) rather than breaking .bashrc; a plain one is removed', async () => {
    const { options } = await home();
    const bashrc = `alias ll='ls -l'\nif [ -n "$PS1" ]; then\n  export GITHUB_PERSONAL_ACCESS_TOKEN=${GH}\nfi\n`;
    const bashPath = await write('.bashrc', bashrc);
    const zshPath = await write('.zshrc', `setopt autocd\nexport GITHUB_PERSONAL_ACCESS_TOKEN=${GH}\n`);
    const target = new TestTarget();
    const result = await applyMigration(await planMigration(target, options({ shellRc: true })), target);
    expect(target.state.values['github/token']).toBe(GH);
    expect(await fs.readFile(bashPath, 'utf8')).toBe(bashrc);
    expect(result.files.find((f) => f.path === bashPath)).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/bash cannot parse/) });
    expect(result.left.find((l) => l.path === bashPath)).toMatchObject({ where: 'line 3 env GITHUB_PERSONAL_ACCESS_TOKEN', reason: expect.stringMatching(/bash -n/) });
    expect(await fs.readFile(zshPath, 'utf8')).toBe('setopt autocd\n');
  });
});
