/**
 * Tampering, on the binary: a sample of flipped bytes and truncations of an entry (the
 * exhaustive sweep runs in-process in test/vault/tamper.test.ts), entries swapped between names
 * or with a backup, and a doctored vault.json. Each must exit 6 (INTEGRITY) with nothing on
 * stdout and nothing written. Doctored KDF parameters are refused before the KDF runs.
 */
import { copyFileSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, githubClassic, jwt, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { cloneVault, seedVault, snapshot } from './support.js';

const token = githubClassic();
let base: string;
beforeAll(async () => {
  ensureBuilt();
  base = tempHome();
  await seedVault(base, [
    ['github', 'token', githubClassic()],
    ['github', 'token', token], // one backup of github_token
    ['hass', 'token', jwt()],
    ['hass', 'url', 'http://hass.local:8123'],
    ['hass', 'token', jwt()], // one backup of hass_token
  ]);
});

/** Spoil a copy of the vault with `edit`, run `args`, and check exit 6 with nothing printed or written. */
async function expectIntegrity(edit: (dir: string) => void, args: string[] = ['load', 'github']) {
  const home = cloneVault(base);
  edit(vaultDir(home));
  const before = snapshot(home);
  const r = await runCli(args, { home, env: passphraseEnv(tempHome()) });
  expect(r.code, r.stderr).toBe(6);
  expect(r.stdout).toBe('');
  // A spoiled first byte no longer looks like a sealed blob: reported as a non-entry, still exit 6.
  expect(r.stderr).toMatch(/integrity check failed|format version|is not an encrypted mcp-tokens entry/);
  expect(r.stderr).toMatch(/hint: /);
  expect(r.stderr).not.toContain(token);
  const after = snapshot(home);
  // restore takes the vault lock before it reads the backup (state is read under the lock):
  // the lock file's coming and going touches the directory's mtime; no file may change.
  if (args[0] === 'restore') after['.mcp_tokens'] = { ...after['.mcp_tokens']!, mtimeMs: before['.mcp_tokens']!.mtimeMs };
  expect(after).toEqual(before);
  return r;
}

function flip(path: string, at: (len: number, text: string) => number, mask = 0x01) {
  const b = readFileSync(path);
  b[at(b.length, b.toString('latin1'))]! ^= mask;
  writeFileSync(path, b);
}

describe.concurrent('entry bytes flipped or truncated (sample; exhaustive in-process)', () => {
  const positions: Array<[string, (len: number, text: string) => number]> = [
    ['the opening brace', () => 0],
    ['the version digit', (_l, t) => t.indexOf('"v":1') + 4],
    ['the first nonce character', (_l, t) => t.indexOf('"nonce":"') + 9],
    ['the first ciphertext character', (_l, t) => t.indexOf('"ct":"') + 6],
    ['the last ciphertext character (tag)', (l) => l - 4],
    ['the final newline', (l) => l - 1],
  ];
  it.each(positions)('flip in %s → exit 6', async (_label, at) => {
    await expectIntegrity((d) => flip(join(d, 'github_token'), at));
  });

  it.each([0, 1, 100, -1])('truncated to length %i (negative: from the end) → exit 6', async (n) => {
    await expectIntegrity((d) => {
      const p = join(d, 'github_token');
      const b = readFileSync(p);
      writeFileSync(p, b.subarray(0, n < 0 ? b.length + n : n));
    });
  });
});

describe.concurrent('swapped files', () => {
  const swap = (a: string, b: string) => {
    renameSync(a, `${a}.swap`);
    renameSync(b, a);
    renameSync(`${a}.swap`, b);
  };
  it.each(['github', 'hass'])('github_token ↔ hass_token: load %s → exit 6', async (service) => {
    await expectIntegrity((d) => swap(join(d, 'github_token'), join(d, 'hass_token')), ['load', service]);
  });

  it('a backup copied over its own live entry → exit 6', async () => {
    await expectIntegrity((d) => copyFileSync(backupOf(d, 'github_token'), join(d, 'github_token')));
  });

  it('the live entry copied over its own backup → restore exits 6', async () => {
    await expectIntegrity((d) => copyFileSync(join(d, 'github_token'), backupOf(d, 'github_token')), ['restore', 'github', 'token']);
  });

  it("another credential's backup renamed to this credential's backup → restore exits 6", async () => {
    await expectIntegrity((d) => copyFileSync(backupOf(d, 'hass_token'), backupOf(d, 'github_token')), ['restore', 'github', 'token']);
  });
});

function backupOf(dir: string, entry: string): string {
  const name = readdirSync(join(dir, 'backups')).find((f) => f.startsWith(`${entry}.`));
  if (!name) throw new Error(`no backup of ${entry}`);
  return join(dir, 'backups', name);
}

type Doc = { v: unknown; backend: unknown; kdf: Record<string, unknown>; key: Record<string, unknown> };
const editConfig = (fn: (doc: Doc) => void) => (dir: string) => {
  const p = join(dir, 'vault.json');
  const doc = JSON.parse(readFileSync(p, 'utf8')) as Doc;
  fn(doc);
  writeFileSync(p, JSON.stringify(doc, null, 2) + '\n');
};
const b64 = (n: number) => Buffer.alloc(n, 7).toString('base64');

describe.concurrent('vault.json tampering', () => {
  it.each([
    ['opslimit 5 (above sensitive)', (d: Doc) => (d.kdf['opslimit'] = 5), /out-of-range KDF opslimit/],
    ['memlimit 64 GiB', (d: Doc) => (d.kdf['memlimit'] = 64 * 1024 ** 3), /out-of-range KDF memlimit/],
    ['memlimit as a string', (d: Doc) => (d.kdf['memlimit'] = '67108864'), /out-of-range KDF memlimit/],
  ])('%s is refused before any KDF runs (exit 6, fast)', async (_label, fn, message) => {
    const started = Date.now();
    const r = await expectIntegrity(editConfig(fn));
    expect(r.stderr).toMatch(message);
    // Argon2id at these settings would take many seconds or fail for lack of memory; the message
    // says it was refused first, the bound (generous, for a loaded machine) that nothing ran long.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  // In range, but not a preset any command writes: refused as a changed vault.json before the
  // passphrase is even asked for (no passphrase source is given: reaching the KDF would exit 4).
  it.each([
    ['opslimit 4 (sensitive) with a smaller memlimit', (d: Doc) => (d.kdf['opslimit'] = 4)],
    ['opslimit 1', (d: Doc) => (d.kdf['opslimit'] = 1)],
    ['memlimit doubled', (d: Doc) => (d.kdf['memlimit'] = Number(d.kdf['memlimit']) * 2)],
    ['memlimit 1 GiB with the vault\'s opslimit', (d: Doc) => (d.kdf['memlimit'] = 1024 ** 3)],
  ])('%s (in range, not a preset) → exit 6 "vault.json was changed", no passphrase asked', async (_label, fn) => {
    const home = cloneVault(base);
    editConfig(fn)(vaultDir(home));
    const before = snapshot(home);
    const r = await runCli(['load', 'github'], { home });
    expect(r.code, r.stderr).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/vault\.json was changed: .* not a preset/);
    expect(snapshot(home)).toEqual(before);
    const doc = await runCli(['doctor'], { home });
    expect(doc.code, doc.stderr + doc.stdout).not.toBe(0);
    expect(doc.stderr + doc.stdout).toMatch(/vault\.json was changed/);
  });

  it('a wrong passphrase on an untouched vault.json is still exit 4', async () => {
    const home = cloneVault(base);
    const r = await runCli(['load', 'github'], { home, env: { MCP_TOKENS_PASSPHRASE: 'not the passphrase' } });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/wrong passphrase/);
  });

  it.each([
    ['salt of 15 bytes', (d: Doc) => (d.kdf['salt'] = b64(15))],
    ['key nonce of 23 bytes', (d: Doc) => (d.key['nonce'] = b64(23))],
    ['wrapped key of 47 bytes', (d: Doc) => (d.key['ct'] = b64(47))],
    ['salt not canonical base64', (d: Doc) => (d.kdf['salt'] = `${String(d.kdf['salt']).replace(/=+$/, '')}`)],
    ['unknown KDF', (d: Doc) => (d.kdf['alg'] = 'argon2i13')],
    ['unknown version 2', (d: Doc) => (d.v = 2)],
  ])('%s → exit 6', async (_label, fn) => {
    await expectIntegrity(editConfig(fn));
  });

  it('vault.json that is not JSON → exit 6', async () => {
    await expectIntegrity((d) => writeFileSync(join(d, 'vault.json'), '{"v":1,'));
  });
});
