/**
 * The seed's round trip on the built binary: every store command of the seed, then `load` of
 * each service and of `all`, whose output evaluated in bash and dash gives back each value
 * byte-for-byte. A missing service exits 3 with the seed's "Please run: …" wrapper message.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt, passphraseEnv, proxmoxToken, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { catCommand, evalInShell } from './support.js';

const values = {
  GITHUB_PERSONAL_ACCESS_TOKEN: githubClassic(),
  HA_TOKEN: jwt({ iss: 'hass', iat: 1_751_932_800 }),
  HA_URL: 'http://your.hass.host:8123',
  PROXMOX_TOKEN: proxmoxToken('root@pam', 'mcp'),
  PROXMOX_HOST: 'your.proxmox.host',
  PROXMOX_USER: 'root@pam',
  WIKIJS_TOKEN: jwt({ api: 1, grp: 1 }),
  WIKIJS_URL: 'http://your.wikijs.host:3000',
};
type Var = keyof typeof values;

// The seed's "Store Commands", in its order.
const stores: Array<[string, string, Var]> = [
  ['github', 'token', 'GITHUB_PERSONAL_ACCESS_TOKEN'],
  ['hass', 'token', 'HA_TOKEN'],
  ['hass', 'url', 'HA_URL'],
  ['proxmox', 'token', 'PROXMOX_TOKEN'],
  ['proxmox', 'host', 'PROXMOX_HOST'],
  ['proxmox', 'user', 'PROXMOX_USER'],
  ['wikijs', 'token', 'WIKIJS_TOKEN'],
  ['wikijs', 'url', 'WIKIJS_URL'],
];

const perService: Record<string, Var[]> = {
  github: ['GITHUB_PERSONAL_ACCESS_TOKEN'],
  hass: ['HA_TOKEN', 'HA_URL'],
  proxmox: ['PROXMOX_TOKEN', 'PROXMOX_HOST', 'PROXMOX_USER'],
  wikijs: ['WIKIJS_TOKEN', 'WIKIJS_URL'],
};

const exportLine = (v: Var) => `export ${v}='${values[v]}'`;

let home: string;
let env: Record<string, string>;
beforeAll(() => {
  ensureBuilt();
  home = tempHome();
  env = passphraseEnv(home);
});

describe('seed round trip', () => {
  it('the first store creates a file vault (no keychain reachable) and warns about argv values', async () => {
    const [service, key, v] = stores[0]!;
    const r = await runCli(['store', service, key, values[v]], { home, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Created a file vault/);
    expect(r.stderr).toMatch(/shell history/);
    expect(r.stderr).not.toContain(values[v]);
    const config = JSON.parse(readFileSync(join(vaultDir(home), 'vault.json'), 'utf8')) as { backend: string };
    expect(config.backend).toBe('file');
  });

  it.each(stores.slice(1))('store %s %s (as in the seed, value on argv)', async (service, key, v) => {
    const r = await runCli(['store', service, key, values[v]], { home, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Stored ${service} ${key}`);
    // The argv warning is for secrets only: a URL, host or user on the command line is fine.
    if (key === 'token') expect(r.stderr).toMatch(/shell history/);
    else expect(r.stderr).not.toMatch(/shell history/);
    if (['HA_TOKEN', 'PROXMOX_TOKEN', 'WIKIJS_TOKEN'].includes(v)) expect(r.stderr).not.toContain(values[v]);
  });

  it.each(Object.entries(perService))('load %s prints exactly its export lines', async (service, vars) => {
    const r = await runCli(['load', service], { home, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(vars.map(exportLine).join('\n') + '\n');
    expect(r.stderr).toBe('');
  });

  it.each(['bash', 'dash'] as const)('load all, evaluated in %s, gives back every value byte-for-byte', async (shell) => {
    const r = await runCli(['load', 'all'], { home, env });
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').sort()).toEqual(Object.keys(values).map((v) => exportLine(v as Var)).sort());
    const file = join(tempHome(), 'load.out');
    writeFileSync(file, r.stdoutBytes);
    const ev = evalInShell(shell, catCommand(file), Object.keys(values));
    expect(ev.status).toBe(0);
    for (const [name, value] of Object.entries(values)) expect(ev.values[name]).toEqual(Buffer.from(value, 'utf8'));
  });

  it('load --format json carries the same values', async () => {
    const r = await runCli(['load', '--format', 'json'], { home, env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(values);
  });

  it('list shows every stored key with secrets masked and url/host/user whole', async () => {
    const r = await runCli(['list'], { home, env });
    expect(r.code).toBe(0);
    for (const v of ['GITHUB_PERSONAL_ACCESS_TOKEN', 'HA_TOKEN', 'PROXMOX_TOKEN', 'WIKIJS_TOKEN'] as const) {
      expect(r.stdout).not.toContain(values[v]);
      expect(r.stdout).toContain(`${values[v].slice(0, 4)}…${values[v].slice(-4)}`);
    }
    for (const v of ['HA_URL', 'PROXMOX_HOST', 'PROXMOX_USER', 'WIKIJS_URL'] as const) expect(r.stdout).toContain(values[v]);
  });
});

describe('missing credentials', () => {
  it('load of a service with nothing stored exits 3 with the seed wrapper message (no vault yet)', async () => {
    const r = await runCli(['load', 'github'], { env: {} });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('No credentials stored for github');
    expect(r.stderr).toContain('Please run: mcp-tokens store github token   # asks for it without echo');
    expect(r.stderr).not.toContain('<your_token>'); // no secret on the command line, even as a placeholder
  });

  it('load of a service missing from an existing vault exits 3 naming every store command', async () => {
    const h = tempHome();
    const e = passphraseEnv(h);
    expect((await runCli(['store', 'github', 'token', '-'], { home: h, env: e, input: githubClassic() })).code).toBe(0);
    const r = await runCli(['load', 'proxmox'], { home: h, env: e });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('No credentials stored for proxmox');
    for (const k of ['token', 'host', 'user']) expect(r.stderr).toContain(`mcp-tokens store proxmox ${k}`);
  });
});
