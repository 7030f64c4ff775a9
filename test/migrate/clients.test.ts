/**
 * Every MCP client migrate knows (issue 26): a HOME holding each client's config as the client
 * writes it is migrated and undone through the migration core; after each step every file is
 * parsed by a real parser of its format (python3's tomllib and PyYAML, jsonc-parser), the GitHub
 * server starts through `mcp-tokens run`, nothing changed outside the edited entry, the other
 * credentials in the files are listed as left, and undo gives back every byte.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigration, planMigration, undoMigration, type MigrationResult, type MigrationPlan } from '../../src/migrate/index.js';
import { leftovers } from '../../src/migrate/left.js';
import { surveyClients, type ClientsReport } from '../../src/migrate/clients.js';
import { TestTarget } from './targets.js';
import { CANARIES } from './tokens.js';
import { CORPUS, githubEntries, launchOf, materialize, type ClientFixture } from './clients/corpus.js';
import { at, parseCorpus } from './clients/parse.js';
import { REPO } from '../helpers/build.js';

const GH = CANARIES.GITHUB;
const NODE = process.execPath;
const SERVER = join(REPO, 'test/fixtures/mcp-env-server.mjs');
const LAUNCH = ['mcp-tokens', 'run', 'github', '--', NODE, SERVER];

describe('every MCP client: migrate, then undo', () => {
  let root: string;
  let home: string;
  const originals = new Map<string, string>();
  let plan: MigrationPlan;
  let result: MigrationResult;
  let after: Map<string, string>;
  let surveyBefore: ClientsReport;
  let surveyAfter: ClientsReport;
  const target = new TestTarget();

  beforeAll(async () => {
    root = await fs.mkdtemp(join(tmpdir(), 'mcpt-clients-'));
    home = join(root, 'home');
    for (const f of CORPUS) {
      const path = join(home, f.rel);
      await fs.mkdir(dirname(path), { recursive: true });
      const text = materialize(f.text, { token: GH, node: NODE, server: SERVER });
      await fs.writeFile(path, text, { mode: 0o600 });
      originals.set(f.rel, text);
    }
    const cwd = join(root, 'elsewhere');
    await fs.mkdir(cwd);
    const where = { home, cwd, platform: 'linux' as const, env: { HOME: home, PATH: '/usr/bin' } };
    surveyBefore = await surveyClients(where);
    plan = await planMigration(target, { ...where, legacyDir: join(home, '.mcp_tokens') });
    result = await applyMigration(plan, target);
    surveyAfter = await surveyClients(where);
    after = new Map();
    for (const f of CORPUS) after.set(f.rel, await fs.readFile(join(home, f.rel), 'utf8'));
  }, 120_000);

  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('stores the token once and rewrites every client file', () => {
    expect(result.failed).toEqual([]);
    expect(result.stored).toEqual([{ service: 'github', key: 'token' }]);
    const rewritten = result.files.filter((f) => f.outcome === 'rewritten').map((f) => f.path);
    expect(rewritten.sort()).toEqual(CORPUS.map((f) => join(home, f.rel)).sort());
    for (const f of CORPUS) expect(after.get(f.rel), f.rel).not.toContain(GH);
  });

  it('leaves each file valid for a real parser, with the server started through mcp-tokens run', async () => {
    const parsed = parseCorpus(home, CORPUS);
    for (const f of CORPUS) {
      for (const { server, shape } of githubEntries(f)) {
        const entry = at(parsed.get(f.rel), server);
        const launch = launchOf(shape, entry);
        expect([launch.command, ...launch.args], `${f.rel} ${server.join('.')}`).toEqual(LAUNCH);
        expect(launch.env, f.rel).toEqual({});
        if (shape === 'goose') expect([entry['envs'], entry['type']], f.rel).toEqual([undefined, 'stdio']);
        if (shape === 'opencode') expect([entry['environment'], entry['type']], f.rel).toEqual([undefined, 'local']);
        // Rewritten in the form it was found: the client that wrote it reads it.
        if (shape === 'zed-command') expect(Object.keys(entry), f.rel).toEqual(['source', 'command', 'settings']);
        if (shape === 'continue-transport') expect((entry['transport'] as Record<string, unknown>)['type'], f.rel).toBe('stdio');
      }
    }
  });

  it('changes no byte outside the rewritten entry: comments, order and layout stay', () => {
    for (const f of CORPUS) {
      const before = originals.get(f.rel)!;
      const now = after.get(f.rel)!;
      let start = 0;
      while (start < before.length && before[start] === now[start]) start++;
      let end = 0;
      while (end < before.length - start && before[before.length - 1 - end] === now[now.length - 1 - end]) end++;
      const changed = before.slice(start, before.length - end);
      expect(changed, f.rel).toContain(GH);
      expect(changed, f.rel).not.toContain('KEEP');
      const markers = before.match(/KEEP/g)?.length ?? 0;
      expect(now.match(/KEEP/g)?.length ?? 0, f.rel).toBe(markers);
      expect(markers, f.rel).toBeGreaterThanOrEqual(2);
    }
  });

  it('lists every other credential in the files as left, with its path and a manual step', () => {
    const left = result.left;
    for (const f of CORPUS) {
      for (const where of f.left) {
        const found = left.find((l) => l.path === join(home, f.rel) && l.where.includes(where));
        expect(found, `${f.rel}: ${where} in ${JSON.stringify(left.map((l) => [l.path, l.where]))}`).toBeDefined();
        expect(found!.step.length).toBeGreaterThan(10);
        expect(JSON.stringify(found)).not.toMatch(/Zq8kW2xLm5Np7Rt9Vb3Cd6Fg|ABCDEFGHIJKLMNOPQRSTUV12/);
      }
    }
    expect(leftovers(plan, plan.items).length).toBeGreaterThan(0);
    // A remote server's header: the client's own way to take it from the environment.
    const step = (rel: string) => left.find((l) => l.path === join(home, rel) && /header/i.test(l.where))?.step;
    expect(step('.codex/config.toml')).toMatch(/bearer_token_env_var.*env_http_headers/);
    expect(step('.config/opencode/opencode.jsonc')).toContain('{env:VAR}');
    expect(step('.gemini/settings.json')).toContain('"$VAR"');
  });

  it('mcp-tokens clients: each file with its servers, those through the vault, those holding plaintext', () => {
    const row = (r: ClientsReport, f: ClientFixture) => r.files.find((x) => x.path === join(home, f.rel));
    for (const f of CORPUS) {
      const before = row(surveyBefore, f);
      const now = row(surveyAfter, f);
      expect(before, f.rel).toMatchObject({ client: expect.stringContaining(f.client.split(' ')[0]!) as unknown, viaVault: 0 });
      expect(before!.servers, f.rel).toBeGreaterThanOrEqual(2);
      const github = githubEntries(f).length;
      expect(before!.plaintext, f.rel).toBe(github + f.left.filter((l) => l.startsWith('server')).length);
      expect(now, f.rel).toMatchObject({ servers: before!.servers, viaVault: github, plaintext: before!.plaintext - github, otherSecrets: f.left.filter((l) => !l.startsWith('server')).length });
    }
    expect(surveyBefore.files.map((x) => x.format).sort()).toEqual(CORPUS.map((f) => (f.format === 'jsonc' ? 'JSON' : f.format.toUpperCase())).sort());
  });

  it('undo gives back every file byte for byte', async () => {
    const r = await undoMigration(target);
    expect(r.ok).toBe(true);
    expect(r.files.filter((f) => f.outcome === 'restored')).toHaveLength(CORPUS.length);
    for (const f of CORPUS) expect(await fs.readFile(join(home, f.rel), 'utf8'), f.rel).toBe(originals.get(f.rel));
    const parsed = parseCorpus(home, CORPUS);
    for (const f of CORPUS) {
      for (const { server } of githubEntries(f)) expect(JSON.stringify(at(parsed.get(f.rel), server)), f.rel).toContain(GH);
    }
  });
});
