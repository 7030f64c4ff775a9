/**
 * Exhaustive tampering, in-process (the CLI suite samples the same cases on the binary): every
 * byte of an entry and of a backup flipped (two patterns per byte), every truncation and an
 * appended byte each fail with INTEGRITY (exit 6) — never a value, never another error — and
 * reading them writes nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVaultError } from '../../src/errors.js';
import { readBackup } from '../../src/vault/backups.js';
import type { Vault } from '../../src/vault/vault.js';
import { githubClassic, jwt, tempHome } from '../helpers/cli.js';
import { openVault, seedVault, snapshot } from '../cli/support.js';

const old = githubClassic();
const token = githubClassic();
let dir: string;
let vault: Vault;
beforeAll(async () => {
  const home = tempHome();
  dir = await seedVault(home, [
    ['github', 'token', old],
    ['github', 'token', token],
    ['hass', 'token', jwt()],
  ]);
  vault = await openVault(dir);
});
afterAll(() => vault?.close());

/** Every variant of `original`: each byte XOR 0x01 and XOR 0x80, each truncation, one appended byte. */
function variants(original: Buffer): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (let i = 0; i < original.length; i++) {
    for (const mask of [0x01, 0x80]) {
      const b = Buffer.from(original);
      b[i]! ^= mask;
      out.push([`byte ${i} ^ 0x${mask.toString(16)}`, b]);
    }
  }
  for (let n = 0; n < original.length; n++) out.push([`truncated to ${n}`, original.subarray(0, n)]);
  out.push(['one byte appended', Buffer.concat([original, Buffer.from('x')])]);
  out.push(['newline doubled', Buffer.concat([original, Buffer.from('\n')])]);
  return out;
}

async function outcome(read: () => Promise<unknown>): Promise<string> {
  try {
    await read();
    return 'opened';
  } catch (e) {
    return isVaultError(e) ? e.code : `unexpected ${(e as Error).name}`;
  }
}

describe('every flip and truncation of a sealed file fails the integrity check', () => {
  it('entry github_token: all variants → INTEGRITY, and the untouched entry still opens', async () => {
    const path = join(dir, 'github_token');
    const original = readFileSync(path);
    const before = snapshot(dir);
    const failures: string[] = [];
    const cases = variants(original);
    for (const [label, bytes] of cases) {
      writeFileSync(path, bytes);
      const got = await outcome(() => vault.get('github', 'token'));
      if (got !== 'INTEGRITY') failures.push(`${label}: ${got}`);
    }
    writeFileSync(path, original);
    expect(failures).toEqual([]);
    expect(cases.length).toBeGreaterThan(3 * original.length);
    expect(await vault.get('github', 'token')).toBe(token);
    // Reading never wrote: same names, same bytes (the entry was restored above).
    const after = snapshot(dir);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const k of Object.keys(before)) if (k !== 'github_token') expect(after[k], k).toEqual(before[k]);
  });

  it('backup of github_token: all variants → INTEGRITY', async () => {
    const [b] = vault.backups('github', 'token');
    expect(b).toBeDefined();
    const original = readFileSync(b!.path);
    const key = await vault.key();
    const failures: string[] = [];
    for (const [label, bytes] of variants(original)) {
      writeFileSync(b!.path, bytes);
      const got = await outcome(() => readBackup([key], b!));
      if (got !== 'INTEGRITY') failures.push(`${label}: ${got}`);
    }
    writeFileSync(b!.path, original);
    expect(failures).toEqual([]);
    expect(await readBackup([key], b!)).toBe(old);
  });

  it('list() reports a damaged entry as damaged without its value, and keeps the others', async () => {
    const path = join(dir, 'hass_token');
    const original = readFileSync(path);
    const b = Buffer.from(original);
    b[b.length - 5]! ^= 0x01;
    writeFileSync(path, b);
    try {
      const rows = await vault.list();
      expect(rows.find((r) => r.service === 'hass')).toMatchObject({ status: 'damaged', shown: '' });
      expect(rows.find((r) => r.service === 'github')).toMatchObject({ status: 'ok' });
    } finally {
      writeFileSync(path, original);
    }
  });
});
