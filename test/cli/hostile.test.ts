/**
 * Hostile values. Where a value is allowed (a user-defined service takes any printable text),
 * `eval "$(mcp-tokens load myapp)"` in bash and dash must give it back byte-for-byte and run
 * nothing: no file appears in the shell's cwd or HOME. Control characters (newline, CR, NUL,
 * tab, ESC, DEL, C1) are refused on the way in, from stdin or argv, with nothing written.
 */
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { cliCommand, evalInShell, snapshot, snapshotExceptLog } from './support.js';

// 16 KiB exactly (the limit), made of the characters a quoting bug would trip over.
const bigUnit = `'$(touch big)\`touch big\`"\\ `;
const big = bigUnit.repeat(Math.floor(16384 / bigUnit.length)).padEnd(16384, 'x');

// Keys end in a credential's word: a service of your own exports only such derived names.
const allowed: Record<string, string> = {
  'single-token': `'$(touch pwned1)'`,
  'subst-token': `"$(touch pwned2)" \`touch pwned3\``,
  'breakout-secret': `'\\''; touch pwned4; echo ' $HOME \${HOME} $((1+1)) !! %s%n *`,
  'backslash-key': 'back\\slash \\n \\x41 and trailing \\',
  'spaces-password': '  padded ünïcödé 🔑 "quoted"  ',
  'big-token': big,
};
const names = Object.keys(allowed);
const envName = (k: string) => `MYAPP_${k.toUpperCase().replace(/-/g, '_')}`;

let home: string;
let env: Record<string, string>;
beforeAll(async () => {
  ensureBuilt();
  home = tempHome();
  env = passphraseEnv(home);
  expect((await runCli(['init', '--kdf', 'interactive'], { home, env })).code).toBe(0);
});

describe('hostile values in a user-defined service', () => {
  it('each is stored from a pipe (exit 0, nothing on stdout, value not echoed)', async () => {
    for (const k of names) {
      const r = await runCli(['store', 'myapp', k, '-'], { home, env, input: `${allowed[k]}\n` });
      expect(r.code, k).toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain(allowed[k]);
    }
    expect(readdirSync(home).filter((f) => f.includes('pwned') || f === 'big')).toEqual([]);
  });

  it.each(['bash', 'dash'] as const)('eval "$(mcp-tokens load myapp)" in %s reproduces each byte-for-byte and creates no file', async (shell) => {
    const homeBefore = snapshotExceptLog(home);
    const ev = evalInShell(shell, cliCommand(['load', 'myapp']), names.map(envName), { ...env, HOME: home });
    expect(ev.stderr).toBe('');
    expect(ev.status).toBe(0);
    for (const k of names) expect(ev.values[envName(k)], k).toEqual(Buffer.from(allowed[k]!, 'utf8'));
    expect(readdirSync(ev.cwd)).toEqual([]);
    expect(snapshotExceptLog(home)).toEqual(homeBefore);
  });
});

const refused: Array<[string, string]> = [
  ['newline inside', 'a\nb'],
  ['two trailing newlines', 'secret\n\n'],
  ['CR inside', 'a\rb'],
  ['CRLF inside', 'a\r\nb'],
  ['NUL', 'a\u0000b'],
  ['tab', 'a\tb'],
  ['ESC (terminal escape)', 'a\u001b[2Jb'],
  ['DEL', 'a\u007fb'],
  ['C1 NEL', 'a\u0085b'],
  ['only a newline', '\n'],
  ['16 KiB + 1', `${'x'.repeat(16385)}`],
];

describe.concurrent('control characters and oversize values are refused', () => {
  it.each(refused)('%s via stdin: exit 2, nothing written', async (_label, input) => {
    const before = snapshot(vaultDir(home));
    const r = await runCli(['store', 'myapp', 'other', '-'], { home, env, input });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^mcp-tokens: (Value contains a control character|Empty value|Value too long)/m);
    expect(snapshot(vaultDir(home))).toEqual(before);
  });

  it.each([
    ['tab', 'a\tb'],
    ['ESC', 'a\u001bb'],
    ['newline', 'a\nb'],
  ])('%s on argv: exit 2, nothing written', async (_label, value) => {
    const before = snapshot(vaultDir(home));
    const r = await runCli(['store', 'myapp', 'other', value], { home, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mcp-tokens: Value contains a control character/m);
    expect(snapshot(vaultDir(home))).toEqual(before);
  });
});

// Not among the refusals above: a load appends to the access log, which their "nothing written"
// snapshots of the same vault would see if it ran beside them.
describe('the values that were accepted', () => {
  it('one trailing newline from a pipe is stripped, the rest is kept', async () => {
    const r = await runCli(['load', 'myapp', '--format', 'json'], { home, env });
    expect(r.code).toBe(0);
    // Every value was piped with "\n" appended; none of them ends with one.
    expect(JSON.parse(r.stdout)).toEqual(Object.fromEntries(names.map((k) => [envName(k), allowed[k]])));
  });
});
