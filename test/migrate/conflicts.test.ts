import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigration, planMigration, undoMigration } from '../../src/migrate/index.js';
import { EXPECTED_VAULT, makeHome, type TestHome } from './home.js';
import { TestTarget } from './targets.js';
import { CANARIES, githubToken, jwt } from './tokens.js';
import { requireTools } from '../helpers/tools.js';

// The home's rc files include .zshrc and config.fish: migrate edits one only when its own shell
// says the result still parses (`zsh -n`, `fish -n`), so these tests need both shells.
const ZSH = requireTools('zsh', ['zsh'], 'migrate tests that edit .zshrc');
const FISH = requireTools('fish', ['fish'], 'migrate tests that edit config.fish');
const itRc = it.skipIf(!ZSH || !FISH);

let h: TestHome;
afterEach(async () => {
  if (h) await fs.rm(h.root, { recursive: true, force: true });
});

/** Does `value` still sit in some file under HOME? */
async function inFiles(value: string): Promise<boolean> {
  return [...(await h.all()).values()].some((t) => t.includes(value));
}

describe('conflicts', () => {
  itRc("skips a value of the user's own files that differs from the vault; a config server with it becomes an instance", async () => {
    h = await makeHome();
    const vaultToken = githubToken('already-in-vault');
    const target = new TestTarget();
    await target.store('github', 'token', vaultToken);
    const desktop = await h.read('.config/Claude/claude_desktop_config.json');
    const plan = await planMigration(target, h.options({ shellRc: true }));
    const gh = plan.items.filter((i) => i.candidate.service === 'github' && i.candidate.kind !== 'legacy-backup');
    expect(gh.map((i) => [i.candidate.kind, i.action])).toEqual([
      ['legacy-file', 'conflict'],
      ['shell-rc', 'conflict'],
    ]);
    expect(gh[0]!.reason).toMatch(/differs from the value in the vault.*--overwrite/);
    // Each config server with the other token is a second account: one instance, named after the
    // first server's client (the server is called "github"), shared by the others with that token.
    const instances = plan.items.filter((i) => i.candidate.service.startsWith('github@'));
    expect(new Set(instances.map((i) => i.candidate.service))).toEqual(new Set(['github@claude-desktop']));
    expect(instances[0]!.candidate.note).toMatch(/a second github account.*github@claude-desktop/);
    const result = await applyMigration(plan, target);
    expect(target.state.values['github/token']).toBe(vaultToken);
    expect(target.state.values['github@claude-desktop/token']).toBe(CANARIES.GITHUB);
    expect(await h.read('.mcp_tokens/github_token')).toBe(`${CANARIES.GITHUB}\n`);
    expect(await h.read('.bashrc')).toContain(CANARIES.GITHUB);
    const after = await h.read('.config/Claude/claude_desktop_config.json');
    expect(after).not.toBe(desktop);
    expect(after).toContain('"args": ["run", "github@claude-desktop", "--", "npx", "-y", "@modelcontextprotocol/server-github"]');
    expect(after).not.toContain(CANARIES.GITHUB);
    expect(after).not.toContain(CANARIES.HASS);
    expect(result.stored.map((s) => `${s.service}/${s.key}`)).not.toContain('github/token');
  });

  itRc('replaces the vault value with --overwrite, backing up the old one', async () => {
    h = await makeHome();
    const old = githubToken('already-in-vault');
    const target = new TestTarget();
    await target.store('github', 'token', old);
    const result = await applyMigration(await planMigration(target, h.options({ shellRc: true, overwrite: true })), target);
    expect(result.ok).toBe(true);
    expect(target.state.values).toEqual(EXPECTED_VAULT);
    expect(target.state.backups.some((b) => b.service === 'github' && b.value === old)).toBe(true);
    expect(await inFiles(CANARIES.GITHUB)).toBe(false);
  });

  it("does not choose between two different plaintext values of the user's own files, even with --overwrite", async () => {
    h = await makeHome();
    const other = jwt('another-hass-token');
    await fs.writeFile(join(h.legacyDir, 'hass_token'), `${other}\n`, { mode: 0o600 });
    const target = new TestTarget();
    const plan = await planMigration(target, h.options({ overwrite: true }));
    const hass = plan.items.filter((i) => i.candidate.service === 'hass' && i.candidate.key === 'token' && i.action !== 'backup' && i.action !== 'invalid');
    expect(hass.map((i) => [i.candidate.kind, i.action])).toEqual([
      ['legacy-file', 'conflict'],
      ['env-file', 'conflict'],
    ]);
    expect(hass[0]!.reason).toMatch(/^2 different plaintext values were found for hass token/);
    await applyMigration(plan, target);
    expect(target.state.values['hass/token']).toBeUndefined();
    expect(await inFiles(other)).toBe(true);
    // The Claude Desktop server with the .env's token is a second account of the legacy file's.
    expect(target.state.values['hass@claude-desktop/token']).toBe(CANARIES.HASS);
    expect(await h.read('.config/Claude/claude_desktop_config.json')).toContain('"hass@claude-desktop"');
    expect(await h.read(join('project', '.env'))).toContain(CANARIES.HASS);
  });

  it('leaves an invalid value where it is and reports why, without echoing it', async () => {
    h = await makeHome();
    const plan = await planMigration(new TestTarget(), h.options());
    const bad = plan.items.find((i) => i.action === 'invalid')!;
    expect(bad.candidate.path).toBe(join(h.cwd, '.cursor', 'mcp.json'));
    expect(bad.reason).not.toContain('paste-your-token-here');
    expect(bad.candidate.masked).toBe('past…here');
  });
});

describe('a failure half-way loses nothing', () => {
  for (const n of [0, 1, 3, 5, 7]) {
    it(`store fails after ${n} stores`, async () => {
      h = await makeHome();
      const target = new TestTarget({ failAfterStores: n });
      const result = await applyMigration(await planMigration(target, h.options({ shellRc: true })), target);
      expect(result.ok).toBe(false);
      expect(result.stored).toHaveLength(n);
      expect(result.failed[0]?.error).toMatch(/keychain is locked/);
      // Every value is in the vault or still in plaintext, and nothing unverified was touched.
      for (const [id, value] of Object.entries(EXPECTED_VAULT)) {
        const stored = target.state.values[id] === value;
        expect(stored || (await inFiles(value)), id).toBe(true);
      }
      for (const old of [CANARIES.OLD_GITHUB, CANARIES.OLD_HASS]) expect(await inFiles(old)).toBe(true);
      // A re-run with a working vault completes the migration.
      const healthy = new TestTarget();
      healthy.state = target.state;
      const second = await applyMigration(await planMigration(healthy, h.options({ shellRc: true })), healthy);
      expect(second.ok).toBe(true);
      expect(healthy.state.values).toEqual(EXPECTED_VAULT);
      for (const c of Object.values(CANARIES).filter((c) => c !== CANARIES.STRAY)) expect(await inFiles(c)).toBe(false);
    });
  }
});

describe('file backend in the legacy directory', () => {
  itRc('does not unlink the encrypted entry that replaced a plaintext file', async () => {
    h = await makeHome();
    await fs.unlink(join(h.legacyDir, 'wikijs_url')); // the fixture's stand-in entry does not decrypt here
    const target = new TestTarget({ entriesDir: h.legacyDir });
    const plan = await planMigration(target, h.options({ shellRc: true }));
    expect(plan.items.find((i) => i.candidate.kind === 'legacy-file')?.action).toBe('store');
    const result = await applyMigration(plan, target);
    expect(result.ok).toBe(true);
    const legacyOutcomes = result.files.filter((f) => f.path.startsWith(h.legacyDir) && !f.path.includes('backups'));
    expect(legacyOutcomes.map((f) => f.outcome)).toEqual(['replaced-by-vault', 'replaced-by-vault', 'replaced-by-vault']);
    for (const [id, value] of Object.entries(EXPECTED_VAULT)) {
      const [s, k] = id.split('/') as [string, string];
      expect(await target.get(s, k), id).toBe(value);
    }
    const entry = await h.read('.mcp_tokens/github_token');
    expect(entry.startsWith('{"v":1,"alg":"xchacha20poly1305-ietf"')).toBe(true);
    // Undo does not put the plaintext back over the entry.
    const undo = await undoMigration(target);
    expect(undo.files.filter((f) => f.path.startsWith(h.legacyDir) && f.outcome === 'restored').map((f) => f.path)).toEqual(
      [join(h.legacyDir, 'backups', 'github_token.20240101_120000.backup'), join(h.legacyDir, 'backups', 'hass_token.20231215_083000.backup')],
    );
    expect(await h.read('.mcp_tokens/github_token')).toBe(entry);
  });
});

describe('undo', () => {
  it('keeps a config edited after the migration unless forced', async () => {
    h = await makeHome();
    const target = new TestTarget();
    const original = await h.read('.claude.json');
    await applyMigration(await planMigration(target, h.options()), target);
    const edited = (await h.read('.claude.json')).replace('"numStartups": 42', '"numStartups": 43');
    await fs.writeFile(join(h.home, '.claude.json'), edited);
    const undo = await undoMigration(target);
    const claude = undo.files.find((f) => f.path.endsWith('.claude.json'))!;
    expect(claude.outcome).toBe('skipped');
    expect(claude.reason).toMatch(/edited after the migration/);
    expect(await h.read('.claude.json')).toBe(edited);
    await undoMigration(target, { force: true });
    expect(await h.read('.claude.json')).toBe(original);
  });

  itRc('restores only the last run', async () => {
    h = await makeHome();
    const target = new TestTarget();
    await applyMigration(await planMigration(target, h.options()), target);
    const afterFirst = await h.all();
    await applyMigration(await planMigration(target, h.options({ shellRc: true })), target);
    const undo = await undoMigration(target);
    expect(undo.files.map((f) => [f.path.replace(h.home, '~'), f.outcome])).toEqual([
      ['~/.bashrc', 'restored'],
      ['~/.config/fish/config.fish', 'restored'],
    ]);
    expect(await h.all()).toEqual(afterFirst);
  });
});

describe('a server with credentials of two services (--config)', () => {
  it('moves the migrated service to run and keeps the skipped one in env', async () => {
    h = await makeHome();
    const path = join(h.root, 'custom.json');
    const text = `{
  "mcpServers": {
    "homelab": {
      "command": "homelab-mcp",
      "env": {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "${CANARIES.GITHUB}",
        "HA_URL": "http://ha.lan:8123",
        "HA_TOKEN": "${CANARIES.HASS}"
      }
    }
  }
}
`;
    await fs.writeFile(path, text);
    const target = new TestTarget();
    await target.store('github', 'token', githubToken('another'));
    const opts = { ...h.options(), clientConfigs: false, envFiles: [], legacyDir: join(h.root, 'none'), configs: [path], env: {} };
    const plan = await planMigration(target, opts);
    // Its github token is not the vault's: a second account, the instance github@homelab.
    expect(plan.files[0]!.servers[0]).toMatchObject({
      services: ['github@homelab', 'hass'],
      removedEnv: ['GITHUB_PERSONAL_ACCESS_TOKEN', 'HA_URL', 'HA_TOKEN'],
      keptEnv: [],
      launch: ['mcp-tokens', 'run', 'github@homelab', 'hass', '--', 'homelab-mcp'],
    });
    await applyMigration(plan, target);
    expect(target.state.values['github@homelab/token']).toBe(CANARIES.GITHUB);
    expect(target.state.values['github/token']).toBe(githubToken('another'));
    expect(await fs.readFile(path, 'utf8')).toBe(`{
  "mcpServers": {
    "homelab": {
      "command": "mcp-tokens",
      "args": ["run", "github@homelab", "hass", "--", "homelab-mcp"]
    }
  }
}
`);
  });

  it("gives a server that read only some of a service's variables exactly those, through --env", async () => {
    h = await makeHome();
    const path = join(h.root, 'pve.json');
    await fs.writeFile(path, `{"mcpServers": {"pve": {"command": "pve-mcp", "env": {"PROXMOX_TOKEN": "${CANARIES.PROXMOX}"}}}}`);
    const target = new TestTarget();
    const opts = { ...h.options(), clientConfigs: false, envFiles: [], legacyDir: join(h.root, 'none'), configs: [path], env: {} };
    // `run proxmox` would need host and user and export them too; the server read only PROXMOX_TOKEN.
    await target.store('proxmox', 'host', 'pve.lan');
    await applyMigration(await planMigration(target, opts), target);
    expect(await fs.readFile(path, 'utf8')).toBe('{"mcpServers": {"pve": {"command": "mcp-tokens", "args": ["run", "--env", "PROXMOX_TOKEN=proxmox.token", "--", "pve-mcp"]}}}');
  });

  it('reports a --config path that does not exist or is not JSON', async () => {
    h = await makeHome();
    const bad = join(h.root, 'bad.json');
    await fs.writeFile(bad, '{"mcpServers": ');
    const opts = { ...h.options(), clientConfigs: false, configs: [join(h.root, 'missing.json'), bad] };
    const plan = await planMigration(new TestTarget(), opts);
    expect(plan.refused.filter((r) => r.path.startsWith(h.root) && !r.path.startsWith(h.home))).toEqual([
      { path: join(h.root, 'missing.json'), reason: 'does not exist', mayHoldSecrets: false },
      { path: bad, reason: 'is not valid JSON (with comments); not edited', mayHoldSecrets: true },
    ]);
  });
});
