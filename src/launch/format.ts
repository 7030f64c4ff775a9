/**
 * `mcp-tokens load` output. Every value is quoted so that no character of it is ever interpreted:
 * a credential is data, and `eval "$(mcp-tokens load)"` must not become code execution because
 * a stored value holds `$(…)`, a backtick or a quote.
 *
 *   sh      export NAME='value'       POSIX single quotes: nothing inside is special, so the
 *                                     only character to handle is ' itself, written '\'' (close,
 *                                     escaped quote, reopen). Safe in bash, zsh, dash, ksh.
 *   fish    set -gx NAME 'value';     fish single quotes are NOT POSIX: inside them \' and \\ are
 *                                     escapes, so both \ and ' are backslash-escaped.
 *   dotenv  NAME='value'              single quotes are literal in the `dotenv` npm parser and in
 *                                     Docker Compose env files. A value holding ' is written in
 *                                     double quotes only when it holds none of " \ $ ` (which
 *                                     parsers treat differently); anything else is refused with a
 *                                     pointer to --format json rather than emitted ambiguously.
 *   json    {"NAME":"value"}         one object, one line.
 * Names are checked against a portable pattern and values for control characters (which the
 * vault refuses on store) before anything is produced: nothing is emitted for bad input.
 */
import { VaultError } from '../errors.js';
import { assertEnvPair } from './env.js';

export type ExportFormat = 'sh' | 'fish' | 'dotenv' | 'json';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['sh', 'fish', 'dotenv', 'json'];

/** POSIX single-quoting: the result is one literal word in any Bourne-family shell. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** fish single-quoting: backslash and quote are the two escapes fish knows inside '…'. */
export function fishQuote(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function dotenvQuote(name: string, value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!/["\\$`]/.test(value)) return `"${value}"`;
  throw new VaultError('INVALID_INPUT', `The value for ${name} cannot be written unambiguously in dotenv format`, {
    hint: 'it holds both a single quote and one of " \\ $ `; use --format json or --format sh instead',
  });
}

/** Render `vars` (already in the order to print) in `format`; the result ends with a newline. */
export function formatExports(vars: ReadonlyArray<readonly [string, string]>, format: ExportFormat): string {
  const seen = new Set<string>();
  for (const [name, value] of vars) {
    assertEnvPair(name, value);
    if (seen.has(name)) throw new VaultError('INVALID_INPUT', `${name} would be exported twice`);
    seen.add(name);
  }
  switch (format) {
    case 'sh':
      return lines(vars.map(([n, v]) => `export ${n}=${shQuote(v)}`));
    case 'fish':
      return lines(vars.map(([n, v]) => `set -gx ${n} ${fishQuote(v)};`));
    case 'dotenv':
      return lines(vars.map(([n, v]) => `${n}=${dotenvQuote(n, v)}`));
    case 'json': {
      // A null prototype: `__proto__` is a legal variable name and must stay an ordinary key.
      const obj = Object.create(null) as Record<string, string>;
      for (const [n, v] of vars) obj[n] = v;
      return `${JSON.stringify(obj)}\n`;
    }
    default:
      throw new VaultError('USAGE', `Unknown format ${JSON.stringify(format satisfies never)}`, {
        hint: `formats: ${EXPORT_FORMATS.join(', ')}`,
      });
  }
}

/** Empty input prints nothing at all, so `eval ""` is a harmless no-op. */
function lines(rows: string[]): string {
  return rows.length === 0 ? '' : `${rows.join('\n')}\n`;
}
