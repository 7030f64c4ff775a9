/**
 * Output rules (DESIGN.md §8), in one place:
 *  - stdout carries data only: `load` and `headers` output, `--json`, tables. Nothing else, ever.
 *  - every message, warning, prompt and error goes to stderr; errors carry a hint.
 *  - a secret is printed only by `load` and `headers` (Claude Code's headersHelper reads it there),
 *    and only to stdout. Errors never echo a value, and the
 *    message of an unexpected (non-VaultError) error is not printed, since a parser's message can
 *    quote its input; MCP_TOKENS_DEBUG=1 shows it for developers.
 *  - `run` prints nothing to stdout: a stdio MCP server speaks JSON-RPC there.
 *  - colour only on a terminal, never with --no-color or NO_COLOR.
 *  - an argument that looks like a credential is hidden in everything written to stderr, and in
 *    commander's output too (see mask.ts): a token typed in the wrong place is never echoed.
 *  - one error style, ours or commander's: `mcp-tokens: message` then `  hint: …`.
 *  - a command that runs longer than about a second shows its progress on stderr, on a terminal
 *    only and not with --quiet: one line (`label 1,234/3,000`) rewritten in place, erased at the end.
 *  - human output never carries a terminal control sequence it did not make: every message,
 *    hint and table cell is passed through `printable`, so a link's argument, a file name or
 *    anything else that came from data shows ESC, other control characters and bidirectional
 *    overrides as `\x1b`, `\u202e`… instead of acting on the terminal.
 */
import { isVaultError } from '../errors.js';
import { argumentMasker } from './mask.js';

let quiet = false;
let color = false;
let hide: (text: string) => string = (text) => text;

/** Hide, from now on, every one of these arguments that looks like a credential. */
export function maskArguments(args: readonly string[]): void {
  hide = argumentMasker(args);
}

/** Every stderr write goes through here. */
function writeErr(text: string): void {
  process.stderr.write(hide(text));
}

export function configureOutput(opts: { quiet?: boolean | undefined; color?: boolean | undefined }): void {
  quiet = opts.quiet === true;
  color = opts.color !== false && !('NO_COLOR' in process.env && process.env['NO_COLOR'] !== '') && process.stderr.isTTY === true;
}

export function useColor(): boolean {
  return color;
}

function paint(code: string, text: string): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

// C0 controls except newline and tab, DEL, C1 controls, and the Unicode format characters that
// reorder or hide text (bidi embeddings, overrides and isolates, zero-width marks, BOM).
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const UNPRINTABLE_CELL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

function escapeChar(c: string): string {
  const n = c.codePointAt(0)!;
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/**
 * Text safe to show on a terminal: control and text-reordering characters spelled as escapes.
 * Newlines and tabs are kept in messages; a table cell (`cell: true`) escapes them too.
 */
export function printable(text: string, opts: { cell?: boolean } = {}): string {
  return text.replace(opts.cell ? UNPRINTABLE_CELL : UNPRINTABLE, escapeChar);
}

/** Data for stdout. */
export function data(text: string): void {
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
}

export function json(value: unknown): void {
  data(`${JSON.stringify(value, null, 2)}\n`);
}

/** Informational message (stderr; silenced by --quiet). */
export function info(message: string): void {
  if (!quiet) writeErr(`${printable(message)}\n`);
}

export interface Progress {
  /** done of total finished; cheap to call for every item. */
  step(done: number, total: number): void;
  /** Erase the line, before the command's summary. */
  end(): void;
}

const REDRAW_MS = 100;

/**
 * Progress of a long command (`Importing 1,234/3,000`): drawn once it has run `afterMs` (about a
 * second; MCP_TOKENS_PROGRESS_AFTER_MS changes it), at most every 100 ms, on one stderr line that
 * is rewritten in place and erased by end(). Nothing when stderr is not a terminal or with --quiet.
 */
export function progress(label: string, afterMs = progressDelay()): Progress {
  if (quiet || process.stderr.isTTY !== true) return { step: () => undefined, end: () => undefined };
  const started = Date.now();
  let drawnAt: number | undefined;
  return {
    step(done, total) {
      const t = Date.now();
      if (t - started < afterMs || (drawnAt !== undefined && t - drawnAt < REDRAW_MS && done < total)) return;
      drawnAt = t;
      writeErr(`\r${printable(label)} ${count(done)}/${count(total)}\x1b[K`);
    },
    end() {
      if (drawnAt !== undefined) writeErr('\r\x1b[K');
      drawnAt = undefined;
    },
  };
}

function progressDelay(): number {
  const v = Number(process.env['MCP_TOKENS_PROGRESS_AFTER_MS']);
  const set = process.env['MCP_TOKENS_PROGRESS_AFTER_MS'];
  return set !== undefined && set !== '' && Number.isFinite(v) && v >= 0 ? v : 1000;
}

/** 3000 → 3,000. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Warning (stderr; shown even with --quiet). */
export function warn(message: string): void {
  writeErr(`${paint('33', 'warning:')} ${printable(message)}\n`);
}

/** The one error format: `mcp-tokens: message`, then the hint on its own indented line. */
export function printError(message: string, hint?: string): void {
  writeErr(`${paint('31', 'mcp-tokens:')} ${printable(message)}\n`);
  if (hint) writeErr(`  ${paint('2', 'hint:')} ${printable(hint)}\n`);
}

/** Print an error with its hint; returns the exit code. */
export function reportError(e: unknown): number {
  if (isVaultError(e)) {
    printError(e.message, e.hint);
    debugCause(e.cause);
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException | undefined;
  if (err && typeof err.code === 'string' && typeof err.syscall === 'string') {
    // System errors name a path and an errno, never a value.
    printError(`${err.syscall} failed: ${err.code}${err.path ? ` (${err.path})` : ''}`);
    return 1;
  }
  printError(`unexpected internal error (${err?.name ?? typeof e})`, 'run again with MCP_TOKENS_DEBUG=1 to see details, and report it');
  debugCause(e);
  return 1;
}

/**
 * Commander's output, routed through the same masking and error format: help and version text
 * as they are, and each usage error (`error: unknown option '--x'\n(Did you mean --y?)`) as
 * `mcp-tokens: unknown option '--x'` with `hint: did you mean --y?` or where to find the usage.
 */
export function commanderOutput(commandPath: string) {
  return {
    writeOut: (text: string) => void process.stdout.write(hide(text)),
    writeErr,
    outputError: (text: string) => {
      const lines = text.trim().split('\n');
      const message = (lines[0] ?? '').replace(/^error:\s*/, '');
      const suggestion = lines.slice(1).join(' ').match(/^\(?Did you mean (.+?)\)?$/i)?.[1];
      printError(message, suggestion ? `did you mean ${suggestion} (see: ${commandPath} --help)` : (dashDashHint(commandPath, message) ?? oneServiceHint(commandPath, message) ?? `see: ${commandPath} --help`));
    },
  };
}

/**
 * `run github sh -c '…'` or `link github token pass show -x`: the command's own option reached
 * mcp-tokens because -- is missing (commander stops reading options only after --).
 */
function dashDashHint(commandPath: string, message: string): string | undefined {
  if (!message.startsWith('unknown option') || process.argv.includes('--')) return undefined;
  if (commandPath === 'mcp-tokens run') return "put -- before the command, so its options are its own: mcp-tokens run github -- sh -c '…'";
  if (commandPath === 'mcp-tokens link') return 'put -- before the command, so its options are its own: mcp-tokens link github token -- pass show mcp/github';
  return undefined;
}

/** `load github hass`: load and list take one service; run takes several for one program. */
function oneServiceHint(commandPath: string, message: string): string | undefined {
  if (!message.startsWith('too many arguments')) return undefined;
  if (commandPath === 'mcp-tokens load') return 'load takes one service, or all (mcp-tokens load github); to give several services to one program: mcp-tokens run github hass -- <command>';
  if (commandPath === 'mcp-tokens list') return 'list takes one service (mcp-tokens list github), or none for every credential';
  return undefined;
}

function debugCause(cause: unknown): void {
  if (process.env['MCP_TOKENS_DEBUG'] === '1' && cause !== undefined) {
    writeErr(`  debug: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`);
  }
}

/** Plain text table: columns padded to their widest cell. */
export function table(headers: readonly string[], cellsIn: readonly (readonly string[])[]): string {
  const rows = cellsIn.map((r) => r.map((c) => printable(c, { cell: true })));
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c)))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

function width(s: string): number {
  return [...s].length;
}
