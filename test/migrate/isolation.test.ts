/**
 * One source cannot abort migrate: a config nested 200,000 levels deep (which overflowed
 * jsonc-parser's recursion with a RangeError and killed the whole run) is refused on its own line,
 * and every other source is still planned and migrated.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyMigration, describePlan, planMigration } from '../../src/migrate/index.js';
import { MAX_JSON_DEPTH, nestingDepth, parseJsonc } from '../../src/migrate/jsonc-edit.js';
import { ensureBuilt, passphraseEnv, runCli } from '../helpers/cli.js';
import { makeHome, type TestHome } from './home.js';
import { TestTarget } from './targets.js';
import { CANARIES } from './tokens.js';

let h: TestHome;
afterEach(async () => {
  if (h) await fs.rm(h.root, { recursive: true, force: true });
});

const DEEP = `{"mcpServers": {"x": {"command": "x", "args": ${'['.repeat(200_000)}`;

describe('nesting depth', () => {
  it('counts only brackets outside strings and comments', () => {
    expect(nestingDepth('{"a": [1, {"b": []}]}')).toBe(4);
    expect(nestingDepth('{"a": "[[[[{{{{\\"[[["} // [[[[\n /* {{{{ */')).toBe(1);
  });

  it('accepts the limit and refuses one level more, without throwing', () => {
    const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(parseJsonc(nested(MAX_JSON_DEPTH)).ok).toBe(true);
    expect(parseJsonc(nested(MAX_JSON_DEPTH + 1))).toEqual({ ok: false, reason: `nests deeper than ${MAX_JSON_DEPTH} levels` });
    expect(parseJsonc(DEEP).ok).toBe(false);
  });
});

describe('a hostile source', () => {
  it('a project .mcp.json of 200,000 [ is refused on its own line; every other source is migrated', async () => {
    h = await makeHome();
    const baseline = await planMigration(new TestTarget(), h.options());
    const mcpJson = join(h.cwd, '.mcp.json');
    await fs.writeFile(mcpJson, DEEP);
    const target = new TestTarget();
    const plan = await planMigration(target, h.options());

    expect(plan.refused).toContainEqual({ path: mcpJson, reason: `nests deeper than ${MAX_JSON_DEPTH} levels; not edited`, mayHoldSecrets: true });
    const others = baseline.items.filter((i) => i.candidate.path !== mcpJson);
    expect(plan.items.map((i) => i.candidate)).toEqual(others.map((i) => i.candidate));
    expect(plan.files.map((f) => f.path)).not.toContain(mcpJson);
    expect(describePlan(plan)).toContain(`Not read: ${mcpJson} nests deeper than ${MAX_JSON_DEPTH} levels; not edited`);

    const result = await applyMigration(plan, target);
    expect(result.ok).toBe(true);
    expect(await target.get('github', 'token')).toBe(CANARIES.GITHUB);
    expect(await fs.readFile(mcpJson, 'utf8')).toBe(DEEP); // left exactly as it was
  });
});

describe('through the CLI', () => {
  beforeAll(() => ensureBuilt());

  it('migrate --dry-run reports the deep file and plans the rest, with no internal error', async () => {
    h = await makeHome();
    await fs.writeFile(join(h.cwd, '.mcp.json'), DEEP);
    // A passphrase source for the new file vault, as the real run needs (the dry run checks it).
    const env = passphraseEnv(h.root);
    const r = await runCli(['migrate', '--dry-run', '--config', join(h.home, '.cursor', 'mcp.json')], { home: h.home, cwd: h.cwd, env });
    expect(r.stderr).not.toMatch(/internal error|RangeError/);
    expect(r.stderr).toContain(`Not read: ${join(h.cwd, '.mcp.json')} nests deeper than ${MAX_JSON_DEPTH} levels; not edited`);
    expect(r.stderr).toMatch(/Plaintext credentials found: [1-9]/);
    expect(r.code).toBe(1); // as the real run: the fixture's token in args is left
  }, 30_000);
});
