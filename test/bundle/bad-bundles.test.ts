/**
 * Every kind of bad bundle, in-process against a real file vault and real age files: each is
 * refused with the right class of error (INTEGRITY → exit 6, INVALID_INPUT → exit 2), names no
 * value, and leaves the vault byte-for-byte as it was. test/cli/bundles.test.ts runs one of each
 * class through the built CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES, VaultError } from '../../src/errors.js';
import { seal } from '../../src/bundle/age.js';
import { exportBundle } from '../../src/bundle/export.js';
import { vaultIdentity } from '../../src/bundle/identity.js';
import { applyImport, openBundle } from '../../src/bundle/import.js';
import { MAX_BUNDLE, readBundleStream } from '../../src/bundle/input.js';
import { Vault } from '../../src/vault/vault.js';
import { Readable } from 'node:stream';
import { snapshot } from '../cli/support.js';
import { canary, githubClassic, jwt } from '../helpers/cli.js';

const pass = async () => new TextEncoder().encode('pw');
const secret = canary();
const gh = githubClassic();
let root: string;
let vault: Vault;
let other: Vault;
let recipient: string;
let identity: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mcpt-bad-bundles-'));
  vault = await Vault.create({ dir: join(root, 'v'), backend: 'file', kdf: 'interactive', passphrase: pass });
  other = await Vault.create({ dir: join(root, 'o'), backend: 'file', kdf: 'interactive', passphrase: pass });
  await vault.store('github', 'token', gh);
  await other.store('canary', 'token', secret);
  ({ recipient, identity } = await vaultIdentity(vault, { create: true }));
});
afterAll(() => {
  vault.close();
  other.close();
  rmSync(root, { recursive: true, force: true });
});

const enc = (s: string) => new TextEncoder().encode(s);
const sealDoc = async (doc: unknown) => seal([recipient], enc(typeof doc === 'string' ? doc : JSON.stringify(doc)), false);
const cred = (service: string, key: string, value: unknown) => ({ service, key, value });
const doc = (credentials: unknown, v: unknown = 1) => ({ format: 'mcp-tokens-bundle', v, createdAt: '2026-01-01T00:00:00Z', credentials });
const good = async (armor = false) => (await exportBundle(other, ['canary'], [recipient], { armor, now: new Date() })).file;
const flip = (f: Uint8Array, i: number) => {
  const c = Uint8Array.from(f);
  const at = i < 0 ? c.length + i : i;
  c[at] = c[at]! ^ 1;
  return c;
};

async function importAll(file: Uint8Array): Promise<void> {
  const { bundle } = await openBundle(file, [identity], recipient);
  await applyImport(vault, bundle, { overwrite: true });
}

describe('bad bundles', () => {
  it('a good one imports (the cases below differ from it in one way each)', async () => {
    const { bundle } = await openBundle(await good(), [identity], recipient);
    expect(bundle.credentials).toEqual([{ service: 'canary', key: 'token', value: secret }]);
  });

  it.each([
    ['sealed to another recipient', async () => (await exportBundle(other, ['canary'], [(await vaultIdentity(other, { create: true })).recipient], { armor: false, now: new Date() })).file, 'INTEGRITY', 'not sealed to this identity'],
    ['truncated inside the header', async () => (await good()).subarray(0, 60), 'INTEGRITY', 'truncated or tampered'],
    ['truncated inside the payload', async () => (await good()).subarray(0, 200), 'INTEGRITY', 'truncated or tampered'],
    ['missing its last byte', async () => { const f = await good(); return f.subarray(0, f.length - 1); }, 'INTEGRITY', 'truncated or tampered'],
    ['with a byte added', async () => { const f = await good(); return Uint8Array.from([...f, 0]); }, 'INTEGRITY', 'truncated or tampered'],
    ['a payload byte flipped', async () => flip(await good(), -5), 'INTEGRITY', 'truncated or tampered'],
    ['a header MAC byte flipped', async () => { const f = await good(); const i = Buffer.from(f).indexOf('--- ') + 6; return flip(f, i); }, 'INTEGRITY', 'truncated or tampered'],
    ['a stanza byte flipped', async () => flip(await good(), 40), 'INTEGRITY', 'bundle'],
    ['armor edited', async () => { const t = new TextDecoder().decode(await good(true)); const i = t.indexOf('\n') + 10; return enc(t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1)); }, 'INTEGRITY', 'bundle'],
    ['armor truncated', async () => { const t = new TextDecoder().decode(await good(true)); return enc(t.slice(0, t.length - 40)); }, 'INTEGRITY', 'armor'],
    ['not an age file', async () => enc(JSON.stringify(doc([cred('canary', 'token', secret)]))), 'INTEGRITY', 'not a valid age file'],
    ['empty', async () => new Uint8Array(0), 'INTEGRITY', 'not a valid age file'],
    ['an unknown version', async () => sealDoc(doc([cred('canary', 'token', secret)], 2)), 'INVALID_INPUT', 'unknown bundle version 2'],
    ['no version', async () => sealDoc({ format: 'mcp-tokens-bundle', credentials: [] }), 'INVALID_INPUT', 'unknown bundle version undefined'],
    ['another format', async () => sealDoc({ format: 'something-else', v: 1, credentials: [] }), 'INVALID_INPUT', 'not an mcp-tokens-bundle'],
    ['not JSON', async () => sealDoc(`not json ${secret}`), 'INVALID_INPUT', 'does not hold a JSON document'],
    ['not UTF-8', async () => seal([recipient], Uint8Array.from([0x7b, 0xff, 0x7d]), false), 'INVALID_INPUT', 'does not hold a JSON document'],
    ['a JSON array', async () => sealDoc([secret]), 'INVALID_INPUT', 'not hold a JSON object'],
    ['an invalid value after a valid one', async () => sealDoc(doc([cred('wikijs', 'token', jwt()), cred('github', 'token', `ghp_${secret}`)])), 'INVALID_INPUT', 'github token in the bundle: Invalid GitHub token format'],
    ['a newline in a value', async () => sealDoc(doc([cred('canary', 'token', `${secret}\n`)])), 'INVALID_INPUT', 'canary token in the bundle'],
    ['a value over 16 KiB', async () => sealDoc(doc([cred('canary', 'token', `${secret}${'x'.repeat(17000)}`)])), 'INVALID_INPUT', 'canary token in the bundle'],
    ['an unknown key of a built-in service', async () => sealDoc(doc([cred('github', 'password', secret)])), 'INVALID_INPUT', "Unknown key 'password'"],
    ['a bad service name', async () => sealDoc(doc([cred('../etc', 'token', secret)])), 'INVALID_INPUT', 'Invalid service name'],
    ['a bad key name', async () => sealDoc(doc([cred('canary', 'A_B', secret)])), 'INVALID_INPUT', 'Invalid key name'],
    ['the reserved service', async () => sealDoc(doc([cred('mcp-tokens', 'age-identity', 'AGE-SECRET-KEY-1QQQ')])), 'INVALID_INPUT', 'reserved service name'],
    ['a credential twice', async () => sealDoc(doc([cred('canary', 'token', secret), cred('canary', 'token', `${secret}x`)])), 'INVALID_INPUT', 'repeats'],
    ['no credentials', async () => sealDoc(doc([])), 'INVALID_INPUT', 'holds no credentials'],
    ['no credentials list', async () => sealDoc({ format: 'mcp-tokens-bundle', v: 1 }), 'INVALID_INPUT', 'has no credentials list'],
    ['a value that is not a string', async () => sealDoc(doc([cred('canary', 'token', 42)])), 'INVALID_INPUT', 'needs string service, key and value'],
  ] as const)('%s', async (_name, make, code, text) => {
    const file = await make();
    const before = snapshot(vault.dir);
    const err = await importAll(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VaultError);
    const e = err as VaultError;
    expect(e.code).toBe(code);
    expect([2, 6]).toContain(EXIT_CODES[e.code]);
    expect(e.message).toContain(text);
    expect(e.hint).toBeTruthy();
    for (const s of [secret, gh]) expect(`${e.message} ${e.hint}`).not.toContain(s);
    expect(snapshot(vault.dir)).toEqual(before);
  });

  it('a huge stream is refused at the cap, without reading the rest', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 65536;
        this.push(Buffer.alloc(65536, 0x61));
      },
    });
    const err = await readBundleStream(endless).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).code).toBe('INVALID_INPUT');
    expect(produced).toBeLessThan(MAX_BUNDLE + 4 * 65536);
  });
});
