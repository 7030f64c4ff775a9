/**
 * The committed golden vault (test/fixtures/golden, scripts/make-golden.mjs) must open with the
 * current code and give back every value, including its backup. Then, exhaustively and
 * in-process: every byte of vault.json flipped and every truncation fails cleanly — INTEGRITY
 * without ever asking for the passphrase (so no KDF ran) when the structure is spoiled,
 * BAD_PASSPHRASE when a KDF parameter, salt, nonce or wrapped key was changed — and every byte of
 * every entry and of the backup flipped or truncated fails with INTEGRITY. Nothing is written.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../src/errors.js';
import { readBackup } from '../../src/vault/backups.js';
import { Vault } from '../../src/vault/vault.js';
import { goldenCopy, snapshot } from '../cli/support.js';

const g = goldenCopy();
const ENV_TO_ENTRY: Record<string, [string, string]> = {
  GITHUB_PERSONAL_ACCESS_TOKEN: ['github', 'token'],
  HA_TOKEN: ['hass', 'token'],
  HA_URL: ['hass', 'url'],
  PROXMOX_TOKEN: ['proxmox', 'token'],
  PROXMOX_HOST: ['proxmox', 'host'],
  PROXMOX_USER: ['proxmox', 'user'],
  WIKIJS_TOKEN: ['wikijs', 'token'],
  WIKIJS_URL: ['wikijs', 'url'],
};

function open(): Promise<Vault> {
  return openWith(async () => new TextEncoder().encode(g.passphrase));
}

function openWith(passphrase: () => Promise<Uint8Array>): Promise<Vault> {
  return Vault.open({ dir: g.dir, passphrase });
}

/** 'opened' / a VaultError code / the message of any other error (e.g. 'asked'). */
async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    const r = await fn();
    if (typeof r === 'string') return r;
    (r as Vault | undefined)?.close?.();
    return 'opened';
  } catch (e) {
    return isVaultError(e) ? e.code : (e as Error).message;
  }
}

function variants(original: Buffer, masks: readonly number[]): Array<{ label: string; at: number; bytes: Buffer }> {
  const out: Array<{ label: string; at: number; bytes: Buffer }> = [];
  for (let i = 0; i < original.length; i++) {
    for (const mask of masks) {
      const bytes = Buffer.from(original);
      bytes[i]! ^= mask;
      out.push({ label: `byte ${i} ^ 0x${mask.toString(16)}`, at: i, bytes });
    }
  }
  for (let n = 0; n < original.length; n++) out.push({ label: `truncated to ${n}`, at: n, bytes: original.subarray(0, n) });
  return out;
}

/** The snapshot with the mtimes of the files this test rewrote itself taken from `before`. */
function sameBut(after: ReturnType<typeof snapshot>, before: ReturnType<typeof snapshot>, rewritten: readonly string[]) {
  for (const k of rewritten) if (after[k] && before[k]) after[k] = { ...after[k], mtimeMs: before[k].mtimeMs };
  return after;
}

/** [start, end) of the text of a JSON member's value, found by its key (first occurrence after `from`). */
function span(text: string, key: string, from = 0): [number, number] {
  const k = text.indexOf(`"${key}"`, from);
  const start = text.indexOf(':', k) + 1;
  const end = text.slice(start).search(/[,\n}]/) + start;
  return [start, end];
}

describe('golden vault', () => {
  it('opens with the current code: every value and the backup match', async () => {
    const vault = await open();
    try {
      for (const [env, [service, key]] of Object.entries(ENV_TO_ENTRY)) expect(await vault.get(service, key), env).toBe(g.expected.values[env]);
      const backups = vault.backups('github', 'token');
      expect(backups.map((b) => b.file)).toEqual([g.expected.backup.file]);
      expect(await readBackup(await vault.keys(), backups[0]!)).toBe(g.expected.backup.value);
    } finally {
      vault.close();
    }
  });

  it('every flip and truncation of vault.json fails cleanly with the right class of error', async () => {
    const path = join(g.dir, 'vault.json');
    const original = readFileSync(path);
    const text = original.toString('latin1');
    const before = snapshot(g.dir);
    // Values bound into the key's AD or the KDF: a change there is indistinguishable from a wrong passphrase.
    const keyAt = text.indexOf('"key"');
    const secretSpans = [span(text, 'salt'), span(text, 'opslimit'), span(text, 'memlimit'), span(text, 'nonce', keyAt), span(text, 'ct', keyAt)];
    // createdAt is informational and not authenticated: changing it (or dropping the final newline) may still open.
    const created = [text.indexOf('"createdAt"'), span(text, 'createdAt')[1]];
    const inside = (at: number, [s, e]: readonly number[]) => at >= s! && at < e!;
    const problems: string[] = [];
    const reachedKdf: Array<(typeof all)[number]> = [];
    const all = variants(original, [0x01, 0x80]);
    try {
      // Pass 1, every variant: the passphrase provider throws instead of answering, so no KDF runs.
      // A variant either fails INTEGRITY before asking, or asks — allowed only where the change
      // is in a KDF input / the wrapped key / createdAt, or is the dropped final newline.
      for (const v of all) {
        writeFileSync(path, v.bytes);
        const got = await outcome(() => openWith(() => Promise.reject(new Error('asked'))));
        const isTruncation = v.label.startsWith('truncated');
        const mayAsk = isTruncation ? v.at === original.length - 1 : inside(v.at, created) || secretSpans.some((s) => inside(v.at, s));
        if (got === 'asked' && mayAsk) reachedKdf.push(v);
        else if (got !== 'INTEGRITY') problems.push(`${v.label}: ${got}`);
      }
      expect(reachedKdf.length).toBeGreaterThan(40);
      // Pass 2, a spread sample of those (each costs an Argon2id run): the wrong passphrase error
      // for a changed KDF input or wrapped key; the golden values for createdAt / the final newline.
      const sample = reachedKdf.filter((_, i) => i % Math.ceil(reachedKdf.length / 6) === 0);
      for (const v of sample) {
        writeFileSync(path, v.bytes);
        const got = await outcome(async () => {
          const vault = await open();
          try {
            return (await vault.get('github', 'token')) === g.expected.values['GITHUB_PERSONAL_ACCESS_TOKEN'] ? 'opened' : 'opened with a wrong value';
          } finally {
            vault.close();
          }
        });
        const mayOpen = v.label.startsWith('truncated') || inside(v.at, created);
        if (got !== (mayOpen ? 'opened' : 'BAD_PASSPHRASE')) problems.push(`${v.label}: ${got} (with the passphrase)`);
      }
    } finally {
      writeFileSync(path, original);
    }
    expect(problems).toEqual([]);
    expect(sameBut(snapshot(g.dir), before, ['vault.json'])).toEqual(before);
  });

  it('every flip and truncation of every entry and of the backup fails with INTEGRITY', async () => {
    const vault = await open();
    const key = await vault.key();
    const before = snapshot(g.dir);
    const [backup] = vault.backups('github', 'token');
    const problems: string[] = [];
    try {
      const targets: Array<[string, () => Promise<unknown>]> = Object.values(ENV_TO_ENTRY).map(([s, k]) => [`${s}_${k}`, () => vault.get(s, k)]);
      targets.push([`backups/${backup!.file}`, () => readBackup([key], backup!)]);
      for (const [file, read] of targets) {
        const path = join(g.dir, file);
        const original = readFileSync(path);
        try {
          for (const v of variants(original, [0x01])) {
            writeFileSync(path, v.bytes);
            const got = await outcome(async () => {
              await read();
              return 'opened';
            });
            if (got !== 'INTEGRITY') problems.push(`${file} ${v.label}: ${got}`);
          }
        } finally {
          writeFileSync(path, original);
        }
      }
    } finally {
      vault.close();
    }
    expect(problems).toEqual([]);
    expect(readdirSync(g.dir).sort()).toEqual(Object.keys(before).filter((k) => !k.includes('/')).sort());
    expect(sameBut(snapshot(g.dir), before, [...Object.values(ENV_TO_ENTRY).map(([s, k]) => `${s}_${k}`), `backups/${backup!.file}`])).toEqual(before);
  });
});
