/**
 * A wrong passphrase exits 4 and changes nothing: no write, no backup, the same bytes, modes
 * and mtimes for every file (DESIGN.md §5). `passwd` re-wraps the data key only: the old
 * passphrase stops working, the new one works, and only vault.json changes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { seedVault, snapshot } from './support.js';

const token = githubClassic();
let home: string;
let dir: string;
beforeAll(async () => {
  ensureBuilt();
  home = tempHome();
  dir = await seedVault(home, [
    ['github', 'token', githubClassic()],
    ['github', 'token', token], // leaves one backup
    ['hass', 'token', jwt()],
    ['hass', 'url', 'http://hass.local:8123'],
  ]);
});

const wrongSources: Array<[string, (h: string) => Record<string, string>]> = [
  ['MCP_TOKENS_PASSPHRASE_FILE', (h) => passphraseEnv(h, 'not the passphrase')],
  ['MCP_TOKENS_PASSPHRASE', () => ({ MCP_TOKENS_PASSPHRASE: 'not the passphrase' })],
];

const commands: string[][] = [
  ['store', 'github', 'token', '-'],
  ['load', 'github'],
  ['list'],
  ['delete', 'hass', 'url'],
  ['restore', 'github', 'token'],
  ['prune', '--older-than', '1s'],
  ['passwd'],
];

describe.concurrent('wrong passphrase', () => {
  it.each(commands)('%s %s %s: exit 4, every file unchanged (bytes, modes, mtimes)', async (...args) => {
    const before = snapshot(home);
    const env = { ...wrongSources[0]![1](tempHome()), MCP_TOKENS_NEW_PASSPHRASE: 'another passphrase' };
    const r = await runCli(args, { home, env, input: githubClassic() });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^mcp-tokens: wrong passphrase/m);
    expect(r.stderr).toMatch(/hint: nothing was changed/);
    expect(snapshot(home)).toEqual(before);
  });

  it.each(wrongSources)('from %s: load exits 4 and prints nothing on stdout', async (_label, source) => {
    const before = snapshot(home);
    const r = await runCli(['load', 'github'], { home, env: source(tempHome()) });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain(token);
    expect(snapshot(home)).toEqual(before);
  });

  it('no passphrase source and no terminal: exit 4, nothing changed', async () => {
    const before = snapshot(home);
    const r = await runCli(['store', 'github', 'token', '-'], { home, input: githubClassic() });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/passphrase/);
    expect(snapshot(home)).toEqual(before);
  });
});

describe('passwd', () => {
  it('re-wraps the data key: only vault.json changes; the old passphrase fails, the new one works', async () => {
    const h = tempHome();
    const d = await seedVault(h, [
      ['github', 'token', githubClassic()],
      ['github', 'token', token],
      ['myapp', 'secret', 'v-1'],
    ]);
    const before = snapshot(d);
    const oldEnv = passphraseEnv(h);
    const newPass = 'a brand new passphrase';
    const r = await runCli(['passwd'], { home: h, env: { ...oldEnv, ...prefixed(passphraseEnv(h, newPass)) } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const after = snapshot(d);
    const changed = Object.keys(after).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
    expect(changed).toEqual(['vault.json']);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(after['vault.json']!.mode).toBe('600');

    const old = await runCli(['load', 'github'], { home: h, env: oldEnv });
    expect(old.code).toBe(4);
    const fresh = await runCli(['load', 'github'], { home: h, env: passphraseEnv(h, newPass) });
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toBe(`export GITHUB_PERSONAL_ACCESS_TOKEN='${token}'\n`);
    expect(snapshot(vaultDir(h))['github_token']).toEqual(before['github_token']);
  });
});

/** MCP_TOKENS_PASSPHRASE_FILE → MCP_TOKENS_NEW_PASSPHRASE_FILE */
function prefixed(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k.replace('MCP_TOKENS_PASSPHRASE', 'MCP_TOKENS_NEW_PASSPHRASE'), v]));
}
