/**
 * The one contract every backend passes (STYLE.md §1/§2, DESIGN.md §4). A backend's test file
 * calls testBackend() and adds only the cases that are its own. The factory is called once per
 * test and must give an empty store; cleanup (optional) runs after each test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryName, type EntryName } from '../../src/names.js';
import type { Backend } from '../../src/backends/types.js';

export interface BackendFixture {
  backend: Backend;
  cleanup?: () => Promise<void>;
}

/** Values a careless backend would mangle: shell syntax, escapes, non-ASCII, and the size limit. */
export const HARD_VALUES: ReadonlyArray<[string, string]> = [
  ['single and double quotes', `it's a "quoted" 'value'`],
  ['command substitution', '$(touch x) and ${HOME} and $HOME'],
  ['backticks', '`touch x` `id`'],
  ['backslashes', 'C:\\path\\to\\\\share\\n\\0 \\\\'],
  ['unicode: accents, CJK, emoji', 'café – 日本語の鍵 – 🔑😀👩‍💻'],
  ['shell and JSON metacharacters', `;|&<>*?!#~ {"a":[1,2]} % %s %n`],
  ['leading and trailing spaces', '  padded  '],
  ['16 KiB', 'x'.repeat(16 * 1024 - 7) + 'ghp_end'],
];

const A = entryName('github', 'token');
const B = entryName('hass', 'url');

export function testBackend(name: string, factory: () => Promise<BackendFixture>): void {
  describe(`backend contract: ${name}`, () => {
    let fixture: BackendFixture;
    let b: Backend;

    beforeEach(async () => {
      fixture = await factory();
      b = fixture.backend;
    });
    afterEach(async () => {
      await fixture.cleanup?.();
    });

    it('resolves undefined for an absent entry and starts empty', async () => {
      expect(await b.get(A)).toBeUndefined();
      expect(await b.list()).toEqual([]);
    });

    it('round-trips a value', async () => {
      await b.set(A, 'ghp_first-value');
      expect(await b.get(A)).toBe('ghp_first-value');
      expect(await b.get(B)).toBeUndefined();
    });

    it('overwrites a value in place', async () => {
      await b.set(A, 'old');
      await b.set(A, 'new');
      expect(await b.get(A)).toBe('new');
      expect(await b.list()).toEqual([A]);
    });

    it('delete returns true, then false; the entry is gone', async () => {
      await b.set(A, 'v');
      await b.set(B, 'w');
      expect(await b.delete(A)).toBe(true);
      expect(await b.delete(A)).toBe(false);
      expect(await b.get(A)).toBeUndefined();
      expect(await b.get(B)).toBe('w');
    });

    it('list reflects set and delete', async () => {
      await b.set(A, '1');
      await b.set(B, '2');
      expect(sorted(await b.list())).toEqual(sorted([A, B]));
      await b.delete(A);
      expect(await b.list()).toEqual([B]);
      await b.delete(B);
      expect(await b.list()).toEqual([]);
    });

    it.each(HARD_VALUES)('keeps a hard value byte for byte: %s', async (_label, value) => {
      await b.set(A, value);
      const back = await b.get(A);
      expect(back).toBe(value);
      expect(Buffer.from(back ?? '', 'utf8').equals(Buffer.from(value, 'utf8'))).toBe(true);
    });

    it('keeps many entries apart', async () => {
      const names = Array.from({ length: 24 }, (_, i) => entryName(`svc-${i}`, i % 2 ? 'token' : 'url'));
      for (const [i, n] of names.entries()) await b.set(n, `value-${i}`);
      expect(sorted(await b.list())).toEqual(sorted(names));
      for (const [i, n] of names.entries()) expect(await b.get(n)).toBe(`value-${i}`);
    });

    it('accepts every shape of name entryName() builds', async () => {
      const long = 'a'.repeat(32);
      const names = [entryName('a', 'b'), entryName('x-1', 'y-2'), entryName(long, `z${'9'.repeat(31)}`), entryName('my-svc', 'api-key')];
      for (const n of names) await b.set(n, `for ${n}`);
      for (const n of names) expect(await b.get(n)).toBe(`for ${n}`);
      expect(sorted(await b.list())).toEqual(sorted(names));
    });
  });
}

function sorted(names: EntryName[]): EntryName[] {
  return [...names].sort();
}
