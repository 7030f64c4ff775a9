/**
 * Every MCP client migrate knows (issue 26): a HOME holding each client's config as the client
 * writes it is migrated and undone through the migration core; after each step every file is
 * parsed by a real parser of its format (python3's tomllib and PyYAML, jsonc-parser), the GitHub
 * server starts through `mcp-tokens run`, nothing changed outside the edited entry, the other
 * credentials in the files are listed as left, and undo gives back every byte.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigration, planMigration, undoMigration, type MigrationResult, type MigrationPlan } from '../../src/migrate/index.js';
import { leftovers } from '../../src/migrate/left.js';
import { surveyClients, type ClientsReport } from '../../src/migrate/clients.js';
import { TestTarget } from './targets.js';
import { CANARIES } from './tokens.js';
import { CORPUS, type ClientFixture } from './clients/corpus.js';

const GH = CANARIES.GITHUB;
const LAUNCH = ['mcp-tokens', 'run', 'github', '--', 'npx', '-y', '@modelcontextprotocol/server-github'];

/** Every file parsed by a real parser of its format, in one python3 process for TOML and YAML. */
function parseAll(home: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const py = CORPUS.filter((f) => f.format === 'toml' || f.format === 'yaml');
  const script = `
import json, sys, tomllib, yaml
out = {}
for fmt, path in zip(sys.argv[1::2], sys.argv[2::2]):
    with open(path, 'rb') as f:
        out[path] = tomllib.load(f) if fmt == 'toml' else yaml.safe_load(f)
print(json.dumps(out, default=str))
`;
  const args = py.flatMap((f) => [f.format, join(home, f.rel)]);
  const parsed = JSON.parse(execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' })) as Record<string, unknown>;
  for (const f of CORPUS) {
    const path = join(home, f.rel);
    if (f.format === 'toml' || f.format === 'yaml') out.set(f.rel, parsed[path]);
  }
  return out;
}

async function parseJson(home: string, f: ClientFixture): Promise<unknown> {
  const text = await fs.readFile(join(home, f.rel), 'utf8');
  if (f.format === 'json') return JSON.parse(text) as unknown;
  const errors: ParseError[] = [];
  const v = parseJsonc(text, errors, { allowTrailingComma: true }) as unknown;
  expect(errors, f.rel).toEqual([]);
  return v;
}

function at(data: unknown, path: readonly (string | number)[]): Record<string, unknown> {
  let v = data;
  for (const p of path) v = (v as Record<string | number, unknown>)[p];
  return v as Record<string, unknown>;
}

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
      const text = f.text.replaceAll('"GH"', JSON.stringify(GH)).replace(/\bGH\b/g, GH);
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
    const py = parseAll(home);
    for (const f of CORPUS) {
      const data = py.get(f.rel) ?? (await parseJson(home, f));
      const entry = at(data, f.server);
      if (f.shape === 'goose') {
        expect([entry['cmd'], ...(entry['args'] as string[])], f.rel).toEqual(LAUNCH);
        expect(entry['envs'], f.rel).toBeUndefined();
        expect(entry['type'], f.rel).toBe('stdio');
      } else if (f.shape === 'opencode') {
        expect(entry['command'], f.rel).toEqual(LAUNCH);
        expect(entry['environment'], f.rel).toBeUndefined();
        expect(entry['type'], f.rel).toBe('local');
      } else {
        expect([entry['command'], ...(entry['args'] as string[])], f.rel).toEqual(LAUNCH);
        expect(entry['env'] ?? {}, f.rel).toEqual({});
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
      expect(before!.plaintext, f.rel).toBe(f.left.some((l) => l.startsWith('server')) ? 2 : 1);
      expect(now, f.rel).toMatchObject({ servers: before!.servers, viaVault: 1, plaintext: before!.plaintext - 1, otherSecrets: f.left.filter((l) => !l.startsWith('server')).length });
    }
    expect(surveyBefore.files.map((x) => x.format).sort()).toEqual(CORPUS.map((f) => (f.format === 'jsonc' ? 'JSON' : f.format.toUpperCase())).sort());
  });

  it('undo gives back every file byte for byte', async () => {
    const r = await undoMigration(target);
    expect(r.ok).toBe(true);
    expect(r.files.filter((f) => f.outcome === 'restored')).toHaveLength(CORPUS.length);
    for (const f of CORPUS) expect(await fs.readFile(join(home, f.rel), 'utf8'), f.rel).toBe(originals.get(f.rel));
    const py = parseAll(home);
    for (const f of CORPUS.filter((x) => x.format === 'toml' || x.format === 'yaml')) {
      const entry = at(py.get(f.rel), f.server);
      expect(JSON.stringify(entry), f.rel).toContain(GH);
    }
  });
});
