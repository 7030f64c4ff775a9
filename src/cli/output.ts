/**
 * Output rules (DESIGN.md §8), in one place:
 *  - stdout carries data only: `load` output, `--json`, tables. Nothing else, ever.
 *  - every message, warning, prompt and error goes to stderr; errors carry a hint.
 *  - a secret is printed only by `load`, and only to stdout. Errors never echo a value, and the
 *    message of an unexpected (non-VaultError) error is not printed, since a parser's message can
 *    quote its input; MCP_TOKENS_DEBUG=1 shows it for developers.
 *  - `run` prints nothing to stdout: a stdio MCP server speaks JSON-RPC there.
 *  - colour only on a terminal, never with --no-color or NO_COLOR.
 */
import { isVaultError } from '../errors.js';

let quiet = false;
let color = false;

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

/** Data for stdout. */
export function data(text: string): void {
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
}

export function json(value: unknown): void {
  data(`${JSON.stringify(value, null, 2)}\n`);
}

/** Informational message (stderr; silenced by --quiet). */
export function info(message: string): void {
  if (!quiet) process.stderr.write(`${message}\n`);
}

/** Warning (stderr; shown even with --quiet). */
export function warn(message: string): void {
  process.stderr.write(`${paint('33', 'warning:')} ${message}\n`);
}

/** Print an error with its hint; returns the exit code. */
export function reportError(e: unknown): number {
  if (isVaultError(e)) {
    process.stderr.write(`${paint('31', 'mcp-tokens:')} ${e.message}\n`);
    if (e.hint) process.stderr.write(`  ${paint('2', 'hint:')} ${e.hint}\n`);
    debugCause(e.cause);
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException | undefined;
  if (err && typeof err.code === 'string' && typeof err.syscall === 'string') {
    // System errors name a path and an errno, never a value.
    process.stderr.write(`${paint('31', 'mcp-tokens:')} ${err.syscall} failed: ${err.code}${err.path ? ` (${err.path})` : ''}\n`);
    return 1;
  }
  process.stderr.write(`${paint('31', 'mcp-tokens:')} unexpected internal error (${err?.name ?? typeof e})\n`);
  process.stderr.write(`  hint: run again with MCP_TOKENS_DEBUG=1 to see details, and report it\n`);
  debugCause(e);
  return 1;
}

function debugCause(cause: unknown): void {
  if (process.env['MCP_TOKENS_DEBUG'] === '1' && cause !== undefined) {
    process.stderr.write(`  debug: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`);
  }
}

/** Plain text table: columns padded to their widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c)))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

function width(s: string): number {
  return [...s].length;
}
