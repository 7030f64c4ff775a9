import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../src/errors.js';
import { fishQuote, formatExports, shQuote, type ExportFormat } from '../../src/launch/format.js';
import { requireShell } from '../helpers/shells.js';
import { hostileValues, runShell, SHELLS, tempDir, type TestShell } from './helpers.js';

const HOSTILE = hostileValues();
const VARS = Object.entries(HOSTILE) as Array<[string, string]>;

/** Evaluate `load` output the way users do, then write each variable's bytes to out/<NAME>. */
function evalScript(shell: TestShell, exportsFile: string): string {
  const dump = VARS.map(([n]) => `printf '%s' "$${n}" > out/${n}`).join('\n');
  if (shell === 'fish') return `cat ${exportsFile} | source\nmkdir out\n${dump}\n`;
  return `eval "$(cat ${exportsFile})"\nmkdir out\n${dump}\n`;
}

describe('formatExports: eval-safety in real shells', () => {
  it.for(SHELLS)('%s: every hostile value round-trips byte for byte and nothing runs', (shell, { skip }) => {
    requireShell(shell, skip);
    const dir = tempDir();
    const format: ExportFormat = shell === 'fish' ? 'fish' : 'sh';
    writeFileSync(join(dir, 'exports'), formatExports(VARS, format));
    const r = runShell(shell, evalScript(shell, 'exports'), dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const [name, value] of VARS) {
      expect(readFileSync(join(dir, 'out', name)).equals(Buffer.from(value, 'utf8')), name).toBe(true);
    }
    // Only what the test itself made: no pwned* file from any command substitution.
    expect(readdirSync(dir).sort()).toEqual(['exports', 'out']);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(VARS.map(([n]) => n).sort());
  });

  it('the sh output is also safe when a value sits next to an existing variable of the same name', ({ skip }) => {
    requireShell('dash', skip);
    const dir = tempDir();
    writeFileSync(join(dir, 'exports'), formatExports([['HOME', "x'; touch pwned; '"]], 'sh'));
    const r = runShell('dash', `eval "$(cat exports)"\nprintf '%s' "$HOME" > result\n`, dir);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'result'), 'utf8')).toBe("x'; touch pwned; '");
    expect(readdirSync(dir).sort()).toEqual(['exports', 'result']);
  });
});

describe('formatExports: shapes', () => {
  it('sh quotes with POSIX single quotes', () => {
    expect(formatExports([['A', "it's"]], 'sh')).toBe(`export A='it'\\''s'\n`);
    expect(shQuote('$(x)')).toBe(`'$(x)'`);
  });

  it('fish escapes backslash and quote inside single quotes', () => {
    expect(formatExports([['A', "a\\b'c"]], 'fish')).toBe(`set -gx A 'a\\\\b\\'c';\n`);
    expect(fishQuote('$x')).toBe(`'$x'`);
  });

  it('json is one object with every pair', () => {
    const text = formatExports(VARS, 'json');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().includes('\n')).toBe(false);
    expect(JSON.parse(text)).toEqual(HOSTILE);
    expect(JSON.parse(formatExports([['__proto__', 'v']], 'json'))).toEqual(JSON.parse('{"__proto__":"v"}'));
  });

  it('empty input prints nothing (sh, fish, dotenv) or {} (json)', () => {
    expect(formatExports([], 'sh')).toBe('');
    expect(formatExports([], 'fish')).toBe('');
    expect(formatExports([], 'json')).toBe('{}\n');
  });
});

describe('formatExports: dotenv, read back by Node’s own parser (util.parseEnv, as --env-file)', () => {
  const representable = VARS.filter(([, v]) => !(v.includes("'") && /["\\$`]/.test(v)));

  it('writes every value it accepts so that it parses back exactly', () => {
    expect(representable.length).toBeGreaterThan(8);
    const parsed = parseEnv(formatExports(representable, 'dotenv'));
    expect(parsed).toEqual(Object.fromEntries(representable));
  });

  it('uses double quotes for a value with a single quote and nothing double quotes would change', () => {
    const text = formatExports([['A', "it's #1"]], 'dotenv');
    expect(text).toBe(`A="it's #1"\n`);
    expect(parseEnv(text)).toEqual({ A: "it's #1" });
  });

  it.each(VARS.filter(([, v]) => v.includes("'") && /["\\$`]/.test(v)))(
    'refuses %s rather than write it ambiguously',
    (name, value) => {
      let caught: unknown;
      try {
        formatExports([[name, value]], 'dotenv');
      } catch (e) {
        caught = e;
      }
      expect(isVaultError(caught, 'INVALID_INPUT')).toBe(true);
      expect(String((caught as Error).message)).toContain(name);
      expect(String((caught as Error).message)).not.toContain(value);
    },
  );
});

describe('formatExports: defensive refusals', () => {
  it.each([
    ['control character', 'A', 'x\ny'],
    ['NUL', 'A', 'x\0y'],
    ['C1 control', 'A', 'x\u0085y'],
    ['bad name', 'A-B', 'v'],
    ['name with space', 'A B', 'v'],
    ['name starting with a digit', '1A', 'v'],
    ['injected name', 'A=1;touch x;B', 'v'],
  ])('%s', (_label, name, value) => {
    for (const format of ['sh', 'fish', 'dotenv', 'json'] as const) {
      expect(() => formatExports([[name, value]], format)).toThrow();
    }
  });

  it('refuses a name exported twice', () => {
    expect(() => formatExports([['A', '1'], ['A', '2']], 'sh')).toThrow(/twice/);
  });

  it('refuses an unknown format', () => {
    expect(() => formatExports([['A', '1']], 'xml' as ExportFormat)).toThrow(/Unknown format/);
  });

  it('never echoes a refused value', () => {
    try {
      formatExports([['A', 'secret-canary\nx']], 'sh');
      expect.unreachable();
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('secret-canary');
    }
  });
});
