/**
 * Every refusal of the seed's error table, per field, on the built binary: the message starts
 * with the seed's exact text and carries a hint, the exit code is 2, the refused value appears
 * nowhere in stdout or stderr, and nothing is written — a refused first store creates no vault,
 * and a refused store into an existing vault changes no file.
 *
 * Accepted values are checked without paying for a KDF per row: in an existing vault with no
 * passphrase source, a value that passes validation goes on to ask for the passphrase and fails
 * with exit 4, where a refused one stops at exit 2. A few edge cases are also stored for real.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, githubFineGrained, jwt, passphraseEnv, proxmoxToken, randomAlnum, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { openVault, seedVault, snapshot } from './support.js';

const GH = 'Invalid GitHub token format';
const URL_ = 'Invalid URL format';
const HOST = 'Invalid host format';
const USER = 'Invalid Proxmox user format';
const PVE = 'Invalid Proxmox token format';
const HA = 'Invalid Home Assistant token format';
const WIKI = 'Invalid WikiJS token format';

// A marker inside each refused value, to prove the value is never echoed (hints quote examples).
const m = `zq${randomAlnum(10).toLowerCase()}`;
const uuid = '8c1e4d2a-1b3c-4d5e-8f90-a1b2c3d4e5f6';
const b64 = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

type Row = [service: string, key: string, value: string, message: string];
const refused: Row[] = [
  ['github', 'token', `ghp_${m}${'a'.repeat(23)}`, GH], // 35 after the prefix
  ['github', 'token', `ghp_${m}${'a'.repeat(25)}`, GH], // 37
  ['github', 'token', `ghx_${m}${'a'.repeat(24)}`, GH],
  ['github', 'token', `Bearer ghp_${m}${'a'.repeat(24)}`, GH],
  ['github', 'token', `github_pat_${m}${'a'.repeat(9)}_${'b'.repeat(59)}`, GH], // 21 before '_'
  ['github', 'token', `github_pat_${m}${'a'.repeat(10)}_${'b'.repeat(58)}`, GH], // 58 after
  ['github', 'token', `your_token_here_${m}`, GH],
  ['hass', 'url', `your.hass.host.${m}:8123`, URL_],
  ['hass', 'url', `ftp://${m}.example.com`, URL_],
  ['hass', 'url', `http://admin:${m}@hass.example.com`, URL_],
  ['hass', 'url', `http://hass.example.com/?token=${m}`, URL_],
  ['hass', 'url', `http://hass.example.com/#${m}`, URL_],
  ['hass', 'url', `http://${m}.example.com:99999`, URL_],
  ['hass', 'url', `javascript:${m}`, URL_],
  ['wikijs', 'url', `//${m}.example.com:3000`, URL_],
  ['wikijs', 'url', `https://${m}.example.com\\@evil.example`, URL_],
  ['proxmox', 'host', `${m}..example.com`, HOST],
  ['proxmox', 'host', `-${m}.example.com`, HOST],
  ['proxmox', 'host', `${m}.example.com:0`, HOST],
  ['proxmox', 'host', `${m}.example.com:65536`, HOST],
  ['proxmox', 'host', `https://${m}.example.com`, HOST],
  ['proxmox', 'host', `${m}_pve.example.com`, HOST],
  ['proxmox', 'host', `[2001:db8::${m.slice(0, 4)}]:8006`, HOST], // "zq…": never hex
  ['proxmox', 'host', `[2001:db8::1]:${m}`, HOST],
  ['proxmox', 'host', '256.1.1.1', HOST],
  ['proxmox', 'host', '10.0.0', HOST],
  ['proxmox', 'user', `${m}`, USER],
  ['proxmox', 'user', `@${m}`, USER],
  ['proxmox', 'user', `${m}@pam@pve`, USER],
  ['proxmox', 'user', `ro ot${m}@pam`, USER],
  ['proxmox', 'token', `root@pam!${m}=${uuid}`, PVE],
  ['proxmox', 'token', `PVEAPIToken=root@pam!${m}=not-a-uuid`, PVE],
  ['proxmox', 'token', `PVEAPIToken=root@pam=${m}`, PVE],
  ['proxmox', 'token', `PVEAPIToken=${m}!mcp=${uuid}`, PVE],
  ['proxmox', 'token', `pveapitoken=${m}@pam!mcp=${uuid}`, PVE],
  ['proxmox', 'token', 'PVEAPIToken=user@realm!token=uuid', PVE], // the seed's placeholder
  ['hass', 'token', `${b64({ alg: 'HS256' })}.${b64({ sub: m })}`, HA], // two parts
  ['hass', 'token', `${b64('not json')}.${b64({ sub: m })}.c2ln`, HA],
  ['hass', 'token', `${b64({ alg: 'HS256' })}.${b64(`{"sub":"${m}"`)}.c2ln`, HA], // payload JSON cut short
  ['hass', 'token', `${b64({ alg: 'HS256' })}.${b64([m])}.c2ln`, HA], // payload is an array
  ['wikijs', 'token', `${b64({ alg: 'RS256' })}.${Buffer.from(JSON.stringify({ m })).toString('base64')}=.c2ln`, WIKI],
  ['wikijs', 'token', `${m}`, WIKI],
];

let home: string;
let vault: string;
beforeAll(async () => {
  ensureBuilt();
  home = tempHome();
  vault = await seedVault(home, [['github', 'token', githubClassic()]]);
});

function expectRefused(r: { code: number | null; stdout: string; stderr: string }, value: string, message: string) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  // An argv value is warned about first; the error line itself starts with the seed's text.
  const lines = r.stderr.split('\n');
  const at = lines.findIndex((l) => l.startsWith('mcp-tokens: '));
  expect(lines[at]).toBe(`mcp-tokens: ${message}`);
  expect(lines[at + 1]).toMatch(/^\s+hint: \S.{5,}/);
  expect(r.stderr).not.toContain(value);
  if (value.includes(m)) expect(r.stderr).not.toContain(m);
}

// Rows run concurrently: each spends most of its time starting Node, and none writes.
describe.concurrent('refused values', () => {
  it.each(refused)('%s %s %j → "%s" as a first store: exit 2, no vault created, value not echoed', async (service, key, value, message) => {
    const fresh = tempHome();
    const env = passphraseEnv(fresh);
    const before = snapshot(fresh);
    // '--' so a value starting with '-' is an operand, not an option.
    const r = await runCli(['store', service, key, '--', value], { home: fresh, env });
    expectRefused(r, value, message);
    expect(existsSync(vaultDir(fresh))).toBe(false);
    expect(snapshot(fresh)).toEqual(before);
  });

  // One row per message, piped into an existing vault: no file changes.
  const perMessage = [...new Map(refused.map((row) => [row[3], row])).values()];
  it.each(perMessage)('%s %s %j → "%s" piped into an existing vault: exit 2, no file changed', async (service, key, value, message) => {
    const snap = snapshot(vault);
    const r = await runCli(['store', service, key, '-'], { home, env: passphraseEnv(home), input: `${value}\n` });
    expectRefused(r, value, message);
    expect(snapshot(vault)).toEqual(snap);
  });
});

const accepted: Array<[string, string, string]> = [
  ['github', 'token', githubClassic('ghp')],
  ['github', 'token', githubClassic('ghr')],
  ['github', 'token', githubFineGrained()],
  ['hass', 'token', jwt()],
  ['hass', 'token', jwt({ exp: 4_102_444_800, sub: 'x' })],
  ['wikijs', 'token', jwt({ api: 2 })],
  ['hass', 'url', 'http://homeassistant.local:8123'],
  ['hass', 'url', 'https://hass.example.com/base/path'],
  ['wikijs', 'url', 'http://[::1]:3000'],
  ['wikijs', 'url', 'https://[2001:db8::1]/wiki'],
  ['proxmox', 'host', '192.168.1.10:8006'],
  ['proxmox', 'host', 'pve.example.com:8006'],
  ['proxmox', 'host', '::1'],
  ['proxmox', 'host', '2001:db8::1'],
  ['proxmox', 'host', '[2001:db8::1]:8006'],
  ['proxmox', 'user', 'root@pam'],
  ['proxmox', 'user', 'first.last@ldap-realm'],
  ['proxmox', 'token', proxmoxToken()],
  ['proxmox', 'token', proxmoxToken('mcp@pve', 'ci-token')],
];

describe.concurrent('accepted values', () => {
  it.each(accepted)('%s %s %j passes validation (then asks for the passphrase: exit 4)', async (service, key, value) => {
    const snap = snapshot(vault);
    const r = await runCli(['store', service, key, '-'], { home, input: value });
    expect(r.code).toBe(4);
    expect(r.stderr).not.toMatch(/Invalid/);
    expect(r.stderr).toMatch(/passphrase/);
    expect(r.stderr).not.toContain(value);
    expect(snapshot(vault)).toEqual(snap);
  });

  it('edge cases are stored for real: fine-grained token, bracketed IPv6 host with port', async () => {
    const h = tempHome();
    const env = passphraseEnv(h);
    const token = githubFineGrained();
    const a = await runCli(['store', 'github', 'token', '-'], { home: h, env, input: token });
    expect(a.code).toBe(0);
    expect(a.stderr).not.toMatch(/mistyped/);
    expect((await runCli(['store', 'proxmox', 'host', '[2001:db8::1]:8006'], { home: h, env })).code).toBe(0);
    const v = await openVault(vaultDir(h));
    try {
      expect(await v.get('github', 'token')).toBe(token);
      expect(await v.get('proxmox', 'host')).toBe('[2001:db8::1]:8006');
    } finally {
      v.close();
    }
  });

  it('a classic token whose checksum does not match is stored with a "may be mistyped" warning', async () => {
    const h = tempHome();
    const env = passphraseEnv(h);
    const good = githubClassic();
    const bad = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
    const r = await runCli(['store', 'github', 'token', '-'], { home: h, env, input: bad });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/may be mistyped/);
    expect(r.stderr).not.toContain(bad);
  });
});
