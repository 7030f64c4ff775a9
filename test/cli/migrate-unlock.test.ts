/**
 * The migrate plan says, per rewritten server, how `mcp-tokens run` will open the vault when the
 * client starts it (issue 12: migrated servers stopped working from a desktop launcher on a file
 * vault, and nothing said so): the keychain, the unlock agent serving the vault now, a passphrase
 * file named in the server's own env, or "will fail from a desktop launcher" with what to do. The
 * dry run and the real run show the same, the JSON plan has it, and the run's summary says it
 * once. Real CLI children, a real agent, a private Secret Service for the keychain case.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, writePassphraseFile } from '../helpers/cli.js';
import { seedVault } from './support.js';
import { agentVault, cli, unlockVault } from '../agent/support.js';
import { keychainCli, requireKeyringOrSkip } from './keychain-harness.js';

beforeAll(() => ensureBuilt());

interface Unlock {
  via: string;
  launcher: boolean;
  detail: string;
  fix?: string;
}
interface PlanJson {
  files: { path: string; servers: { server: string[]; unlock?: Unlock }[] }[];
}

/** unlock of each server in a --dry-run --json plan, by server name. */
function unlocks(stdout: string): Record<string, Unlock | undefined> {
  const plan = JSON.parse(stdout) as PlanJson;
  return Object.fromEntries(plan.files.flatMap((f) => f.servers.map((s) => [s.server.at(-1)!, s.unlock])));
}

/** The lines the plan and summary print about unlocking. */
function unlockLines(stderr: string): string[] {
  const lines = stderr.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Unlock: '));
  const summary = start < 0 ? [] : lines.slice(start).filter((l, i) => i === 0 || l.startsWith('  '));
  return [...lines.filter((l) => l.trim().startsWith('unlock at start: ')), ...summary];
}

function writeConfig(home: string, servers: Record<string, Record<string, string>>): string {
  mkdirSync(join(home, '.cursor'), { recursive: true });
  const path = join(home, '.cursor', 'mcp.json');
  const entries = Object.fromEntries(Object.entries(servers).map(([name, env]) => [name, { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], env }]));
  writeFileSync(path, `${JSON.stringify({ mcpServers: entries }, null, 2)}\n`, { mode: 0o644 });
  return path;
}

describe('migrate on a file vault with no agent: how each rewritten server will unlock', () => {
  const home = tempHome();
  const env = passphraseEnv(home); // migrate's own source: the client will not have it
  const token = githubClassic();
  let configPath = '';
  let clientFile = '';

  beforeAll(async () => {
    await seedVault(home, []);
    clientFile = writePassphraseFile(home, undefined, 'client-passphrase');
    configPath = writeConfig(home, {
      plain: { GITHUB_PERSONAL_ACCESS_TOKEN: token },
      withfile: { GITHUB_PERSONAL_ACCESS_TOKEN: token, MCP_TOKENS_PASSPHRASE_FILE: clientFile },
      relative: { GITHUB_PERSONAL_ACCESS_TOKEN: token, MCP_TOKENS_PASSPHRASE_FILE: 'client-passphrase' },
    });
  });

  it('the JSON plan has unlock per server; migrate\'s own passphrase file does not count', async () => {
    const r = await runCli(['migrate', '--dry-run', '--json'], { home, env });
    expect(r.code, r.stderr).toBe(0);
    const u = unlocks(r.stdout);
    expect(u['plain']).toMatchObject({ via: 'none', launcher: false });
    expect(u['plain']!.detail).toMatch(/^will fail from a desktop launcher: .*no unlock agent/);
    expect(u['plain']!.fix).toContain("run 'mcp-tokens unlock' before starting the client");
    expect(u['plain']!.fix).toContain("'mcp-tokens backend keychain'");
    expect(u['withfile']).toMatchObject({ via: 'passphrase-file', launcher: true });
    expect(u['withfile']!.detail).toContain(clientFile);
    expect(u['relative']).toMatchObject({ via: 'none', launcher: false });
    expect(u['relative']!.detail).toContain('is not an absolute path');
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it('the dry run and the real run print the same lines, under each server and once in the summary; the rewrite keeps the passphrase file', async () => {
    const dry = await runCli(['migrate', '--dry-run'], { home, env });
    expect(dry.code, dry.stderr).toBe(0);
    const lines = unlockLines(dry.stderr);
    expect(lines.filter((l) => l.includes('unlock at start: will fail from a desktop launcher: '))).toHaveLength(2);
    expect(lines).toContain(`           unlock at start: the passphrase file ${clientFile} (MCP_TOKENS_PASSPHRASE_FILE in the server's env)`);
    expect(lines).toContain('Unlock: 2 rewritten servers will fail to start from a desktop launcher (each one\'s "unlock at start" line above says why):');
    expect(lines).toContain(`  ${configPath}: server mcpServers.plain`);
    expect(lines).toContain(`  ${configPath}: server mcpServers.relative`);
    expect(lines.at(-1)).toMatch(/^ {2}To start them: run 'mcp-tokens unlock' before starting the client/);

    const real = await runCli(['migrate'], { home, env });
    expect(real.code, real.stderr).toBe(0);
    expect(unlockLines(real.stderr)).toEqual(lines);
    const after = JSON.parse(readFileSync(configPath, 'utf8')) as { mcpServers: Record<string, { env?: Record<string, string> }> };
    expect(after.mcpServers['withfile']!.env).toEqual({ MCP_TOKENS_PASSPHRASE_FILE: clientFile });
    expect(readFileSync(configPath, 'utf8')).not.toContain(token);
  });
});

describe('migrate on a file vault an agent serves', () => {
  it('says the agent, until when, and what to run once it has locked; after lock it says the launcher will fail', async () => {
    const v = await agentVault([]);
    const token = githubClassic();
    writeConfig(v.home, { gh: { GITHUB_PERSONAL_ACCESS_TOKEN: token } });
    await unlockVault(v, ['--timeout', '8h']);

    // No passphrase source at all: migrate itself opens the vault through the agent.
    const r = await cli(v, ['migrate', '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const u = unlocks(r.stdout)['gh']!;
    expect(u).toMatchObject({ via: 'agent', launcher: true });
    expect(u.detail).toMatch(/^the unlock agent running now \(locks at \d{4}-.*\): works until 'mcp-tokens lock', its timeout, logout or a reboot$/);
    expect(u.fix).toBe("then run 'mcp-tokens unlock' before starting the client");
    const text = await cli(v, ['migrate', '--dry-run']);
    expect(text.stderr).toContain('unlock at start: the unlock agent running now');
    expect(text.stderr).not.toMatch(/passphrase/i); // through the agent nothing asks for one
    expect(text.stderr).not.toContain('Unlock: ');

    expect((await cli(v, ['lock'])).code).toBe(0);
    const locked = await cli(v, ['migrate', '--dry-run', '--json'], { withPassphrase: true });
    expect(locked.code, locked.stderr).toBe(0);
    expect(unlocks(locked.stdout)['gh']).toMatchObject({ via: 'none', launcher: false });
  });
});

const KEYRING = requireKeyringOrSkip();

describe.skipIf(!KEYRING)('migrate --dry-run with no vault where a keychain answers', () => {
  const kc = keychainCli();
  it('plans a keychain vault and says the servers need no passphrase; nothing is created', async () => {
    const token = githubClassic();
    writeConfig(kc.home, { gh: { GITHUB_PERSONAL_ACCESS_TOKEN: token } });
    // The session's bus is at <root>/run/bus: <root>/run plays /run/user/<uid>, as on a desktop.
    const runUser = join(kc.session().root, 'run');
    const r = await kc.run(['migrate', '--dry-run', '--json'], { roots: { runUser, tmp: kc.home, home: kc.home } });
    expect(r.code, r.stderr).toBe(0);
    expect(unlocks(r.stdout)['gh']).toMatchObject({ via: 'keychain', launcher: true });
    expect(unlocks(r.stdout)['gh']!.detail).toMatch(/^the keychain \(Secret Service\): no passphrase needed, as long as the login keyring is unlocked/);
    expect(unlocks(r.stdout)['gh']!.detail).toContain(join(runUser, 'bus'));
    expect(() => readFileSync(join(kc.dir, 'vault.json'))).toThrow();
    // No bus at the standard place: a server started by an MCP client (no DBUS_SESSION_BUS_ADDRESS) will not reach it.
    const none = await kc.run(['migrate', '--dry-run', '--json']);
    expect(none.code, none.stderr).toBe(0);
    expect(unlocks(none.stdout)['gh']).toMatchObject({ via: 'none', launcher: false });
    expect(unlocks(none.stdout)['gh']!.fix).toContain('DBUS_SESSION_BUS_ADDRESS');
  });
});

describe('migrate --dir: a vault elsewhere than ~/.mcp_tokens', () => {
  it('rewritten entries say run --dir <vault>, and the server started as the client would (no MCP_TOKENS_DIR) gets its token', async () => {
    const home = tempHome();
    const dir = join(home, 'vaults', 'work');
    const token = githubClassic();
    const clientFile = writePassphraseFile(home, undefined, 'client-passphrase');
    const configPath = writeConfig(home, { gh: { GITHUB_PERSONAL_ACCESS_TOKEN: token, MCP_TOKENS_PASSPHRASE_FILE: clientFile } });
    const env = { ...passphraseEnv(home), MCP_TOKENS_DIR: dir };
    expect((await runCli(['init', '--kdf', 'interactive'], { home, env })).code).toBe(0);

    const dry = await runCli(['migrate', '--dry-run', '--json'], { home, env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(unlocks(dry.stdout)['gh']).toMatchObject({ via: 'passphrase-file', launcher: true });
    const r = await runCli(['migrate'], { home, env });
    expect(r.code, r.stderr).toBe(0);
    const entry = (JSON.parse(readFileSync(configPath, 'utf8')) as { mcpServers: Record<string, { command: string; args: string[]; env: Record<string, string> }> }).mcpServers['gh']!;
    expect(entry.args.slice(0, 4)).toEqual(['run', '--dir', dir, 'github']);
    expect(readFileSync(configPath, 'utf8')).not.toContain(token);

    // As the client starts it: its own env only (no MCP_TOKENS_DIR, no migrate's passphrase source).
    const inner = entry.args.indexOf('--');
    const args = [...entry.args.slice(0, inner + 1), process.execPath, '-e', 'process.stdout.write(process.env.GITHUB_PERSONAL_ACCESS_TOKEN ?? "")'];
    const started = await runCli(args, { home, env: { ...entry.env, MCP_TOKENS_DIR: undefined, MCP_TOKENS_PASSPHRASE_FILE: entry.env['MCP_TOKENS_PASSPHRASE_FILE'] } });
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toBe(token);
    // Again: nothing to do (the --dir is not doubled).
    const again = await runCli(['migrate', '--dry-run', '--json'], { home, env });
    expect(JSON.parse(again.stdout)).toMatchObject({ pending: 0 });
  }, 120_000);
});
