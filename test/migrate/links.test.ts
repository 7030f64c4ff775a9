/**
 * Which symlinked configs migrate follows (issue 12), in-process with real files, owners and
 * modes: a group write bit is accepted only for the user's own primary group (a user-private
 * group), on the file and on its folder; a sticky folder others can write is accepted (they
 * cannot rename or remove the user's file there); a folder owned by another user is not.
 * The CLI end to end (rewrite, undo, races) is test/cli/migrate-links.test.ts.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { leftovers, planMigration } from '../../src/migrate/index.js';
import { TestTarget } from './targets.js';
import { githubToken } from './tokens.js';

let root: string | undefined;
afterEach(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
  root = undefined;
});

const myGid = process.getgid!();
const OTHER = 65534;

/** ~/.cursor/mcp.json -> <root>/<folder>/mcp.json, with the folder's and the file's owner and mode. */
async function linked(o: { dirMode: number; dirGid?: number; dirUid?: number; fileMode: number; fileGid?: number }) {
  root = await fs.mkdtemp(join(tmpdir(), 'mcp-tokens-links-'));
  const home = join(root, 'home');
  await fs.mkdir(join(home, '.cursor'), { recursive: true });
  const folder = join(root, 'dotfiles');
  await fs.mkdir(folder);
  const target = join(folder, 'mcp.json');
  await fs.writeFile(target, `{"mcpServers": {"g": {"command": "npx", "args": ["x"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${githubToken('links')}"}}}}\n`);
  await fs.chown(target, process.getuid!(), o.fileGid ?? myGid);
  await fs.chmod(target, o.fileMode);
  await fs.chown(folder, o.dirUid ?? process.getuid!(), o.dirGid ?? myGid);
  await fs.chmod(folder, o.dirMode);
  const link = join(home, '.cursor', 'mcp.json');
  await fs.symlink(target, link);
  const plan = await planMigration(new TestTarget(), { home, cwd: home, platform: 'linux', env: {}, legacyDir: join(home, '.mcp_tokens') });
  const refused = leftovers(plan, plan.items).find((l) => l.path === link && l.where === 'the whole file');
  return { plan, link, target, folder, followed: plan.files.find((f) => f.path === link)?.target, refused: refused?.reason };
}

describe('which link targets are followed', () => {
  it('group-writable file and folder of your own primary group: followed', async () => {
    const r = await linked({ dirMode: 0o2775, fileMode: 0o664 });
    expect(r.refused).toBeUndefined();
    expect(r.followed).toBe(r.target);
  });

  it("a file another group can write: not followed", async () => {
    const r = await linked({ dirMode: 0o755, fileMode: 0o660, fileGid: OTHER });
    expect(r.followed).toBeUndefined();
    expect(r.refused).toBe(`is a symbolic link to ${r.target}, which other users can write to (mode 660); not followed: check it by hand for tokens`);
  });

  it('a folder another group can write: not followed', async () => {
    const r = await linked({ dirMode: 0o775, dirGid: OTHER, fileMode: 0o600 });
    expect(r.followed).toBeUndefined();
    expect(r.refused).toMatch(new RegExp(`^is a symbolic link to ${r.target}, whose folder ${r.folder} other users can write to \\(mode 775\\): they could swap the file`));
  });

  it('a sticky folder everyone can write: followed (only you can rename or remove your file there)', async () => {
    const r = await linked({ dirMode: 0o1777, fileMode: 0o600 });
    expect(r.refused).toBeUndefined();
    expect(r.followed).toBe(r.target);
  });

  it("a folder of another user: not followed, though the file is yours", async () => {
    const r = await linked({ dirMode: 0o755, dirUid: OTHER, fileMode: 0o600 });
    expect(r.followed).toBeUndefined();
    expect(r.refused).toMatch(new RegExp(`^is a symbolic link to ${r.target}, whose folder ${r.folder} is owned by another user \\(uid 65534\\)`));
  });
});
