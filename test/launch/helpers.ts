/**
 * Shared test helpers for launch: temp dirs, running real shells, and compiling src/launch for a
 * child Node process (tests run TypeScript through vitest, but a signal test needs a separate
 * process we can signal without touching the test runner itself).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll } from 'vitest';
import { shellPath } from '../helpers/shells.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHELLS = ['bash', 'dash', 'zsh', 'fish'] as const;
export type TestShell = (typeof SHELLS)[number];

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'mcpt-launch-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export interface ShellResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run `script` in a real shell with cwd `cwd` and a minimal, controlled environment. */
export function runShell(
  shell: TestShell,
  script: string,
  cwd: string,
  env: Record<string, string> = {},
  opts: { interactive?: boolean } = {},
): ShellResult {
  const file = join(cwd, `.script.${shell}`);
  writeFileSync(file, script);
  // A HOME of its own, outside cwd: fish writes config and history there, and the tests list cwd.
  const home = tempDir('mcpt-home-');
  const base = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', MCP_TOKENS_INSECURE_TEST_KDF: '1' };
  const extra = shell === 'fish' ? { XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share') } : {};
  const flags = [...(shell === 'zsh' ? ['-f'] : []), ...(opts.interactive ? ['-i'] : [])];
  const r = spawnSync(shellPath(shell) ?? shell, [...flags, file], {
    cwd,
    env: { ...base, ...extra, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  rmSync(file);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Transpile `entry` (a path under src/) and every relative module it imports into `outDir`,
 * keeping the layout so the `.js` import specifiers resolve. No type-check: tsc does that.
 */
export function compileForNode(entry: string, outDir: string): string {
  const srcRoot = join(REPO, 'src');
  const queue = [resolve(REPO, entry)];
  const done = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (done.has(file) || !existsSync(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: file,
    });
    const dest = join(outDir, relative(srcRoot, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, out.outputText);
    for (const imp of ts.preProcessFile(source, true, true).importedFiles) {
      if (imp.fileName.startsWith('.')) queue.push(resolve(dirname(file), imp.fileName.replace(/\.js$/, '.ts')));
    }
  }
  return join(outDir, relative(srcRoot, resolve(REPO, entry))).replace(/\.ts$/, '.js');
}

/** Values a hostile or careless store could put in the vault (none has a control character). */
export function hostileValues(): Record<string, string> {
  const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
  const big = (printable + "é中🔑'\\'$(x)`y`").repeat(200);
  return {
    CMD_SUBST_QUOTED: "'$(touch pwned1)'",
    CMD_SUBST: '$(touch pwned2)',
    BACKTICKS: '`touch pwned3`',
    DQUOTE_BREAK: '"; touch pwned4; echo "',
    SEMICOLON: '; touch pwned5 #',
    BACKSLASH: '\\',
    BACKSLASHES: '\\\\ \\n \\t \\x41 \\',
    QUOTE_DANCE: "'\\''",
    LONE_QUOTE: "'",
    ESCAPED_QUOTE: "\\'",
    FISH_ESCAPE: "\\'; touch pwned6; echo '",
    DOLLAR_HOME: '$HOME ${HOME} $((1+1)) ${HOME:?x}',
    HISTORY: '!event !! !$ ^a^b',
    GLOB: '* ? [a-z] ~ ~root {a,b}',
    SPACES: '  leading and trailing  ',
    PERCENT: '%s %n %d -n -e --',
    UNICODE: 'ñ é 中文 🔑 \u200f\u202e שלום \u0301',
    PROCESS_SUBST: '<(touch pwned7) >(touch pwned8) | touch pwned9 & touch pwned10',
    BIG_16K: truncateUtf8(big, 16 * 1024),
  };
}

/** The longest prefix of `text` within `maxBytes` UTF-8 bytes, never splitting a code point. */
function truncateUtf8(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}
