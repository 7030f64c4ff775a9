/**
 * `mcp-tokens completion bash|zsh|fish`, sourced in the real shells and asked for completions the
 * way each shell asks: bash calls the function with COMP_WORDS/COMP_CWORD set, zsh calls it with
 * `words`/`CURRENT` set and compadd/_files standing in for the completion system (they print what
 * they were given), fish answers `complete -C 'mcp-tokens lo'` itself.
 *
 * These check the wiring in each shell; what the engine offers where is tested in-process
 * (completion-engine.test.ts). The vault is a file vault and no passphrase is given to the shells: completion must list stored
 * names without one, print nothing on stderr, and never print a stored value (the canary).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireShell, type ShellName } from '../helpers/shells.js';
import { canary, ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';

const home = tempHome('mcpt-compl-');
const SECRET = canary();
const outputs: string[] = [];

/** words after `mcp-tokens`, the last being the word under the cursor; what must be offered. */
interface Case {
  words: string[];
  exactly?: string[];
  includes?: string[];
  excludes?: string[];
}

const otherVault = mkdtempSync(join(home, 'other-'));
const CASES: Case[] = [
  { words: ['lo'], exactly: ['load', 'lock', 'log'] },
  { words: ['load', ''], includes: ['all', 'github', 'github@work', 'hass', 'proxmox', 'myapi'] },
  { words: ['run', 'github@'], exactly: ['github@work'] },
  { words: ['store', 'myapi', ''], exactly: ['api-key'] },
  { words: ['load', '--format', ''], exactly: ['sh', 'fish', 'dotenv', 'json'] },
  { words: ['--dir', otherVault, 'verify', ''], includes: ['all', 'github', 'otherapp'], excludes: ['myapi', 'github@work'] },
  { words: ['store', 'proxmox', 'ca', 'cert'], exactly: ['cert-file.pem'] },
];

function key(words: readonly string[]): string {
  return words.join(' ');
}

/** `--- case` lines followed by that case's candidates (descriptions after a tab dropped). */
function parse(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('--- ')) out.set(line.slice(4), (current = []));
    else if (line !== '' && current) current.push(line.split('\t')[0]!);
  }
  return out;
}

function drive(shell: ShellName, sh: string, script: string): Map<string, string[]> {
  const cwd = mkdtempSync(join(home, `cwd-${shell}-`));
  writeFileSync(join(cwd, 'cert-file.pem'), '');
  writeFileSync(join(cwd, 'driver'), script);
  // No passphrase, no mcp-tokens on PATH: the script calls the CLI by its absolute path.
  const env = { PATH: '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', XDG_CONFIG_HOME: join(cwd, '.config'), XDG_DATA_HOME: join(cwd, '.data') };
  const r = spawnSync(sh, [...(shell === 'zsh' ? ['-f'] : []), 'driver'], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  outputs.push(r.stdout, r.stderr);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return parse(r.stdout);
}

function check(results: Map<string, string[]>, extra: Case[] = []): void {
  for (const c of [...CASES, ...extra]) {
    const got = results.get(key(c.words));
    expect(got, `case "${key(c.words)}"`).toBeDefined();
    if (c.exactly) expect([...got!].sort(), `case "${key(c.words)}"`).toEqual([...c.exactly].sort());
    for (const x of c.includes ?? []) expect(got, `case "${key(c.words)}"`).toContain(x);
    for (const x of c.excludes ?? []) expect(got, `case "${key(c.words)}"`).not.toContain(x);
  }
}

async function script(shell: ShellName): Promise<string> {
  const r = await runCli(['completion', shell], { home });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout;
}

/** A word as a bash/zsh single-quoted literal. */
const q = (w: string): string => `'${w.replace(/'/g, `'\\''`)}'`;

beforeAll(async () => {
  ensureBuilt();
  const env = passphraseEnv(home);
  expect((await runCli(['init', '--backend', 'file', '--kdf', 'interactive'], { home, env })).code).toBe(0);
  for (const [service, k, value] of [
    ['github', 'token', githubClassic()],
    ['github@work', 'token', githubClassic()],
    ['myapi', 'api-key', SECRET],
  ] as const) {
    const r = await runCli(['store', service, k, '-'], { home, env, input: value });
    expect(r.code, r.stderr).toBe(0);
  }
  // Another vault directory: only its entry names matter to completion.
  writeFileSync(join(otherVault, 'otherapp_key'), 'x', { mode: 0o600 });
  chmodSync(otherVault, 0o700);
}, 120_000);

describe('completion scripts in real shells', () => {
  it('bash: the completion function fills COMPREPLY', async ({ skip }) => {
    const sh = requireShell('bash', skip);
    const extra: Case[] = [
      // COMP_WORDBREAKS splits --format=j into three words; the cursor may sit on the "=".
      { words: ['load', '--format', '='], exactly: ['=sh', '=fish', '=dotenv', '=json'] },
      { words: ['load', '--format', '=', 'j'], exactly: ['json'] },
    ];
    // COMP_LINE as bash would have it: no blank around the break character "=".
    const line = (words: readonly string[]) => ['mcp-tokens', ...words].join(' ').replace(/ = ?/g, '=');
    const lines = [...CASES, ...extra].map((c) => `comp ${q(line(c.words))} mcp-tokens ${c.words.map(q).join(' ')}`);
    const driver = `source ./completion.bash
comp() { COMP_LINE=$1; COMP_POINT=\${#1}; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _mcp_tokens; printf '%s\\n' "--- \${*:2}"; printf '%s\\n' "\${COMPREPLY[@]}"; }
${lines.join('\n')}
`;
    const s = await script('bash');
    expect(s).toContain('complete -F _mcp_tokens mcp-tokens');
    const results = drive('bash', sh, driver.replace('source ./completion.bash', s));
    check(results, extra);
  });

  it('zsh: the completion function hands the candidates to compadd', async ({ skip }) => {
    const sh = requireShell('zsh', skip);
    const lines = CASES.map((c) => `comp ${c.words.map(q).join(' ')}`);
    const driver = `compdef() { [[ $1 == _mcp-tokens && $2 == mcp-tokens ]] || print -u2 "bad compdef: $*" }
compadd() { print -rl -- "\${values[@]}" }
_files() { print -rl -- $words[CURRENT]*(N) }
_command_names() { print -r -- ':commands' }
${await script('zsh')}
comp() { words=(mcp-tokens "$@"); CURRENT=\${#words}; print -r -- "--- $*"; _mcp-tokens }
${lines.join('\n')}
`;
    check(drive('zsh', sh, driver));
  });

  it('fish: complete -C answers through the completion', async ({ skip }) => {
    const sh = requireShell('fish', skip);
    const fq = (w: string): string => `'${w.replace(/[\\']/g, (c) => `\\${c}`)}'`;
    const lines = CASES.map((c) => `echo ${fq(`--- ${key(c.words)}`)}; complete -C ${fq(`mcp-tokens ${c.words.join(' ')}`)}`);
    const driver = `${await script('fish')}\n${lines.join('\n')}\n`;
    check(drive('fish', sh, driver));
  });

  it('a stored value never appears in any completion output', () => {
    expect(outputs.length).toBeGreaterThan(0);
    for (const o of outputs) expect(o).not.toContain(SECRET);
  });
});

describe('__complete, the hidden entry the scripts call', () => {
  it('needs no passphrase, prints nothing on stderr, and lists names on an unsafe vault without failing', async () => {
    const r = await runCli(['__complete', 'bash', 'load', ''], { home });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['github@work', 'myapi']));
    expect(r.stdout).not.toContain(SECRET);

    // A vault a command would refuse (metadata.json readable by others): fewer names, no error.
    const broken = tempHome('mcpt-compl-broken-');
    const dir = vaultDir(broken);
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'metadata.json'), '{"v":1,"entries":{"leaky_token":{}}}', { mode: 0o644 });
    chmodSync(join(dir, 'metadata.json'), 0o644);
    const b = await runCli(['__complete', 'zsh', 'load', ''], { home: broken });
    expect(b).toMatchObject({ code: 0, stderr: '' });
    expect(b.stdout).toContain('github\t');
    expect(b.stdout).not.toContain('leaky');
  });

  it('with the words of an unknown command or a stray option it offers nothing and stays quiet', async () => {
    for (const words of [['nosuch', ''], ['--nosuch', 'x', ''], ['store', 'a', 'b', 'c', '']]) {
      const r = await runCli(['__complete', 'fish', ...words], { home });
      expect(r, words.join(' ')).toMatchObject({ code: 0, stderr: '' });
    }
  });
});
