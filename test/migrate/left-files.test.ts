/**
 * Files migrate cannot read are never skipped silently (issue 12): a client config over 64 MB and
 * a symlink to another user's config are listed as left, with the reason. And an old script's token file whose
 * value differs from the vault's is no dead end: the vault's value stays, the file's becomes an
 * encrypted backup, the file is removed, and undo puts it back byte for byte with its mode.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigration, describePlan, leftovers, planMigration, undoMigration } from '../../src/migrate/index.js';
import { TestTarget } from './targets.js';
import { githubToken } from './tokens.js';

let root: string | undefined;
afterEach(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
  root = undefined;
});

async function home(): Promise<string> {
  root = await fs.mkdtemp(join(tmpdir(), 'mcp-tokens-left-'));
  const h = join(root, 'home');
  await fs.mkdir(join(h, '.mcp_tokens'), { recursive: true, mode: 0o700 });
  return h;
}

const options = (h: string) => ({ home: h, cwd: h, platform: 'linux' as const, env: {}, legacyDir: join(h, '.mcp_tokens') });

describe('files migrate cannot read are listed as left', () => {
  it("a config over 64 MB and a symlink to another user's config: each listed with its reason", async () => {
    const h = await home();
    await fs.mkdir(join(h, '.cursor'));
    const big = join(h, '.cursor', 'mcp.json');
    const handle = await fs.open(big, 'w', 0o644);
    await handle.truncate(64 * 1024 * 1024 + 1); // sparse: costs no disk
    await handle.close();
    const real = join(root!, 'elsewhere.json');
    await fs.writeFile(real, `{"mcpServers": {"g": {"command": "x", "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${githubToken('left-link')}"}}}}\n`);
    await fs.chown(real, 65534, 65534); // another user's file: a link to it is not followed
    await fs.mkdir(join(h, '.codeium', 'windsurf'), { recursive: true });
    const link = join(h, '.codeium', 'windsurf', 'mcp_config.json');
    await fs.symlink(real, link);
    const plan = await planMigration(new TestTarget(), options(h));
    const left = leftovers(plan, plan.items);
    // Really not read (unlike a file read and partly rewritten): said so, with a step that fits.
    expect(left.find((l) => l.path === big)).toEqual({
      path: big,
      where: 'the whole file',
      masked: '',
      reason: 'is larger than 64 MiB (67108864 bytes), the most migrate reads, so it was not read at all: check it by hand for tokens',
      step: expect.stringMatching(/^move the tokens out of its "env" entries by hand .*Claude Code's history.* re-run mcp-tokens migrate$/),
    });
    expect(describePlan(plan).join('\n')).toContain(`Not read: ${big} is larger than 64 MiB`);
    expect(left.find((l) => l.path === link)).toMatchObject({
      where: 'the whole file',
      reason: expect.stringMatching(/symbolic link to .*elsewhere\.json, which is owned by another user \(uid 65534\)/),
      step: `check ${real} by hand for tokens; if it is meant to be your own file, make it one (owned by you, in a folder only you can write, not writable by others) or replace the link ${link} with a copy of it, then re-run mcp-tokens migrate`,
    });
  });
});

describe("an old script's file that differs from the vault", () => {
  it("keeps the vault's value, imports the file's as a backup, removes the file; undo puts it back with its mode", async () => {
    const h = await home();
    const inVault = githubToken('left-vault');
    const old = githubToken('left-old-file');
    const file = join(h, '.mcp_tokens', 'github_token');
    await fs.writeFile(file, `${old}\n`, { mode: 0o644 });
    await fs.chmod(file, 0o644);
    const target = new TestTarget();
    await target.store('github', 'token', inVault);
    const plan = await planMigration(target, options(h));
    const item = plan.items.find((i) => i.candidate.path === file)!;
    expect(item.action).toBe('backup');
    expect(item.reason).toMatch(/mcp-tokens restore github token/);
    expect(item.warnings.join('\n')).toMatch(/had mode 644.*exposed/);
    const result = await applyMigration(plan, target);
    expect(result.ok).toBe(true);
    expect(result.left).toEqual([]);
    expect(target.state.values['github/token']).toBe(inVault);
    expect(target.state.backups.map((b) => b.value)).toContain(old);
    await expect(fs.stat(file)).rejects.toThrow(/ENOENT/);
    expect((await planMigration(target, options(h))).pending).toBe(0);
    const undo = await undoMigration(target);
    expect(undo.files).toEqual([{ path: file, outcome: 'restored' }]);
    expect(await fs.readFile(file, 'utf8')).toBe(`${old}\n`);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o644);
  });
});
