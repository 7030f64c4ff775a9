/**
 * Bundles between file vaults (the built CLI, real age files): identity, export, import, the
 * Debian `age` CLI both ways, a team of three, conflicts and every kind of bad bundle. A canary
 * value rides along in each vault and must never appear in any message or in `list`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PASSPHRASE, canary, ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome, vaultDir, type CliResult } from '../helpers/cli.js';
import { backupValues, openVault, seedVault, snapshot } from './support.js';
import { requireTools } from '../helpers/tools.js';

const AGE = requireTools('age', ['age', 'age-keygen'], 'interop tests with the age CLI');

interface Machine {
  home: string;
  env: Record<string, string>;
  run(args: string[], input?: string | Buffer): Promise<CliResult>;
}

async function machine(entries: ReadonlyArray<readonly [string, string, string]>): Promise<Machine> {
  const home = tempHome('mcpt-bundle-');
  await seedVault(home, entries);
  const env = passphraseEnv(home);
  return { home, env, run: (args, input) => runCli(args, { home, env, ...(input !== undefined ? { input } : {}) }) };
}

async function values(m: Machine): Promise<Record<string, string>> {
  const v = await openVault(vaultDir(m.home));
  try {
    const out: Record<string, string> = {};
    for (const s of await v.services()) for (const [k, val] of Object.entries((await v.loadService(s)).values)) out[`${s} ${k}`] = val;
    return out;
  } finally {
    v.close();
  }
}

async function recipient(m: Machine): Promise<string> {
  const r = await m.run(['identity']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

function noLeak(r: CliResult, secrets: readonly string[], { stdout = true } = {}): void {
  for (const s of secrets) {
    expect(r.stderr).not.toContain(s);
    if (stdout) expect(r.stdout).not.toContain(s);
  }
}

describe('bundles between file vaults', () => {
  const secret = canary();
  const gh = githubClassic();
  const hassToken = jwt();
  let a: Machine;
  let b: Machine;
  let rB: string;
  beforeAll(async () => {
    ensureBuilt();
    a = await machine([
      ['github', 'token', gh],
      ['hass', 'token', hassToken],
      ['hass', 'url', 'http://homeassistant.local:8123'],
      ['canary', 'token', secret],
    ]);
    b = await machine([['wikijs', 'url', 'https://wiki.example.org'], ['wikijs', 'token', jwt()]]);
    rB = await recipient(b);
  });

  it('identity prints one stable age1 recipient and keeps the identity out of list and load', async () => {
    expect(rB).toMatch(/^age1[0-9a-z]{58}$/);
    expect(await recipient(b)).toBe(rB);
    const list = await b.run(['list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { entries: { service: string }[] }).entries.map((e) => e.service)).toEqual(['wikijs', 'wikijs']);
    expect((await b.run(['list'])).stdout).not.toMatch(/mcp-tokens|AGE-SECRET/);
    const load = await b.run(['load', 'all', '--format', 'json']);
    expect(load.code, load.stderr).toBe(0);
    expect(Object.keys(JSON.parse(load.stdout) as object)).toEqual(['WIKIJS_TOKEN', 'WIKIJS_URL']);
    expect(load.stdout).not.toContain('AGE-SECRET-KEY');
  });

  it('identity --secret prints an age identity file (with a warning) whose public key is the recipient', async () => {
    const r = await b.run(['identity', '--secret']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: this is the secret half/);
    expect(r.stdout).toMatch(/^# created: .*\n# public key: age1.*\nAGE-SECRET-KEY-1[0-9A-Z]+\n$/);
    if (AGE) {
      const y = spawnSync('age-keygen', ['-y'], { input: r.stdout, encoding: 'utf8' });
      expect(y.stdout.trim()).toBe(rB);
    }
  });

  it('the reserved service name cannot be stored, loaded or deleted by a user', async () => {
    for (const args of [['store', 'mcp-tokens', 'age-identity', '-'], ['load', 'mcp-tokens'], ['delete', 'mcp-tokens'], ['run', 'mcp-tokens', '--', 'true']]) {
      const r = await b.run(args, 'AGE-SECRET-KEY-1XYZ');
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain("'mcp-tokens' is a reserved service name");
      expect(r.stdout).toBe('');
    }
  });

  it('export | import moves the chosen services; nothing readable on the way; metadata.json records it', async () => {
    const exp = await a.run(['export', 'github', 'hass', '--to', rB]);
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.stdoutBytes.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    noLeak(exp, [gh, hassToken, secret]);
    expect(exp.stderr).toContain('Sealed github token, hass token, hass url to 1 recipient');
    const imp = await b.run(['import', '-'], exp.stdoutBytes);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toBe('');
    noLeak(imp, [gh, hassToken]);
    expect(await values(b)).toEqual({
      'github token': gh,
      'hass token': hassToken,
      'hass url': 'http://homeassistant.local:8123',
      'wikijs url': 'https://wiki.example.org',
      'wikijs token': expect.any(String),
    });
    const meta = JSON.parse(readFileSync(join(vaultDir(a.home), 'metadata.json'), 'utf8')) as { exports: { at: string; to: string[]; entries: string[] }[] };
    expect(meta.exports.at(-1)).toMatchObject({ to: [rB], entries: ['github_token', 'hass_token', 'hass_url'] });
    expect(Date.now() - Date.parse(meta.exports.at(-1)!.at)).toBeLessThan(60_000);
    // A later store keeps the export log.
    expect((await a.run(['store', 'hass', 'url', 'http://ha.lan:8123'])).code).toBe(0);
    expect((JSON.parse(readFileSync(join(vaultDir(a.home), 'metadata.json'), 'utf8')) as typeof meta).exports).toHaveLength(meta.exports.length);
  });

  it('importing the same bundle again changes nothing; a different value is a conflict unless --overwrite (backed up)', async () => {
    const again = await a.run(['export', 'github', '--to', rB]);
    const same = await b.run(['import'], again.stdoutBytes);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).toContain('Already stored with the same value: github token');

    const changed = await a.run(['export', 'hass', '--to', rB]); // hass url changed on a
    const before = snapshot(vaultDir(b.home));
    const refused = await b.run(['import', '-'], changed.stdoutBytes);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('would replace hass url');
    expect(refused.stderr).toContain('--overwrite');
    expect(snapshot(vaultDir(b.home))).toEqual(before);

    const dry = await b.run(['import', '--dry-run', '--overwrite', '-'], changed.stdoutBytes);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe('same hass token\nreplace hass url\n');
    expect(snapshot(vaultDir(b.home))).toEqual(before);

    const over = await b.run(['import', '--overwrite', '-'], changed.stdoutBytes);
    expect(over.code, over.stderr).toBe(0);
    expect((await values(b))['hass url']).toBe('http://ha.lan:8123');
    const v = await openVault(vaultDir(b.home));
    try {
      expect(await backupValues(v, 'hass', 'url')).toEqual(['http://homeassistant.local:8123']);
    } finally {
      v.close();
    }
  });

  it('-o writes a new 0600 file and refuses an existing one; --armor writes text', async () => {
    const out = join(a.home, 'b.age');
    const r = await a.run(['export', 'canary', '--to', rB, '-o', out, '--armor']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]*-----END AGE ENCRYPTED FILE-----\n$/);
    const again = await a.run(['export', 'canary', '--to', rB, '-o', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
  });

  it('export refuses a missing or malformed recipient and an unknown service, writing nothing', async () => {
    const before = snapshot(vaultDir(a.home));
    for (const [args, code, text] of [
      [['export', 'github'], 2, 'at least one --to'],
      [['export', '--to', 'age1notarecipient!'], 2, 'Invalid age recipient'],
      [['export', '--to', `${rB.slice(0, -1)}${rB.endsWith('q') ? 'p' : 'q'}`], 2, 'Invalid age recipient'],
      [['export', 'proxmox', '--to', rB], 3, 'No credentials stored for proxmox'],
    ] as const) {
      const r = await a.run([...args]);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr).toContain(text);
      expect(r.stdout).toBe('');
    }
    expect(snapshot(vaultDir(a.home))).toEqual(before);
  });

  it('a team bundle to three recipients opens in each of the three vaults', async () => {
    const team = await Promise.all([machine([]), machine([]), machine([])]);
    const rs = await Promise.all(team.map(recipient));
    const exp = await a.run(['export', 'canary', 'github', ...rs.flatMap((r) => ['--to', r])]);
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.stderr).toContain('to 3 recipients');
    // canary is a service of a's own: a bundle creates it only when asked to, and says what it exports.
    const before = snapshot(vaultDir(team[0]!.home));
    const asked = await team[0]!.run(['import', '-'], exp.stdoutBytes);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain('the bundle would create a new service: canary (new service): load and run export CANARY_TOKEN');
    expect(asked.stderr).toContain('--new-services');
    expect(snapshot(vaultDir(team[0]!.home))).toEqual(before);
    for (const m of team) {
      const r = await m.run(['import', '--new-services', '-'], exp.stdoutBytes);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('canary (new service): load and run export CANARY_TOKEN');
      expect(await values(m)).toEqual({ 'canary token': secret, 'github token': gh });
    }
    const meta = JSON.parse(readFileSync(join(vaultDir(a.home), 'metadata.json'), 'utf8')) as { exports: { to: string[] }[] };
    expect(meta.exports.at(-1)!.to).toEqual(rs);
    // And the recipient it was not sealed to cannot open it.
    const other = await b.run(['import', '-'], exp.stdoutBytes);
    expect(other.code).toBe(6);
  }, 240_000);

  describe.skipIf(!AGE)('interop with the age CLI (Debian)', () => {
    it('age -d -i opens a bundle mcp-tokens wrote, and the plaintext is the documented JSON', async () => {
      const idFile = join(b.home, 'identity.txt');
      writeFileSync(idFile, (await b.run(['identity', '--secret'])).stdout, { mode: 0o600 });
      for (const armor of [false, true]) {
        const exp = await a.run(['export', 'github', '--to', rB, ...(armor ? ['--armor'] : [])]);
        const d = spawnSync('age', ['-d', '-i', idFile], { input: exp.stdoutBytes, encoding: 'utf8' });
        expect(d.status, d.stderr).toBe(0);
        const doc = JSON.parse(d.stdout) as Record<string, unknown>;
        expect(doc).toMatchObject({ format: 'mcp-tokens-bundle', v: 1, credentials: [{ service: 'github', key: 'token', value: gh }] });
        expect(Object.keys(doc).sort()).toEqual(['createdAt', 'credentials', 'format', 'v']);
      }
    });

    it('a bundle made with age -r (binary and -a armor) over that JSON imports', async () => {
      const c = await machine([]);
      const rC = await recipient(c);
      const token = githubClassic();
      const doc = JSON.stringify({ format: 'mcp-tokens-bundle', v: 1, createdAt: new Date().toISOString(), credentials: [{ service: 'github', key: 'token', value: token }] });
      const bin = spawnSync('age', ['-r', rC], { input: doc });
      expect(bin.status).toBe(0);
      const r = await c.run(['import', '-'], bin.stdout);
      expect(r.code, r.stderr).toBe(0);
      expect(await values(c)).toEqual({ 'github token': token });
      const armored = spawnSync('age', ['-a', '-r', rC], { input: doc.replace(token, githubClassic()) });
      const file = join(c.home, 'in.age');
      writeFileSync(file, armored.stdout);
      const r2 = await c.run(['import', file, '--overwrite']);
      expect(r2.code, r2.stderr).toBe(0);
      expect((await values(c))['github token']).not.toBe(token);
    });

    it('--identity opens a bundle sealed to an age-keygen key, even into a new vault', async () => {
      const home = tempHome('mcpt-bundle-');
      const idFile = join(home, 'key.txt');
      expect(spawnSync('age-keygen', ['-o', idFile]).status).toBe(0);
      const r = spawnSync('age-keygen', ['-y', idFile], { encoding: 'utf8' }).stdout.trim();
      const exp = await a.run(['export', 'canary', '--to', r]);
      const env = { ...passphraseEnv(home), MCP_TOKENS_BACKEND: 'file' };
      const imp = await runCli(['init', '--kdf', 'interactive'], { home, env });
      expect(imp.code, imp.stderr).toBe(0);
      const got = await runCli(['import', '--identity', idFile, '--new-services', '-'], { home, env, input: exp.stdoutBytes });
      expect(got.code, got.stderr).toBe(0);
      noLeak(got, [secret]);
      const bad = await runCli(['import', '--identity', join(home, 'passphrase-nope'), '-'], { home, env, input: exp.stdoutBytes });
      expect(bad.code).toBe(3);
    });
  });

  describe('bad bundles: a clear error, exit 6 or 2, nothing stored', () => {
    const seal = async (doc: unknown): Promise<Buffer> => {
      const { seal: s } = await import('../../src/bundle/age.js');
      return Buffer.from(await s([rB], new TextEncoder().encode(typeof doc === 'string' ? doc : JSON.stringify(doc)), false));
    };
    const cred = (service: string, key: string, value: string) => ({ service, key, value });
    const doc = (credentials: unknown, v: unknown = 1) => ({ format: 'mcp-tokens-bundle', v, createdAt: '2026-01-01T00:00:00Z', credentials });

    // Every kind of bad bundle is in test/bundle/bad-bundles.test.ts (in-process, cheap); here
    // one of each class through the CLI, for the exit code and the "nothing stored" promise.
    it.each([
      ['sealed to another recipient', async () => (await a.run(['export', 'canary', '--to', await recipient(await machine([]))])).stdoutBytes, 6, 'not sealed to this identity'],
      ['a payload byte flipped', async () => { const f = Buffer.from((await a.run(['export', 'canary', '--to', rB])).stdoutBytes); f[f.length - 20]! ^= 1; return f; }, 6, 'truncated or tampered'],
      ['an unknown version', async () => seal(doc([cred('canary', 'token', secret)], 2)), 2, 'unknown bundle version 2'],
      ['an invalid value (with a valid one before it)', async () => seal(doc([cred('wikijs', 'token', jwt()), cred('github', 'token', `ghp_${secret}`)])), 2, 'github token in the bundle: Invalid GitHub token format'],
    ] as const)('%s', async (_name, make, code, text) => {
      const file = await make();
      const before = snapshot(vaultDir(b.home));
      const r = await b.run(['import', '-'], file);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toContain(text);
      expect(r.stderr).toMatch(/hint: /);
      expect(r.stdout).toBe('');
      noLeak(r, [secret, gh]);
      expect(snapshot(vaultDir(b.home))).toEqual(before);
    }, 120_000);

    it('a huge bundle is refused from its size, before decryption, from stdin and from a file', async () => {
      const before = snapshot(vaultDir(b.home));
      const huge = Buffer.alloc(1024 * 1024 + 1, 0x61);
      huge.write('age-encryption.org/v1\n');
      const r = await b.run(['import', '-'], huge);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('larger than 1024 KiB');
      const file = join(b.home, 'huge.age');
      writeFileSync(file, huge);
      const r2 = await b.run(['import', file]);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain('larger than 1024 KiB');
      expect(snapshot(vaultDir(b.home))).toEqual(before);
    });

    it('a vault without an identity says how to make one', async () => {
      const c = await machine([]);
      const exp = await a.run(['export', 'canary', '--to', rB]);
      const r = await c.run(['import', '-'], exp.stdoutBytes);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('mcp-tokens identity');
    });
  });

  it('the passphrase check still guards import (wrong passphrase: exit 4, nothing stored)', async () => {
    const exp = await a.run(['export', 'canary', '--to', rB]);
    const before = snapshot(vaultDir(b.home));
    const r = await runCli(['import', '-'], { home: b.home, env: passphraseEnv(b.home, `${PASSPHRASE}x`), input: exp.stdoutBytes });
    expect(r.code).toBe(4);
    expect(snapshot(vaultDir(b.home))).toEqual(before);
  });
});
