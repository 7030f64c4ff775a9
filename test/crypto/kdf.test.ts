/**
 * deriveKey runs Argon2id in a worker thread that ends: same key as libsodium in this thread,
 * errors surface as errors, and — the point of the worker — the KDF's memory leaves with it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkKdfParams, deriveKey, KDF_PRESETS } from '../../src/crypto/kdf.js';
import { libsodium } from '../../src/crypto/sodium.js';
import { ensureBuilt, REPO } from '../helpers/cli.js';

// The real KDF path (the worker thread), not the suite's cheap one (vitest.config.ts sets the switch).
delete process.env['MCP_TOKENS_INSECURE_TEST_KDF'];

const te = new TextEncoder();
const SMALL = { opslimit: 1, memlimit: 1024 * 1024 };

describe('deriveKey (worker thread)', () => {
  it('gives the key libsodium gives in-thread, for several passphrases and salts', async () => {
    const s = await libsodium();
    for (const [pass, saltByte] of [['correct horse', 1], ['', 2], ['pässwörd ✓', 3]] as const) {
      const salt = new Uint8Array(16).fill(saltByte);
      const ours = await deriveKey(te.encode(pass), salt, SMALL);
      const theirs = s.crypto_pwhash(32, te.encode(pass), salt, SMALL.opslimit, SMALL.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
      expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(theirs).toString('hex'));
    }
  });

  it('leaves the caller’s passphrase and salt untouched (the worker gets copies)', async () => {
    const pass = te.encode('keep me');
    const salt = new Uint8Array(16).fill(9);
    const key = await deriveKey(pass, salt, SMALL);
    expect(key).toHaveLength(32);
    expect(new TextDecoder().decode(pass)).toBe('keep me');
    expect(salt.every((b) => b === 9)).toBe(true);
  });

  it('differs when any input differs', async () => {
    const salt = new Uint8Array(16);
    const base = Buffer.from(await deriveKey(te.encode('a'), salt, SMALL)).toString('hex');
    expect(Buffer.from(await deriveKey(te.encode('b'), salt, SMALL)).toString('hex')).not.toBe(base);
    expect(Buffer.from(await deriveKey(te.encode('a'), new Uint8Array(16).fill(1), SMALL)).toString('hex')).not.toBe(base);
    expect(Buffer.from(await deriveKey(te.encode('a'), salt, { ...SMALL, opslimit: 2 })).toString('hex')).not.toBe(base);
  });

  it('refuses a bad salt and out-of-range parameters before starting a worker', async () => {
    await expect(deriveKey(te.encode('a'), new Uint8Array(15), SMALL)).rejects.toThrow(/salt/);
    await expect(deriveKey(te.encode('a'), new Uint8Array(16), { opslimit: 5, memlimit: SMALL.memlimit })).rejects.toThrow(/opslimit/);
    expect(() => checkKdfParams({ opslimit: 1, memlimit: 2 * KDF_PRESETS.sensitive.memlimit })).toThrow(/memlimit/);
  });
});

describe('the KDF memory is released', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-tokens-kdf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A separate process, so this test measures only its own RSS (the test runner's is large).
  // 256 MiB of Argon2id: in-thread it would stay in the process; after the worker it must not.
  it('a process that derived a key at 256 MiB holds far less than that afterwards', () => {
    const script = join(dir, 'probe.mjs');
    const kdf = pathToFileURL(join(REPO, 'dist/crypto/kdf.js')).href;
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { deriveKey } from ${JSON.stringify(kdf)};
const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
const key = await deriveKey(new Uint8Array([1, 2, 3]), new Uint8Array(16), { opslimit: 1, memlimit: 256 * 1024 * 1024 });
const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
await new Promise((r) => setTimeout(r, 500)); // the worker's teardown is asynchronous
console.log(JSON.stringify({ after: rss(), hwm, keyLength: key.length }));
`,
    );
    ensureBuilt();
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const { after, hwm, keyLength } = JSON.parse(r.stdout) as { after: number; hwm: number; keyLength: number };
    expect(keyLength).toBe(32);
    expect(hwm).toBeGreaterThan(256); // the KDF did use its memory…
    expect(after).toBeLessThan(120); // …and the process does not keep it
  });
});
