/**
 * When the keychain cannot answer: a locked collection, a keyring daemon that went away, a D-Bus
 * session that went away, a machine with no D-Bus at all. Every case exits 5, names the keychain,
 * changes nothing, and never falls back to files (DESIGN.md §4: no shadowed secrets).
 * The cases run in file order: locked, then the daemon stopped, then the bus stopped.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { githubClassic, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';
import { backendOf, entryFiles, keychainCli, noBusEnv, requireKeyringOrSkip } from './keychain-harness.js';
import { snapshot } from './support.js';
import { holdAt } from './race-support.js';

const RUN = requireKeyringOrSkip();

describe.skipIf(!RUN)('keychain vault whose keychain is unavailable', () => {
  const kc = keychainCli();
  const token = githubClassic();
  const other = githubClassic();
  const commands: [string, string[], string?][] = [
    ['store', ['store', 'github', 'token', '-'], other],
    ['load', ['load', 'github']],
    ['list', ['list']],
    ['delete', ['delete', 'github', 'token']],
    ['restore', ['restore', 'github', 'token']],
  ];

  /** Each command exits 5 naming the keychain; the vault directory is byte-for-byte unchanged. */
  const expectAllRefused = async (why: RegExp) => {
    const before = snapshot(kc.dir);
    for (const [name, args, input] of commands) {
      const r = await kc.run(args, input === undefined ? {} : { input });
      expect(r.code, `${name}: ${r.stderr}`).toBe(5);
      expect(r.stderr, name).toMatch(/OS keychain/);
      expect(r.stderr, name).toMatch(why);
      expect(r.stdout, name).toBe('');
      expect(r.stdout + r.stderr).not.toContain(token);
      expect(r.stdout + r.stderr).not.toContain(other);
    }
    expect(snapshot(kc.dir)).toEqual(before);
    expect(entryFiles(kc.dir)).toEqual([]); // not shadowed by a file copy
    expect(backendOf(kc.dir)).toBe('keychain'); // and not re-created as a file vault
  };

  it('setup: a keychain vault with one credential and one backup', async () => {
    expect((await kc.run(['store', 'github', 'token', '-'], { input: githubClassic() })).code).toBe(0);
    expect((await kc.run(['store', 'github', 'token', '-'], { input: token })).code).toBe(0);
    expect(await kc.lookup('github/token')).toBe(token);
  });

  it('a locked collection: every command exits 5 and nothing changes', async () => {
    await kc.session().lock();
    await expectAllRefused(/locked/);
    const doctor = await kc.run(['doctor']);
    expect(doctor.code).toBe(5); // backend unavailable, as for every other command
    expect(doctor.stderr).toMatch(/vault backend: keychain/);
    expect(doctor.stderr).toMatch(/the OS keychain is not reachable: .*locked/);
    // Unlocked again (the daemon restarts on the same data): the old value is there, untouched.
    await kc.session().restart();
    expect(await kc.lookup('github/token')).toBe(token);
    const r = await kc.run(['load', 'github']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(token);
  });

  it('the keyring daemon gone (bus still up): exit 5, no file fallback', async () => {
    const pids = kc.session().pids();
    expect(pids).toHaveLength(2);
    await kc.session().killKeyring(); // SIGTERM to gnome-keyring-daemon, started by the harness
    await waitGone(pids[1]!);
    await expectAllRefused(/no Secret Service is reachable/);
  });

  it('the D-Bus session gone: exit 5, no file fallback, doctor says unreachable', async () => {
    await kc.session().stop();
    await expectAllRefused(/no Secret Service is reachable/);
    const doctor = await kc.run(['doctor', '--json']);
    const report = JSON.parse(doctor.stdout) as { backend: string; findings: { level: string; message: string }[] };
    expect(report.backend).toBe('keychain');
    expect(report.findings).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/not reachable/) }));
    expect(doctor.code).toBe(5);
  });
});

/**
 * The daemon goes away or restarts while a command runs: the command is held after it opened the
 * vault through the keychain (MCP_TOKENS_PAUSE, test/cli/race-support.ts), the daemon is stopped
 * or restarted in the window, then the command goes on. (A connection the backend kept from
 * before the window, whose Secret Service session died with the old daemon, is retried on a new
 * one; test/backends/keychain.test.ts proves that retry directly, in-process.)
 */
describe.skipIf(!RUN)('the keyring daemon stops or restarts while a command runs', () => {
  const kc = keychainCli();
  const token = githubClassic();
  const other = githubClassic();
  const hold = (step: string, args: string[], input?: string) =>
    holdAt(kc.spawn, step, args, { home: kc.home, ...(input === undefined ? {} : { input }) });

  it('setup: a keychain vault with one credential', async () => {
    expect((await kc.run(['store', 'github', 'token', '-'], { input: token })).code).toBe(0);
    expect(await kc.lookup('github/token')).toBe(token);
  });

  it('restarted mid-command: store and load go on with a new session and succeed', async () => {
    const store = await hold('before-lock', ['store', 'github', 'token', '-'], other);
    await kc.session().restart();
    const r = await store.release();
    expect(r.code, r.stderr).toBe(0);
    expect(await kc.lookup('github/token')).toBe(other);

    const load = await hold('before-read', ['load', 'github']);
    await kc.session().restart();
    const l = await load.release();
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toContain(other);
    // Back to the first value for the next case (through the CLI, with its backup).
    expect((await kc.run(['store', 'github', 'token', '-'], { input: token })).code).toBe(0);
  });

  it('stopped mid-command: store and load exit 5 with a hint, nothing is written, the value survives', async () => {
    for (const [step, args, input] of [
      ['before-lock', ['store', 'github', 'token', '-'], other],
      ['before-read', ['load', 'github'], undefined],
    ] as const) {
      const before = snapshot(kc.dir);
      const held = await hold(step, [...args], input);
      await kc.session().killKeyring();
      const r = await held.release();
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(5);
      expect(r.stderr).toMatch(/OS keychain: no Secret Service is reachable/);
      expect(r.stderr).toMatch(/hint: /);
      expect(r.stdout).toBe('');
      expect(r.stdout + r.stderr).not.toContain(token);
      expect(r.stdout + r.stderr).not.toContain(other);
      expect(snapshot(kc.dir)).toEqual(before); // no backup, no log line, no file fallback
      await kc.session().restart();
      expect(await kc.lookup('github/token')).toBe(token);
    }
  });
});

describe.skipIf(process.platform !== 'linux')('a machine with no D-Bus session', () => {
  const root = mkdtempSync(join(tmpdir(), 'mcpt-nobus-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each([
    ['a bus address that points nowhere', noBusEnv(root)],
    ['no DBUS_SESSION_BUS_ADDRESS at all', {}],
  ])('init --backend keychain exits 5 and says why and what to do (%s)', async (_case, env) => {
    const home = tempHome();
    const r = await runCli(['init', '--backend', 'keychain'], { home, env });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/the OS keychain is not available: .*no Secret Service is reachable \(no D-Bus session or no keyring daemon\)/);
    expect(r.stderr).toMatch(/hint: .*--backend file/);
    expect(existsSync(join(home, '.mcp_tokens', 'vault.json'))).toBe(false);
  });

  it('auto picks the encrypted-file backend and says why', async () => {
    const home = tempHome();
    const token = githubClassic();
    const r = await runCli(['store', 'github', 'token', '-'], { home, input: token, env: { ...noBusEnv(root), ...passphraseEnv(home) } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Created a file vault');
    expect(r.stderr).toContain('no OS keychain was reachable');
    expect(backendOf(join(home, '.mcp_tokens'))).toBe('file');
    expect(entryFiles(join(home, '.mcp_tokens'))).toEqual(['github_token']);
    expect(readFileSync(join(home, '.mcp_tokens', 'github_token'), 'utf8')).not.toContain(token);
  });
});

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`process ${pid} did not exit`);
}
