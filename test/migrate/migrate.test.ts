import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigration, describePlan, leftovers, planMigration, planToJSON, undoMigration } from '../../src/migrate/index.js';
import { CONFIGS, EXPECTED_VAULT, itRc, makeHome, type TestHome } from './home.js';
import { TestTarget } from './targets.js';
import { CANARIES } from './tokens.js';

let h: TestHome;
afterEach(async () => {
  if (h) await fs.rm(h.root, { recursive: true, force: true });
});

const row = (p: Awaited<ReturnType<typeof planMigration>>) =>
  p.items.map((i) => [i.candidate.kind, i.candidate.path?.replace(h.home, '~') ?? i.candidate.envName, i.candidate.envName, `${i.candidate.service}/${i.candidate.key}`, i.action, i.cleanup]);

describe('planMigration on a realistic home', () => {
  it('finds every plaintext credential and decides each one', async () => {
    h = await makeHome();
    const plan = await planMigration(new TestTarget(), h.options());
    expect(row(plan)).toEqual([
      ['legacy-file', '~/.mcp_tokens/github_token', undefined, 'github/token', 'store', 'unlink'],
      ['legacy-file', '~/.mcp_tokens/hass_url', undefined, 'hass/url', 'store', 'unlink'],
      ['legacy-file', '~/.mcp_tokens/proxmox_user', undefined, 'proxmox/user', 'store', 'unlink'],
      ['legacy-backup', '~/.mcp_tokens/backups/github_token.20240101_120000.backup', undefined, 'github/token', 'backup', 'unlink'],
      ['legacy-backup', '~/.mcp_tokens/backups/hass_token.20231215_083000.backup', undefined, 'hass/token', 'backup', 'unlink'],
      ['env', 'HA_URL', 'HA_URL', 'hass/url', 'store', 'report'],
      ['env-file', '~/project/.env', 'WIKIJS_URL', 'wikijs/url', 'store', 'remove-line'],
      ['env-file', '~/project/.env', 'HA_TOKEN', 'hass/token', 'store', 'remove-line'],
      ['env-file', '~/project/.env', 'PROXMOX_HOST', 'proxmox/host', 'store', 'remove-line'],
      ['shell-rc', '~/.bashrc', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'github/token', 'store', 'report'],
      ['shell-rc', '~/.config/fish/config.fish', 'WIKIJS_TOKEN', 'wikijs/token', 'store', 'report'],
      ['config', '~/.config/Claude/claude_desktop_config.json', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'github/token', 'store', 'rewrite'],
      ['config', '~/.config/Claude/claude_desktop_config.json', 'HA_URL', 'hass/url', 'store', 'rewrite'],
      ['config', '~/.config/Claude/claude_desktop_config.json', 'HA_TOKEN', 'hass/token', 'store', 'rewrite'],
      ['config', '~/.claude.json', 'WIKIJS_URL', 'wikijs/url', 'store', 'rewrite'],
      ['config', '~/.claude.json', 'WIKIJS_TOKEN', 'wikijs/token', 'store', 'rewrite'],
      ['config', '~/.claude.json', 'PROXMOX_HOST', 'proxmox/host', 'store', 'rewrite'],
      ['config', '~/.claude.json', 'PROXMOX_USER', 'proxmox/user', 'store', 'rewrite'],
      ['config', '~/.claude.json', 'PROXMOX_TOKEN', 'proxmox/token', 'store', 'rewrite'],
      ['config', '~/project/.mcp.json', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'github/token', 'store', 'rewrite'],
      ['config', '~/project/.vscode/mcp.json', 'GITHUB_TOKEN', 'github/token', 'store', 'rewrite'],
      ['config', '~/project/.vscode/mcp.json', 'WIKIJS_URL', 'wikijs/url', 'store', 'keep'],
      ['config', '~/.cursor/mcp.json', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'github/token', 'store', 'rewrite'],
      ['config', '~/project/.cursor/mcp.json', 'HA_URL', 'hass/url', 'store', 'keep'],
      ['config', '~/project/.cursor/mcp.json', 'HA_TOKEN', 'hass/token', 'invalid', 'keep'],
      ['config', '~/.codeium/windsurf/mcp_config.json', 'PROXMOX_TOKEN', 'proxmox/token', 'store', 'rewrite'],
      ['config', '~/.codeium/windsurf/mcp_config.json', 'PROXMOX_HOST', 'proxmox/host', 'store', 'rewrite'],
    ]);
    expect(plan.refused.map((r) => [r.path.replace(h.home, '~'), r.reason])).toEqual([
      ['~/.mcp_tokens/proxmox_host', 'is a symbolic link; not followed: check it by hand'],
    ]);
    // The token in args is not a candidate: it is listed as left, with why and what to do.
    expect(plan.left.map((l) => [l.path?.replace(h.home, '~'), l.where, l.masked])).toEqual([
      ['~/.codeium/windsurf/mcp_config.json', "server 'legacy-github' args[1] (--token)", `${CANARIES.STRAY.slice(0, 4)}…${CANARIES.STRAY.slice(-4)}`],
    ]);
    expect(plan.left[0]!.reason).toMatch(/command line, which other users of this machine can read/);
    // 8 values, 2 backups, 7 files to change (3 legacy files, 2 legacy backups, .env, 6 configs)
    expect(plan.pending).toBe(8 + 2 + plan.files.length);
    expect(plan.files.map((f) => f.path.replace(h.home, '~')).sort()).toEqual(
      [
        '~/.mcp_tokens/github_token', '~/.mcp_tokens/hass_url', '~/.mcp_tokens/proxmox_user',
        '~/.mcp_tokens/backups/github_token.20240101_120000.backup', '~/.mcp_tokens/backups/hass_token.20231215_083000.backup',
        '~/project/.env', '~/.config/Claude/claude_desktop_config.json', '~/.claude.json', '~/project/.mcp.json',
        '~/project/.vscode/mcp.json', '~/.cursor/mcp.json', '~/.codeium/windsurf/mcp_config.json',
      ].sort(),
    );
    const reasons = plan.items.filter((i) => i.cleanup === 'keep').map((i) => i.reason);
    expect(reasons[0]).toMatch(/no secret of wikijs in this server/);
    expect(reasons[1]).toMatch(/^Invalid Home Assistant token format/);
  });

  it('serialises and describes the plan with masked values only', async () => {
    h = await makeHome();
    const plan = await planMigration(new TestTarget(), h.options());
    const json = JSON.stringify(planToJSON(plan));
    const text = describePlan(plan).join('\n');
    const raw = JSON.stringify(plan);
    for (const c of Object.values(CANARIES)) {
      expect(json).not.toContain(c);
      expect(text).not.toContain(c);
      expect(raw).not.toContain(c);
    }
    expect(json).toContain(`"value":"${CANARIES.GITHUB.slice(0, 4)}…${CANARIES.GITHUB.slice(-4)}"`);
    expect(json).toContain('"value":"root@pam"'); // non-secret fields are shown whole
    expect(text).toContain('mcp-tokens run github -- npx -y @modelcontextprotocol/server-github');
  });
});

describe('applyMigration', () => {
  itRc('stores every value, removes every plaintext copy, rewrites configs preserving every other byte', async () => {
    h = await makeHome();
    const target = new TestTarget();
    const before = await h.all();
    const plan = await planMigration(target, h.options({ shellRc: true }));
    const result = await applyMigration(plan, target);
    expect(result.ok).toBe(true);
    expect(target.state.values).toEqual(EXPECTED_VAULT);
    expect(target.state.backups.map((b) => [b.service, b.key, b.value, b.takenAt])).toEqual([
      ['github', 'token', CANARIES.OLD_GITHUB, '2024-01-01T12:00:00.000Z'],
      ['hass', 'token', CANARIES.OLD_HASS, '2023-12-15T08:30:00.000Z'],
    ]);
    for (const rel of [...CONFIGS, '.bashrc', '.config/fish/config.fish']) {
      expect(await h.read(rel), rel).toBe(await h.expected(rel));
    }
    for (const rel of CONFIGS.filter((r) => r.endsWith('.json'))) {
      const errors: ParseError[] = [];
      parse(await h.read(rel), errors, { allowTrailingComma: true });
      expect(errors, rel).toEqual([]);
    }
    // No canary anywhere under HOME, except the stray one in args, which is reported.
    const after = await h.all();
    for (const [rel, text] of after) {
      for (const [name, c] of Object.entries(CANARIES)) if (name !== 'STRAY') expect(text, `${name} in ${rel}`).not.toContain(c);
    }
    expect([...after.keys()].filter((k) => k.startsWith('.mcp_tokens'))).toEqual(['.mcp_tokens/wikijs_url']);
    expect((await fs.lstat(join(h.legacyDir, 'proxmox_host'))).isSymbolicLink()).toBe(true); // refused, untouched
    // Modes kept on rewritten files.
    expect((await fs.stat(join(h.home, 'project/.env'))).mode & 0o777).toBe(0o640);
    expect((await fs.stat(join(h.home, '.claude.json'))).mode & 0o777).toBe(0o644);
    // Every changed file was backed up first, with its original bytes.
    for (const f of target.state.files) {
      expect(Buffer.from(f.content, 'base64').toString('utf8')).toBe(before.get(f.path.slice(h.home.length + 1)));
    }
    expect(target.state.files).toHaveLength(plan.files.length);
  });

  itRc('is idempotent: a second run has nothing to migrate', async () => {
    h = await makeHome();
    const target = new TestTarget();
    await applyMigration(await planMigration(target, h.options({ shellRc: true })), target);
    const again = await planMigration(target, h.options({ shellRc: true }));
    expect(again.pending).toBe(0);
    expect(again.files).toEqual([]);
    // Not "Nothing to migrate.": the invalid token and the one in args are still in plaintext.
    expect(describePlan(again)).toContain('Nothing more to migrate.');
    expect(leftovers(again, again.items).map((l) => [l.path?.replace(h.home, '~'), l.where])).toEqual([
      ['~/project/.cursor/mcp.json', "server 'home' env HA_TOKEN"],
      ['~/.codeium/windsurf/mcp_config.json', "server 'legacy-github' args[1] (--token)"],
    ]);
    // What remains is reported, not migrated: the process environment and kept config entries.
    expect(again.items.map((i) => [i.candidate.kind, i.action, i.cleanup])).toEqual([
      ['env', 'same', 'report'],
      ['config', 'same', 'keep'],
      ['config', 'same', 'keep'],
      ['config', 'invalid', 'keep'],
    ]);
    const files = target.state.files.length;
    const result = await applyMigration(again, target);
    expect(result.stored).toEqual([]);
    expect(target.state.files).toHaveLength(files);
  });

  it('reports rc exports without --shell-rc and leaves the rc files alone', async () => {
    h = await makeHome();
    const target = new TestTarget();
    const bashrc = await h.read('.bashrc');
    const plan = await planMigration(target, h.options());
    const rc = plan.items.filter((i) => i.candidate.kind === 'shell-rc');
    expect(rc.map((i) => [i.candidate.line, i.cleanup, i.reason])).toEqual([
      [5, 'report', 'reported only: re-run with --shell-rc to remove the line'],
      [4, 'report', 'reported only: re-run with --shell-rc to remove the line'],
    ]);
    await applyMigration(plan, target);
    expect(await h.read('.bashrc')).toBe(bashrc);
    expect(target.state.values['github/token']).toBe(CANARIES.GITHUB);
  });

  itRc('undo restores every changed file byte for byte, with its mode', async () => {
    h = await makeHome();
    const target = new TestTarget();
    const before = await h.all();
    await applyMigration(await planMigration(target, h.options({ shellRc: true })), target);
    const undo = await undoMigration(target);
    expect(undo.ok).toBe(true);
    expect(undo.files.every((f) => f.outcome === 'restored')).toBe(true);
    expect(await h.all()).toEqual(before);
    expect((await fs.stat(join(h.home, 'project/.env'))).mode & 0o777).toBe(0o640);
    expect((await fs.stat(join(h.legacyDir, 'github_token'))).mode & 0o777).toBe(0o600);
    // A second undo has nothing left to do.
    expect((await undoMigration(target)).files.every((f) => f.outcome === 'unchanged')).toBe(true);
  });
});
