#!/usr/bin/env node
/**
 * Make the golden vault fixture (DESIGN.md §5): a small file vault created by the built CLI with
 * the `interactive` KDF preset, holding all four built-in services and one backup. It is
 * committed under test/fixtures/golden/ and every later version of mcp-tokens must open it
 * (test/cli/golden.test.ts, test/vault/golden.test.ts). Run it only when the format version
 * changes — and then keep the old fixture beside the new one.
 *
 *   npm run build && node scripts/make-golden.mjs [outDir]     (default test/fixtures/golden)
 *
 * Output: vault/ (the vault directory as the CLI wrote it), passphrase.txt (test-only!),
 * expected.json (the env values `load all` must print, and the backup's file and value).
 * Git does not keep modes: the tests copy vault/ to a 0700 directory with 0600 files first.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(repo, 'test/fixtures/golden'));
const { githubChecksum } = await import(join(repo, 'dist/services/github.js'));

// Fixed, obviously fake values: the fixture must be reproducible in content, not just in shape.
const PASSPHRASE = 'golden fixture passphrase (test only)';
const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (payload) => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(payload)}.${Buffer.from('golden-signature-bytes').toString('base64url')}`;
const classic = (body30) => `ghp_${body30}${githubChecksum(body30)}`;
const OLD_GITHUB = classic('GoldenOldToken0123456789abcdeF');
const values = {
  GITHUB_PERSONAL_ACCESS_TOKEN: classic('GoldenNewToken0123456789abcdeF'),
  HA_TOKEN: jwt({ iss: 'golden-hass', iat: 1751932800, exp: 2066000000 }),
  HA_URL: 'http://hass.golden.test:8123',
  PROXMOX_TOKEN: 'PVEAPIToken=root@pam!golden=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
  PROXMOX_HOST: '[2001:db8::10]:8006',
  PROXMOX_USER: 'root@pam',
  WIKIJS_TOKEN: jwt({ api: 7, grp: 1, iat: 1751932800 }),
  WIKIJS_URL: 'https://wiki.golden.test/base',
};
const stores = [
  ['github', 'token', OLD_GITHUB],
  ['hass', 'token', values.HA_TOKEN],
  ['hass', 'url', values.HA_URL],
  ['proxmox', 'token', values.PROXMOX_TOKEN],
  ['proxmox', 'host', values.PROXMOX_HOST],
  ['proxmox', 'user', values.PROXMOX_USER],
  ['wikijs', 'token', values.WIKIJS_TOKEN],
  ['wikijs', 'url', values.WIKIJS_URL],
  ['github', 'token', values.GITHUB_PERSONAL_ACCESS_TOKEN], // replaces OLD_GITHUB: one backup
];

const home = mkdtempSync(join(tmpdir(), 'mcpt-golden-'));
try {
  const pass = join(home, 'passphrase');
  writeFileSync(pass, `${PASSPHRASE}\n`, { mode: 0o600 });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, MCP_TOKENS_PASSPHRASE_FILE: pass };
  const cli = (args, input) => {
    const r = spawnSync(process.execPath, [join(repo, 'bin/mcp-tokens.js'), '--backend', 'file', ...args], { env, input: input ?? '', encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mcp-tokens ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  };
  cli(['init', '--kdf', 'interactive']);
  for (const [service, key, value] of stores) cli(['store', service, key, '-'], value);

  const vault = join(home, '.mcp_tokens');
  const backups = readdirSync(join(vault, 'backups'));
  if (backups.length !== 1) throw new Error(`expected one backup, found ${backups.length}`);
  if (existsSync(out)) rmSync(out, { recursive: true });
  mkdirSync(out, { recursive: true });
  cpSync(vault, join(out, 'vault'), { recursive: true, filter: (src) => !/\/(\.lock|\.tmp-[^/]*)$/.test(src) });
  writeFileSync(join(out, 'passphrase.txt'), `${PASSPHRASE}\n`);
  const expected = { kdf: 'interactive', values, backup: { file: backups[0], service: 'github', key: 'token', value: OLD_GITHUB } };
  writeFileSync(join(out, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
  process.stderr.write(`golden vault written to ${out}\n`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
