/**
 * The committed golden vault on the binary: `load all` gives back every value, `backups` lists
 * its one backup and `restore --at` brings the old value back. A sample of spoiled copies (the
 * exhaustive sweep is in-process, test/vault/golden.test.ts) fails cleanly: exit 4 when a KDF
 * input or the wrapped key changed, exit 6 for a spoiled structure or entry, nothing on stdout,
 * nothing written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';
import { goldenCopy, snapshot, snapshotExceptLog } from './support.js';

beforeAll(() => ensureBuilt());

describe('golden vault on the binary', () => {
  it('load all --format json gives back every value; list says every entry is ok', async () => {
    const g = goldenCopy();
    const env = passphraseEnv(tempHome(), g.passphrase);
    const before = snapshotExceptLog(g.home);
    const r = await runCli(['load', 'all', '--format', 'json'], { home: g.home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(g.expected.values);
    const list = await runCli(['list', '--json'], { home: g.home, env });
    const rows = (JSON.parse(list.stdout) as { entries: Array<{ status: string }> }).entries;
    expect(rows.map((e) => e.status)).toEqual(Array(8).fill('ok'));
    expect(snapshotExceptLog(g.home)).toEqual(before);
  });

  it('backups lists the backup; restore --at brings its value back', async () => {
    const g = goldenCopy();
    const env = passphraseEnv(tempHome(), g.passphrase);
    const list = await runCli(['backups', '--json'], { home: g.home, env });
    const rows = JSON.parse(list.stdout) as Array<{ file: string; timestamp: string }>;
    expect(rows.map((b) => b.file)).toEqual([g.expected.backup.file]);
    const restored = await runCli(['restore', 'github', 'token', '--at', rows[0]!.timestamp], { home: g.home, env });
    expect(restored.code, restored.stderr).toBe(0);
    const r = await runCli(['load', 'github'], { home: g.home, env });
    expect(r.stdout).toBe(`export GITHUB_PERSONAL_ACCESS_TOKEN='${g.expected.backup.value}'\n`);
  });
});

type Edit = (text: Buffer) => Buffer;
const flipAt = (find: (t: string) => number): Edit => (b) => {
  const out = Buffer.from(b);
  out[find(b.toString('latin1'))]! ^= 0x01;
  return out;
};
/** Replace one base64 character by another (so the KDF does run, with a changed input). */
const otherB64 = (find: (t: string) => number): Edit => (b) => {
  const out = Buffer.from(b);
  const i = find(b.toString('latin1'));
  out[i] = out[i] === 0x41 ? 0x42 : 0x41; // 'A' ↔ 'B'
  return out;
};
const cut = (n: (len: number) => number): Edit => (b) => b.subarray(0, n(b.length));

const cases: Array<[string, string, Edit, number]> = [
  ['vault.json', 'the version digit', flipAt((t) => t.indexOf('"v": 1') + 5), 6],
  ['vault.json', 'the KDF name', flipAt((t) => t.indexOf('argon2id13') + 7), 6],
  ['vault.json', 'the opslimit', flipAt((t) => t.indexOf('"opslimit": ') + 12), 4],
  ['vault.json', 'the salt', otherB64((t) => t.indexOf('"salt": "') + 12), 4],
  ['vault.json', 'the wrapped key', otherB64((t) => t.lastIndexOf('"ct": "') + 12), 4],
  ['vault.json', 'the first byte', flipAt(() => 0), 6],
  ['vault.json', 'truncated to half', cut((l) => Math.floor(l / 2)), 6],
  ['github_token', 'the nonce', flipAt((t) => t.indexOf('"nonce":"') + 10), 6],
  ['github_token', 'truncated by one byte', cut((l) => l - 1), 6],
  ['wikijs_url', 'truncated to half', cut((l) => Math.floor(l / 2)), 6],
];

describe.concurrent('spoiled golden copies fail cleanly', () => {
  it.each(cases)('%s, %s → exit %i, nothing on stdout, nothing written', async (file, _label, edit, code) => {
    const g = goldenCopy();
    const path = join(g.dir, file);
    writeFileSync(path, edit(readFileSync(path)));
    const before = snapshot(g.home);
    const service = file === 'vault.json' ? 'all' : file.split('_')[0]!;
    const r = await runCli(['load', service], { home: g.home, env: passphraseEnv(tempHome(), g.passphrase) });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(code === 4 ? /wrong passphrase/ : /integrity check failed|format version|not an encrypted/);
    for (const v of Object.values(g.expected.values).filter((v) => v.length > 20)) expect(r.stderr).not.toContain(v);
    expect(snapshot(g.home)).toEqual(before);
  });
});
