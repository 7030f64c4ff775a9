/**
 * Reading `NAME=value` lines of .env files and shell rc files. Only literal values count: a line
 * that computes its value (`$(mcp-tokens load …)`, `$OTHER`) holds no plaintext credential.
 */

export type Dialect = 'sh' | 'fish' | 'dotenv';

export interface Assignment {
  name: string;
  value: string;
  /**
   * True when the line holds this one assignment and nothing else (a comment aside), so removing
   * the line removes exactly it. `export A=x B=y` or `A=x; cmd` are reported, never edited.
   */
  wholeLine: boolean;
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const SH_RE = new RegExp(`^\\s*(?:export\\s+)?(${NAME})=(.*)$`);
const DOTENV_RE = new RegExp(`^\\s*(?:export\\s+)?(${NAME})\\s*=\\s*(.*)$`);
const FISH_RE = new RegExp(`^\\s*set\\s+((?:-[A-Za-z]+\\s+|--[a-z]+\\s+)*)(${NAME})\\s+(.*)$`);

export function parseAssignment(line: string, dialect: Dialect): Assignment | undefined {
  if (dialect === 'fish') {
    const m = FISH_RE.exec(line);
    if (m && /-[A-Za-z]*x|--export/.test(m[1]!)) return literal(m[2]!, m[3]!, 'fish');
    // fish 3.1+ also accepts `export NAME=value`
    const e = /^\s*export\s/.test(line) ? SH_RE.exec(line) : null;
    return e ? literal(e[1]!, e[2]!, 'fish') : undefined;
  }
  const m = (dialect === 'sh' ? SH_RE : DOTENV_RE).exec(line);
  return m ? literal(m[1]!, m[2]!, dialect) : undefined;
}

/** Parse the literal value at the start of `rest`; undefined when it is computed or unterminated. */
function literal(name: string, rest: string, dialect: Dialect): Assignment | undefined {
  if (dialect === 'dotenv') return dotenvValue(name, rest);
  let value = '';
  let i = 0;
  // A shell word can join quoted and bare parts: 'ab'"cd"ef. Read until unquoted whitespace.
  while (i < rest.length && !/[\s;&|]/.test(rest[i]!)) {
    const ch = rest[i]!;
    if (ch === "'") {
      const end = rest.indexOf("'", i + 1);
      if (end < 0) return undefined;
      value += rest.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      const end = closing(rest, i, ch);
      if (end < 0) return undefined;
      const body = rest.slice(i + 1, end);
      if (/(^|[^\\])(\$|`)/.test(body)) return undefined; // expansion inside double quotes
      value += body.replace(/\\([\\"$`])/g, '$1');
      i = end + 1;
    } else if (ch === '$' || ch === '`' || ch === '(') {
      return undefined; // `$VAR`, `$(cmd)`, backticks, `(cmd)` in fish: computed, not a literal
    } else if (ch === '\\') {
      value += rest[i + 1] ?? '';
      i += 2;
    } else {
      value += ch;
      i++;
    }
  }
  return { name, value, wholeLine: isCommentOrEmpty(rest.slice(i)) };
}

/** dotenv: a quoted value, or a bare one up to ` #` (a comment) or the end of the line. */
function dotenvValue(name: string, rest: string): Assignment | undefined {
  const q = rest[0];
  if (q === '"' || q === "'" || q === '`') {
    const end = closing(rest, 0, q);
    if (end < 0) return undefined; // multi-line values are not credentials we migrate
    return { name, value: rest.slice(1, end), wholeLine: isCommentOrEmpty(rest.slice(end + 1)) };
  }
  const hash = rest.search(/\s#/);
  return { name, value: (hash < 0 ? rest : rest.slice(0, hash)).trim(), wholeLine: true };
}

function isCommentOrEmpty(tail: string): boolean {
  const t = tail.trim();
  return t === '' || t.startsWith('#');
}

function closing(text: string, open: number, quote: string): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

/** Lines with their 1-based numbers; CRLF files keep working. */
export function lines(text: string): { line: number; text: string }[] {
  return text.split('\n').map((t, i) => ({ line: i + 1, text: t.replace(/\r$/, '') }));
}

/** Remove whole lines (1-based) and keep every other byte, line endings included. */
export function removeLines(text: string, remove: ReadonlySet<number>): string {
  const parts = text.split(/(?<=\n)/);
  return parts.filter((_, i) => !remove.has(i + 1)).join('');
}
