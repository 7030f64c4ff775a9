/**
 * Canary secrets: unique values stored through the CLI must never show up where a secret does
 * not belong — stderr of any command, stdout of anything but `load`, `list`/`--json`, `backups`,
 * `doctor`, error text — nor in any file of the vault directory as plaintext (or as its plain
 * base64), including backups, metadata.json and vault.json.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { canary, ensureBuilt, githubClassic, jwt, passphraseEnv, proxmoxToken, randomAlnum, runCli, tempHome, vaultDir, type CliResult } from '../helpers/cli.js';
import { HIDDEN } from '../../src/cli/mask.js';

const first = canary();
const second = canary();
const token = githubClassic();
const secrets = [first, second, token];
let home: string;
let env: Record<string, string>;
const results: Array<[string, CliResult]> = [];

function forms(s: string): string[] {
  const b = Buffer.from(s);
  return [s, s.slice(4, -4), b.toString('base64').slice(0, -4), b.toString('base64url').slice(0, -4), b.toString('hex')];
}

function expectClean(label: string, text: string) {
  for (const s of secrets) for (const f of forms(s)) expect(text.includes(f), `${label} holds a canary form ${f.slice(0, 12)}…`).toBe(false);
}

beforeAll(async () => {
  ensureBuilt();
  home = tempHome();
  env = passphraseEnv(home);
  const run = async (args: string[], input?: string) => {
    const r = await runCli(args, { home, env, ...(input === undefined ? {} : { input }) });
    results.push([args.join(' '), r]);
    return r;
  };
  expect((await run(['store', 'myapp', 'secret', '-'], first)).code).toBe(0);
  expect((await run(['store', 'github', 'token', '-'], token)).code).toBe(0);
  expect((await run(['store', 'myapp', 'secret', '-'], second)).code).toBe(0); // backup holds `first`
  expect((await run(['store', 'myapp', 'secret', '-'], second)).code).toBe(0); // unchanged
  await run(['store', 'github', 'token', '-'], `${token}x`); // refused: too long
  await run(['store', 'hass', 'url', `http://${first}@example.com`]); // refused: userinfo
  await run(['store', 'myapp', 'secret', '-'], `${first}\nsecond line`); // refused: newline
  for (const args of [['list'], ['list', '--json'], ['backups'], ['backups', '--json'], ['doctor'], ['doctor', '--json'], ['services', '--json']]) {
    expect((await run(args)).code).toBe(0);
  }
  await run(['load', 'hass']); // not found
  await run(['restore', 'myapp', 'secret', '--at', '19990101']); // no such backup
  await run(['delete', 'myapp', 'nothing']); // not found
  const wrong = await runCli(['load', 'all'], { home, env: { MCP_TOKENS_PASSPHRASE: 'wrong passphrase' } });
  results.push(['load all (wrong passphrase)', wrong]);
  const loaded = await run(['load', 'all']);
  expect(loaded.stdout).toContain(second); // the check below would be vacuous if load printed nothing
});

describe('canary secrets', () => {
  it('appear in no stderr, and in no stdout but load', () => {
    expect(results.length).toBeGreaterThan(15);
    for (const [label, r] of results) {
      expectClean(`stderr of ${label}`, r.stderr);
      if (!label.startsWith('load ')) expectClean(`stdout of ${label}`, r.stdout);
    }
  });

  it('list shows secrets masked: first 4 … last 4', () => {
    const list = results.find(([l]) => l === 'list')![1].stdout;
    expect(list).toContain(`${token.slice(0, 4)}…${token.slice(-4)}`);
    expect(list).toContain(`${second.slice(0, 4)}…${second.slice(-4)}`);
  });

  it('appear in no file of the vault directory, in any plain encoding', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(vaultDir(home));
    expect(files.map((f) => f.slice(vaultDir(home).length + 1)).sort()).toEqual(
      expect.arrayContaining(['vault.json', 'metadata.json', 'myapp_secret', 'github_token', expect.stringMatching(/^backups\/myapp_secret\./)]),
    );
    for (const f of files) {
      const raw = readFileSync(f);
      expectClean(f, raw.toString('latin1'));
      for (const s of secrets) expect(raw.includes(Buffer.from(s, 'utf16le')), f).toBe(false);
    }
  });
});

describe('a token typed in the wrong place is never echoed', () => {
  // One of each shape the rule must catch: a service's format, a JWT, a Proxmox token, and a
  // long random string of no known format (with a digit, as the rule asks: one random 32-character
  // string in ~250 has none, and the rule leaves letters-only words alone; SECURITY.md).
  const typed = { github: githubClassic(), jwt: jwt(), proxmox: proxmoxToken(), random: `${randomAlnum(16)}8${randomAlnum(15)}` };
  const T = typed.github;
  const cases: Array<[string, string[], number]> = [
    ['as a service name (store)', ['store', T, 'token', 'x'], 2],
    ['as a service name (load)', ['load', T], 2],
    ['as a service name (run)', ['run', T, '--', 'true'], 2],
    ['as a service name (delete)', ['delete', T, 'token'], 2],
    ['as a service name (verify)', ['verify', T, '--offline'], 2],
    ['as a key name', ['store', 'github', T], 2],
    ['as a command name', [T], 2],
    ['as an option name', [`--${T}`], 2],
    ['as an option name with a value', ['load', `--${T}=1`], 2],
    ['as an option value (choices)', ['load', '--format', T], 2],
    ['as an option value (number)', ['verify', '--timeout', T], 2],
    ['as an option value (--opt=value)', ['load', `--format=${T}`], 2],
  ];
  for (const [kind, value] of Object.entries(typed)) {
    if (kind !== 'github') cases.push([`a ${kind} token as a service name`, ['load', value], 2], [`a ${kind} token as a command`, [value], 2]);
  }

  it.each(cases)('%s', async (_label, args, code) => {
    const r = await runCli(args, { home, env });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(HIDDEN); // the message did quote the argument: the mask is what hid it
    expect(r.stderr).toMatch(/^mcp-tokens: .*\n {2}hint: /); // one error style, commander's errors included
    const value = args.find((a) => Object.values(typed).some((t) => a.includes(t)))!;
    const secret = Object.values(typed).find((t) => value.includes(t))!;
    for (const out of [r.stderr, r.stdout]) {
      expect(out).not.toContain(secret);
      for (let i = 0; i + 12 <= secret.length; i++) expect(out).not.toContain(secret.slice(i, i + 12));
    }
  });

  it('ordinary arguments stay visible in errors', async () => {
    const r = await runCli(['load', '--format', 'yaml-v2'], { home, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'yaml-v2'");
    const s = await runCli(['stor', 'github'], { home, env });
    expect(s.stderr).toBe("mcp-tokens: unknown command 'stor'\n  hint: did you mean store? (see: mcp-tokens --help)\n");
  });
});
