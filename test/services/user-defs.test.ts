/**
 * The hand-written check of services.json (services/user-defs.ts) that keeps zod off the hot path
 * against the schema itself (services/user.ts): it may only ever say "valid" where the schema does,
 * with the very same result, and a file it is not sure of is worded by the schema.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shapeUserServices } from '../../src/services/user-defs.js';
import { loadUserServicesQuick } from '../../src/services/user-load.js';
import { fileSchema, loadUserServices } from '../../src/services/user.js';

const field = { key: 'token', env: 'ACME_TOKEN', secret: true, required: true, pattern: '^a+$', message: 'Invalid Acme token', description: 'the token' };
const check = { method: 'POST', url: 'https://api.acme.example/v1/me', headers: { Authorization: 'Bearer {token}' }, accepted: [200, 204], rejected: [401] };
const full = { version: 1, services: [{ name: 'acme', title: 'Acme', fields: [field, { key: 'url', secret: false }], check }, { name: 'b-2', fields: [{ key: 'k' }] }] };

/** The invariant: the hand check accepts only what the schema accepts, and returns what it returns. */
function agrees(raw: unknown): void {
  const mine = shapeUserServices(raw);
  const theirs = fileSchema.safeParse(raw);
  if (mine === undefined) return; // not sure: the schema decides
  expect(theirs.success, `hand check accepted what the schema refuses: ${JSON.stringify(raw)}`).toBe(true);
  // Same values and the same key order (a later JSON.stringify of either reads alike).
  expect(JSON.stringify(mine)).toBe(JSON.stringify(theirs.data));
  expect(mine).toEqual(theirs.data);
}

describe('shapeUserServices (services.json without zod)', () => {
  const accepted: Array<[string, unknown]> = [
    ['every field and a check', full],
    ['defaults only', { services: [{ name: 'a', fields: [{ key: 'k' }] }] }],
    ['no services', { services: [] }],
    ['a check with defaults', { services: [{ name: 'a', fields: [{ key: 'k' }], check: { url: 'https://a.example/', accepted: [200] } }] }],
    ['limits exactly', { services: [{ name: 'a'.repeat(32), title: 't'.repeat(80), fields: Array.from({ length: 32 }, (_, i) => ({ key: `k${i}`, pattern: 'p'.repeat(1000), message: 'm'.repeat(200), description: 'd'.repeat(200) })), check: { url: `https://a.example/${'u'.repeat(1981)}`, headers: { ['H'.repeat(64)]: 'v'.repeat(4000) }, accepted: [100, 599], rejected: [] } }] }],
  ];
  it.each(accepted)('accepts %s, as the schema does, with the same result', (_name, raw) => {
    expect(shapeUserServices(raw)).toBeDefined();
    agrees(raw);
  });

  const refused: Array<[string, unknown]> = [
    ['not an object', []],
    ['null', null],
    ['version 2', { version: 2, services: [] }],
    ['an unknown key at the top', { services: [], extra: 1 }],
    ['an unknown key in a service', { services: [{ name: 'a', fields: [{ key: 'k' }], colour: 'red' }] }],
    ['an unknown key in a field', { services: [{ name: 'a', fields: [{ key: 'k', envv: 'X' }] }] }],
    ['an unknown key in a check', { services: [{ name: 'a', fields: [{ key: 'k' }], check: { url: 'https://a.example', accepted: [200], follow: true } }] }],
    ['a bad service name', { services: [{ name: 'Acme', fields: [{ key: 'k' }] }] }],
    ['a name of 33 characters', { services: [{ name: 'a'.repeat(33), fields: [{ key: 'k' }] }] }],
    ['no fields', { services: [{ name: 'a', fields: [] }] }],
    ['33 fields', { services: [{ name: 'a', fields: Array.from({ length: 33 }, (_, i) => ({ key: `k${i}` })) }] }],
    ['an empty title', { services: [{ name: 'a', title: '', fields: [{ key: 'k' }] }] }],
    ['a title of 81', { services: [{ name: 'a', title: 't'.repeat(81), fields: [{ key: 'k' }] }] }],
    ['secret as a string', { services: [{ name: 'a', fields: [{ key: 'k', secret: 'yes' }] }] }],
    ['env as a number', { services: [{ name: 'a', fields: [{ key: 'k', env: 1 }] }] }],
    ['a pattern of 1001', { services: [{ name: 'a', fields: [{ key: 'k', pattern: 'p'.repeat(1001) }] }] }],
    ['a method PUT', { services: [{ name: 'a', fields: [{ key: 'k' }], check: { method: 'PUT', url: 'https://a.example', accepted: [200] } }] }],
    ['no accepted status', { services: [{ name: 'a', fields: [{ key: 'k' }], check: { url: 'https://a.example', accepted: [] } }] }],
    ['status 600', { services: [{ name: 'a', fields: [{ key: 'k' }], check: { url: 'https://a.example', accepted: [600] } }] }],
    ['status 200.5', { services: [{ name: 'a', fields: [{ key: 'k' }], check: { url: 'https://a.example', accepted: [200.5] } }] }],
    ['a header name with _', { services: [{ name: 'a', fields: [{ key: 'k' }], check: { url: 'https://a.example', accepted: [200], headers: { X_Y: 'v' } } }] }],
    ['a header of 4001', { services: [{ name: 'a', fields: [{ key: 'k' }], check: { url: 'https://a.example', accepted: [200], headers: { X: 'v'.repeat(4001) } } }] }],
    ['headers as an array', { services: [{ name: 'a', fields: [{ key: 'k' }], check: { url: 'https://a.example', accepted: [200], headers: [] } }] }],
    ['a __proto__ key', JSON.parse('{"services":[],"__proto__":{"x":1}}')],
  ];
  it.each(refused)('is not sure of %s, which the schema refuses', (_name, raw) => {
    expect(fileSchema.safeParse(raw).success).toBe(false);
    expect(shapeUserServices(raw)).toBeUndefined();
  });

  it('agrees with the schema on 3,000 random mutations of valid files', () => {
    let seed = 0x2f6e2b1;
    const rand = (n: number) => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed % n;
    };
    const values: unknown[] = [undefined, null, true, false, 0, 1, 99, 100, 200, 599, 600, 2.5, -1, '', 'a', 'A', 'GET', 'POST', 'x'.repeat(81), 'k-1', [], [200], [{}], {}, { key: 'k' }];
    const mutate = (v: unknown, depth: number): unknown => {
      if (depth > 0 && Array.isArray(v) && v.length > 0 && rand(3) > 0) {
        const copy = [...v];
        const i = rand(copy.length);
        copy[i] = mutate(copy[i], depth - 1);
        return copy;
      }
      if (depth > 0 && typeof v === 'object' && v !== null && !Array.isArray(v) && rand(4) > 0) {
        const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) };
        const keys = Object.keys(copy);
        const k = keys[rand(keys.length)];
        if (k !== undefined && rand(3) > 0) copy[k] = mutate(copy[k], depth - 1);
        else if (k !== undefined && rand(2) === 0) delete copy[k];
        else copy[['extra', 'title', 'env', 'secret', 'method', 'headers', 'rejected'][rand(7)]!] = values[rand(values.length)];
        return copy;
      }
      return values[rand(values.length)];
    };
    let sureOfValid = 0;
    for (let i = 0; i < 3000; i++) {
      const raw = JSON.parse(JSON.stringify(mutate(full, 6) ?? null)) as unknown;
      agrees(raw);
      if (shapeUserServices(raw)) sureOfValid++;
    }
    expect(sureOfValid).toBeGreaterThan(100); // the mutations do reach valid files, not only broken ones
  });
});

describe('loadUserServicesQuick (what every command registers)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-tokens-user-defs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const put = (text: string) => writeFileSync(join(dir, 'services.json'), text, { mode: 0o600 });
  const outcome = async (f: () => Promise<unknown> | unknown) => {
    try {
      return { ok: JSON.stringify(await f(), (_k, v: unknown) => (typeof v === 'function' ? 'fn' : v)) };
    } catch (e) {
      return { error: (e as Error).message, hint: (e as { hint?: string }).hint, code: (e as { code?: string }).code };
    }
  };

  it.each([
    ['a valid file', JSON.stringify(full)],
    ['broken JSON', '{"services": ['],
    ['a schema error', '{"services":[{"name":"a","fields":[{"key":"k","required":"no"}]}]}'],
    ['an unknown key', '{"services":[],"v":1}'],
    ['a refused variable name', '{"services":[{"name":"a","fields":[{"key":"k","env":"LD_PRELOAD"}]}]}'],
    ['a built-in name', '{"services":[{"name":"github","fields":[{"key":"k"}]}]}'],
    ['a secret in the check URL', '{"services":[{"name":"a","fields":[{"key":"k"}],"check":{"url":"https://a.example/{k}","accepted":[200]}}]}'],
    ['an unsafe pattern', '{"services":[{"name":"a","fields":[{"key":"k","pattern":"(a+)+$"}]}]}'],
  ])('%s: the same specs or the same error as the schema path', async (_name, text) => {
    put(text);
    const quick = await outcome(() => loadUserServicesQuick(dir));
    expect(quick).toEqual(await outcome(() => loadUserServices(dir)));
    expect(quick).toEqual(await outcome(() => loadUserServicesQuick(dir, { full: true })));
  });
});
