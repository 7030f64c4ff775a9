/**
 * The hint for an unreachable keychain leads somewhere: a keychain vault on a machine without a
 * D-Bus session says how to reach the keychain (dbus-run-session + unlocking the keyring) and that
 * moving to files needs it once — and doing exactly that works: inside such a session `list`
 * answers and `backend file` moves the vault, after which the same command works without D-Bus.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, ensureBuilt, githubClassic, passphraseEnv, runCli, tempHome } from '../helpers/cli.js';
import { requireKeyringOrSkip } from '../helpers/keyring-session.js';
import { shellPath } from '../helpers/shells.js';

const RUN = requireKeyringOrSkip();
const KEYRING_PASSWORD = 'hint-test-keyring-password';

describe.skipIf(!RUN)('keychain vault without a D-Bus session: the hint works as written', () => {
  // Made in beforeAll, not at collection: a skipped suite runs no hooks and would leave it behind.
  let home = '';
  let base: Record<string, string | undefined> = {};
  beforeAll(() => {
    home = tempHome('mcpt-kchint-');
    const runtime = join(home, 'run');
    mkdirSync(runtime, { mode: 0o700 });
    // XDG dirs inside HOME so the keyring's data outlives each dbus-run-session.
    base = { XDG_RUNTIME_DIR: runtime, XDG_DATA_HOME: join(home, '.local/share'), DBUS_SESSION_BUS_ADDRESS: undefined };
  });

  /** The hint's steps, non-interactively: dbus-run-session, unlock with the password on stdin, run. */
  function inSession(args: string[], extra: Record<string, string> = {}) {
    const cmd = `gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$0" "$@"`;
    return spawnSync('dbus-run-session', ['--', shellPath('bash') ?? 'bash', '-c', cmd, process.execPath, BIN, ...args], {
      cwd: home,
      env: cliEnv(home, { ...base, ...extra }),
      input: KEYRING_PASSWORD,
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  it('exit 5 naming dbus-run-session and the keyring unlock; following it reaches the vault and moves it', async () => {
    ensureBuilt();
    const token = githubClassic();
    const made = inSession(['--backend', 'keychain', 'store', 'github', 'token', token]);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stderr).toContain('Created a keychain vault');

    const lost = await runCli(['list'], { home, env: base });
    expect(lost.code, lost.stderr).toBe(5);
    expect(lost.stderr).toContain('dbus-run-session -- bash');
    expect(lost.stderr).toContain('gnome-keyring-daemon --unlock --components=secrets');
    expect(lost.stderr).toContain('mcp-tokens backend file');
    expect(lost.stderr).not.toMatch(/on a headless server use --backend file/);

    const listed = inSession(['list']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('github');

    const pass = passphraseEnv(home);
    const moved = inSession(['backend', 'file'], { ...pass, MCP_TOKENS_NEW_PASSPHRASE_FILE: pass['MCP_TOKENS_PASSPHRASE_FILE']! });
    expect(moved.status, moved.stderr).toBe(0);
    const after = await runCli(['load', 'github'], { home, env: { ...base, ...pass } });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain(token);
  });
});
