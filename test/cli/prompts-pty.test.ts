/**
 * The prompts as a person meets them, on a real pseudo-terminal (helpers/pty.ts): three tries for
 * a wrong passphrase and for a new one (too short is said before the repeat; a mismatch asks both
 * again) while the value already typed for `store` is kept; a passphrase from a file is never
 * asked again; Ctrl-C exits 130 and Ctrl-D, SIGTERM or three failures stop cleanly — the terminal
 * always gets its echo back, nothing is written, and an abandoned first `store` or `init` leaves
 * no ~/.mcp_tokens behind. Nothing typed with the echo off ever shows in the transcript.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PASSPHRASE, canary, ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome, vaultDir } from '../helpers/cli.js';
import { onPty, requirePty, type PtyResult, type PtyStep } from '../helpers/pty.js';
import { cloneVault, seedVault, snapshot } from './support.js';

const NEW = 'a new passphrase 1';
const OTHER = 'a new passphrase 2';
const token = githubClassic();
let seeded: string;

beforeAll(async () => {
  ensureBuilt();
  seeded = tempHome();
  await seedVault(seeded, [['github', 'token', token]]);
});

const env = { NO_COLOR: '1' };
const count = (text: string, what: string) => text.split(what).length - 1;

/** The terminal is back as it was: echo on, line mode on. */
function restored(r: PtyResult): void {
  expect(r.timedOutAtStep, r.transcript).toBeNull();
  expect(r.echo).toBe(true);
  expect(r.canonical).toBe(true);
}

describe('a wrong passphrase on a terminal', () => {
  it('is asked again; the right one at the second try opens the vault', ({ skip }) => {
    requirePty(skip);
    const home = cloneVault(seeded);
    const r = onPty(['list'], [
      { expect: 'Vault passphrase: ', send: 'not the passphrase\r' },
      { expect: 'wrong passphrase; try again (2 tries left)' },
      // Ctrl-U drops what was typed, Backspace the last character
      { expect: 'Vault passphrase: ', send: `xyz\x15${PASSPHRASE}Q\x7f\r` },
    ], { home, env });
    restored(r);
    expect(r.code, r.transcript).toBe(0);
    expect(r.transcript).toContain('github');
    expect(r.transcript).not.toContain('not the passphrase');
    expect(r.transcript).not.toContain(PASSPHRASE);
  });

  it('three times (Enter alone is a try): exit 4 after exactly three prompts, every file unchanged', ({ skip }) => {
    requirePty(skip);
    const home = cloneVault(seeded);
    const before = snapshot(vaultDir(home));
    const r = onPty(['list'], [
      { expect: 'Vault passphrase: ', send: 'wrong 1\r' },
      { expect: 'wrong passphrase; try again (2 tries left)' },
      { expect: 'Vault passphrase: ', send: '\r' },
      { expect: 'no passphrase typed; try again (1 try left)' },
      { expect: 'Vault passphrase: ', send: 'wrong 3\r' },
    ], { home, env });
    restored(r);
    expect(r.code, r.transcript).toBe(4);
    expect(count(r.transcript, 'Vault passphrase: ')).toBe(3);
    expect(r.transcript).toContain('wrong passphrase: the vault could not be unlocked');
    expect(r.transcript).not.toMatch(/wrong [123]/);
    expect(snapshot(vaultDir(home))).toEqual(before);
  });

  it.for([
    ['MCP_TOKENS_PASSPHRASE_FILE', (home: string) => passphraseEnv(home, 'not the passphrase')],
    ['MCP_TOKENS_PASSPHRASE', () => ({ MCP_TOKENS_PASSPHRASE: 'not the passphrase' })],
  ] as const)('from %s is refused at once: no prompt, no second try', ([, source], { skip }) => {
    requirePty(skip);
    const home = cloneVault(seeded);
    const r = onPty(['list'], [], { home, env: { ...env, ...source(home) } });
    restored(r);
    expect(r.code, r.transcript).toBe(4);
    expect(r.transcript).not.toContain('Vault passphrase');
    expect(r.transcript).not.toContain('try again');
  });
});

describe('a new passphrase on a terminal', () => {
  it('first store: the value is asked once and kept through a mismatch and a too-short passphrase', async ({ skip }) => {
    requirePty(skip);
    const home = tempHome();
    const value = githubClassic();
    const r = onPty(['store', 'github', 'token'], [
      { expect: 'github token: ', send: `${value}\r` },
      { expect: 'New vault passphrase: ', send: `${NEW}\r` },
      { expect: 'Repeat passphrase: ', send: `${OTHER}\r` },
      { expect: 'the two passphrases differ; try again (2 tries left)' },
      { expect: 'New vault passphrase: ', send: 'x7Qz\r' },
      // said at once, before any repeat
      { expect: 'passphrase too short: use at least 8 characters; try again (1 try left)' },
      { expect: 'New vault passphrase: ', send: `${NEW}\r` },
      { expect: 'Repeat passphrase: ', send: `${NEW}\r` },
      { expect: 'Stored github token.' },
    ], { home, env });
    restored(r);
    expect(r.code, r.transcript).toBe(0);
    expect(count(r.transcript, 'github token: ')).toBe(1);
    expect(count(r.transcript, 'Repeat passphrase: ')).toBe(2);
    for (const typed of [value, NEW, OTHER, 'x7Qz']) expect(r.transcript).not.toContain(typed);
    const load = await runCli(['load', 'github'], { home, env: { MCP_TOKENS_PASSPHRASE: NEW } });
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toContain(value);
  });

  it('passwd: a mismatch asks both again; the new passphrase then opens the vault', async ({ skip }) => {
    requirePty(skip);
    const home = cloneVault(seeded);
    const r = onPty(['passwd'], [
      { expect: 'Vault passphrase: ', send: `${PASSPHRASE}\r` },
      { expect: 'New passphrase: ', send: `${NEW}\r` },
      { expect: 'Repeat passphrase: ', send: `${OTHER}\r` },
      { expect: 'the two passphrases differ; try again (2 tries left)' },
      { expect: 'New passphrase: ', send: `${NEW}\r` },
      { expect: 'Repeat passphrase: ', send: `${NEW}\r` },
    ], { home, env });
    restored(r);
    expect(r.code, r.transcript).toBe(0);
    expect(r.transcript).toContain('Passphrase changed.');
    const list = await runCli(['list'], { home, env: { MCP_TOKENS_PASSPHRASE: NEW } });
    expect(list.code, list.stderr).toBe(0);
    const old = await runCli(['list'], { home, env: { MCP_TOKENS_PASSPHRASE: PASSPHRASE } });
    expect(old.code).toBe(4);
  });
});

/** Ways to abandon the creation of a vault, with the exit code each must give. */
const abandoned: Array<[string, string[], PtyStep[], number]> = [
  ['Ctrl-C at the value prompt', ['store', 'github', 'token'], [{ expect: 'github token: ', send: 'ghp_partly\x03' }], 130],
  ['Ctrl-D at the value prompt', ['store', 'github', 'token'], [{ expect: 'github token: ', send: '\x04' }], 2],
  ['Ctrl-C at the new passphrase', ['store', 'myapp', 'token'], [
    { expect: 'myapp token: ', send: 'VALUE\r' },
    { expect: 'New vault passphrase: ', send: 'half typ\x03' },
  ], 130],
  ['Ctrl-C at the repeat', ['store', 'myapp', 'token'], [
    { expect: 'myapp token: ', send: 'VALUE\r' },
    { expect: 'New vault passphrase: ', send: `${NEW}\r` },
    { expect: 'Repeat passphrase: ', send: '\x03' },
  ], 130],
  ['Ctrl-D at the new passphrase', ['store', 'myapp', 'token'], [
    { expect: 'myapp token: ', send: 'VALUE\r' },
    { expect: 'New vault passphrase: ', send: '\x04' },
  ], 4],
  ['three mismatches', ['store', 'myapp', 'token'], [
    { expect: 'myapp token: ', send: 'VALUE\r' },
    ...[1, 2, 3].flatMap((i) => [
      { expect: 'New vault passphrase: ', send: `${NEW}\r` },
      { expect: 'Repeat passphrase: ', send: `${OTHER} ${i}\r` },
    ]),
  ], 4],
  ['init: three too short', ['init', '--backend', 'file', '--kdf', 'interactive'], [1, 2, 3].map(() => ({ expect: 'New vault passphrase: ', send: 'short\r' })), 2],
  ['init: Ctrl-C at the repeat', ['init', '--backend', 'file', '--kdf', 'interactive'], [
    { expect: 'New vault passphrase: ', send: `${NEW}\r` },
    { expect: 'Repeat passphrase: ', send: '\x03' },
  ], 130],
];

describe('an abandoned first store or init', () => {
  it.for(abandoned)('%s: exit code as said, echo back, no ~/.mcp_tokens, doctor as on a new machine', async ([, args, steps, code], { skip }) => {
    requirePty(skip);
    const home = tempHome();
    const value = canary();
    // The value typed at the prompt is a canary (myapp is a service of one's own, so any value
    // passes): it must never be echoed or written.
    const typed = steps.map((s) => (s.send === 'VALUE\r' ? { ...s, send: `${value}\r` } : s));
    const r = onPty(args, typed, { home, env });
    restored(r);
    expect(r.code, r.transcript).toBe(code);
    expect(r.transcript).not.toContain(value);
    expect(r.transcript).not.toContain(NEW);
    expect(r.transcript).not.toContain('partly');
    expect(r.transcript).not.toContain('half typ');
    if (code === 130) expect(r.transcript).toMatch(/mcp-tokens: cancelled\r\n {2}hint: nothing was changed/);
    expect(existsSync(vaultDir(home))).toBe(false);
    const doctor = await runCli(['doctor'], { home });
    expect(doctor.stdout + doctor.stderr).toContain('no vault yet');
  });
});

describe('stopping at the prompt of an existing vault', () => {
  it('Ctrl-C at the passphrase: exit 130, echo back, nothing written, the value never shown', ({ skip }) => {
    requirePty(skip);
    const home = cloneVault(seeded);
    const before = snapshot(vaultDir(home));
    const value = githubClassic();
    const r = onPty(['store', 'github', 'token'], [
      { expect: 'github token: ', send: `${value}\r` },
      { expect: 'Vault passphrase: ', send: 'corr\x03' },
    ], { home, env });
    restored(r);
    expect(r.code, r.transcript).toBe(130);
    expect(r.transcript).not.toContain(value);
    expect(r.transcript).not.toContain('corr');
    expect(snapshot(vaultDir(home))).toEqual(before);
  });

  it.for([
    ['SIGTERM', 15, 143],
    ['SIGINT', 2, 130],
  ] as const)('%s while the echo is off: the terminal is restored, signal %s gives exit %s, nothing written', ([, signal, code], { skip }) => {
    requirePty(skip);
    const home = cloneVault(seeded);
    const before = snapshot(vaultDir(home));
    const r = onPty(['list'], [{ expect: 'Vault passphrase: ', send: 'corr' }, { expect: '', signal }], { home, env });
    restored(r);
    expect(r.code, r.transcript).toBe(code);
    expect(r.transcript).not.toContain('corr');
    expect(snapshot(vaultDir(home))).toEqual(before);
  });

  it('unlock: a wrong passphrase is asked again, then the agent starts', async ({ skip }) => {
    requirePty(skip);
    const home = cloneVault(seeded);
    const run = join(home, 'run');
    mkdirSync(run, { mode: 0o700 });
    const agentEnv = { ...env, XDG_RUNTIME_DIR: run };
    const r = onPty(['unlock', '--timeout', '2m'], [
      { expect: 'Vault passphrase: ', send: 'not the passphrase\r' },
      { expect: '(2 tries left)' },
      { expect: 'Vault passphrase: ', send: `${PASSPHRASE}\r` },
    ], { home, env: agentEnv });
    try {
      restored(r);
      expect(r.code, r.transcript).toBe(0);
      expect(r.transcript).toContain('Unlocked');
    } finally {
      await runCli(['lock'], { home, env: agentEnv });
    }
  });
});
