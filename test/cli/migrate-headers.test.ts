/**
 * Remote servers' headers (issue 26): a Claude Code remote server with a credential in `headers`
 * is migrated — the token goes to the vault, the header leaves the entry, and `headersHelper`
 * names `mcp-tokens headers …`, which, run as Claude Code runs it (through `sh -c`), prints
 * exactly the JSON headers. No secret in argv or on stderr; `--undo` restores every byte. Then
 * `mcp-tokens headers` alone: refused names and templates, a missing field, a closed stdout.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, canary, cliEnv, ensureBuilt, githubClassic, passphraseEnv, rootsArgs, runCli, tempHome, testRoots } from '../helpers/cli.js';

beforeAll(() => ensureBuilt());

const home = tempHome();
const passEnv = passphraseEnv(home);
const token = githubClassic();
const secret = canary();
const config = join(home, '.claude.json');
const original = `{
  "numStartups": 3,
  "mcpServers": {
    "github": { "type": "http", "url": "https://api.githubcopilot.com/mcp/", "headers": { "Authorization": "Bearer ${token}", "X-Trace": "on" } },
    "acme": {
      "type": "sse",
      "url": "https://mcp.acme.example/sse",
      "headers": {
        "X-Api-Key": "${secret}"
      }
    }
  }
}
`;

/** Run a headersHelper as Claude Code does: one string, through a shell, in the user's environment. */
function runHelper(helper: string, extra: Record<string, string> = {}) {
  const env = cliEnv(home, { ...passEnv, NODE_OPTIONS: rootsArgs(testRoots(home)).join(' '), ...extra });
  return spawnSync('/bin/sh', ['-c', helper], { env, encoding: 'utf8', timeout: 30_000 });
}

type Entry = { headers?: Record<string, string>; headersHelper?: string; url: string };
const servers = (): Record<string, Entry> => (JSON.parse(readFileSync(config, 'utf8')) as { mcpServers: Record<string, Entry> }).mcpServers;

describe('migrate: Claude Code remote servers get a headersHelper', () => {
  let migrate: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    writeFileSync(config, original, { mode: 0o600 });
    migrate = await runCli(['migrate', '--no-projects'], { home, env: passEnv });
  }, 60_000);

  it('moves the tokens out of the file and sets headersHelper; other headers stay', () => {
    expect(migrate.code, migrate.stderr).toBe(0);
    const text = readFileSync(config, 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain(secret);
    const s = servers();
    expect(s['github']!.headers).toEqual({ 'X-Trace': 'on' });
    expect(s['acme']!.headers).toBeUndefined();
    // Not on this PATH: the CLI by its absolute path, as for rewritten commands.
    expect(s['github']!.headersHelper).toMatch(/^\/\S+ headers github --header 'Authorization=Bearer \{token\}'$/);
    expect(s['acme']!.headersHelper).toMatch(/^\/\S+ headers acme --header 'X-Api-Key=\{x-api-key\}'$/);
    expect(text).toContain('"numStartups": 3');
  });

  it('the helper, run through sh -c, prints exactly the JSON headers', () => {
    const gh = runHelper(servers()['github']!.headersHelper!);
    expect(gh.status, gh.stderr).toBe(0);
    expect(gh.stdout).toBe(`${JSON.stringify({ Authorization: `Bearer ${token}` })}\n`);
    expect(gh.stderr).toBe('');
    const acme = runHelper(servers()['acme']!.headersHelper!);
    expect(acme.status, acme.stderr).toBe(0);
    expect(JSON.parse(acme.stdout)).toEqual({ 'X-Api-Key': secret });
  });

  it('never shows a secret on stderr or stdout of migrate, nor in the helper command line', () => {
    expect(Object.values(servers()).every((e) => e.headersHelper !== undefined)).toBe(true);
    for (const v of [token, secret]) {
      expect(migrate.stderr + migrate.stdout).not.toContain(v);
      for (const e of Object.values(servers())) expect(e.headersHelper ?? '').not.toContain(v);
    }
  });

  it("mcp-tokens clients counts both servers as through the vault, none as plaintext", async () => {
    const r = await runCli(['clients', '--json', '--no-projects'], { home, env: passEnv });
    const row = (JSON.parse(r.stdout) as { files: { path: string; servers: number; viaVault: number; plaintext: number }[] }).files.find((f) => f.path === config);
    expect(row).toMatchObject({ servers: 2, viaVault: 2, plaintext: 0 });
  });

  it('--undo restores the file byte for byte', async () => {
    const undo = await runCli(['migrate', '--undo'], { home, env: passEnv });
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stderr).toMatch(/restored +\S*\.claude\.json/);
    expect(readFileSync(config, 'utf8')).toBe(original);
  });
});

describe('mcp-tokens headers', () => {
  const helper = (args: string[]) => runCli(['headers', ...args], { home, env: passEnv });

  it.each([
    ['a space in the name', 'X Bad={token}', /Invalid header name/],
    ['a colon in the name', 'X:Bad={token}', /Invalid header name/],
    ['no name', '={token}', /Invalid header name/],
    ['a shell character in the name', 'X;id={token}', /Invalid header name/],
    ['no reference', 'Authorization=Bearer', /takes nothing from the vault/],
    ['an unmatched brace', 'Authorization=Bearer {token', /Unmatched brace/],
    ['a reference that is no field name', 'Authorization=Bearer {../x}', /Invalid field reference/],
    ['a control character', 'Authorization=Bearer\t{token}', /control character/],
  ])('refuses %s (exit 2, with a hint)', async (_why, spec, message) => {
    const r = await helper(['github', '--header', spec]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/hint:/);
    expect(r.stdout).toBe('');
  });

  it('refuses a template holding a credential, without echoing it', async () => {
    const r = await helper(['github', '--header', `Authorization=Bearer ${token} {token}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/looks like it holds a credential/);
    expect(r.stderr).not.toContain(token);
    expect(r.stdout).toBe('');
  });

  it('refuses the same header twice', async () => {
    const r = await helper(['github', '--header', 'A={token}', '--header', 'a={token}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/given twice/);
  });

  it('a field not stored exits 3 with the store command to run', async () => {
    const r = await helper(['acme', '--header', 'Authorization=Bearer {token}']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/No credentials stored for acme token/);
    expect(r.stderr).toMatch(/hint: Please run: mcp-tokens store acme token/);
    expect(r.stdout).toBe('');
  });

  it.each([
    ['closed', (cmd: string) => `exec 1>&-; ${cmd}; echo "status=$?" >&2`],
    ['a pipe its reader closed', (cmd: string) => `( ${cmd}; echo "status=$?" >&2 ) | true`],
  ])('a stdout %s: a quiet end, no secret on stderr', (_why, wrap) => {
    const r = runHelper(wrap(`${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} headers github --header 'Authorization=Bearer {token}'`));
    expect(r.stderr).toBe('status=0\n');
  });
});

describe('a Claude Code header migrate leaves', () => {
  it('an entry with a headersHelper of its own keeps it; its header is listed as left, with the step', async () => {
    const own = tempHome();
    const t = githubClassic();
    const text = `{"mcpServers":{"x":{"type":"http","url":"https://x.example/mcp","headersHelper":"/usr/local/bin/my-helper","headers":{"Authorization":"Bearer ${t}"}}}}\n`;
    writeFileSync(join(own, '.claude.json'), text, { mode: 0o600 });
    const r = await runCli(['migrate', '--dry-run', '--no-projects'], { home: own, env: passphraseEnv(own) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/server 'x' headers\.Authorization/);
    expect(r.stderr).toMatch(/"headersHelper": "mcp-tokens headers <service>/);
    expect(r.stderr + r.stdout).not.toContain(t);
    expect(readFileSync(join(own, '.claude.json'), 'utf8')).toBe(text);
  });
});
