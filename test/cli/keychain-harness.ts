/**
 * What the keychain CLI suites share: a private Secret Service per test file (its own D-Bus bus
 * and gnome-keyring, test/helpers/keyring-session.ts) and a runner that hands the session's
 * environment to the built binary. The vault directory lives outside the session's temporary
 * root, so it outlives the daemons (the "keychain disappeared" cases need that).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { parseEntryName } from '../../src/names.js';
import { ensureBuilt, runCli, spawnCli, tempHome, type CliOptions, type CliResult } from '../helpers/cli.js';
import { requireKeyringOrSkip, startKeyringSession, type KeyringSession, type KeyringSessionOptions } from '../helpers/keyring-session.js';

export { requireKeyringOrSkip };

export interface KeychainCli {
  session(): KeyringSession;
  /** Run the CLI inside the session on this file's vault directory. */
  run(args: readonly string[], opts?: CliOptions): Promise<CliResult>;
  spawn(args: readonly string[], opts?: CliOptions): ReturnType<typeof spawnCli>;
  /**
   * secret-tool lookup service <service> username <account>; undefined when absent. The service
   * defaults to the one this file's vault keeps its items under (keychainServiceOf).
   */
  lookup(account: string, service?: string): Promise<string | undefined>;
  home: string;
  dir: string;
}

/** Registers beforeAll/afterAll hooks; call at the top of a describe block. */
export function keychainCli(opts: KeyringSessionOptions = {}): KeychainCli {
  let s: KeyringSession | undefined;
  // Made in beforeAll, not at collection time: a skipped suite runs no hooks, so a directory
  // made here would never be removed (empty /tmp/mcpt-kc-* left behind).
  let homeDir: string | undefined;
  const ensureHome = () => (homeDir ??= tempHome('mcpt-kc-'));
  beforeAll(async () => {
    ensureHome();
    ensureBuilt();
    s = await startKeyringSession(opts);
  });
  // A daemon that went away mid-suite fails the test it happened in, saying which and how.
  afterEach(() => s?.assertAlive());
  afterAll(async () => {
    await s?.stop();
  });
  const sessionEnv = () => {
    if (!s) throw new Error('no keyring session');
    const { HOME: _home, ...rest } = s.env; // HOME stays the vault's, which outlives the session
    return rest;
  };
  const withEnv = (opts: CliOptions = {}): CliOptions => ({ home: ensureHome(), ...opts, env: { ...sessionEnv(), ...opts.env } });
  return {
    get home() {
      return ensureHome();
    },
    get dir() {
      return join(ensureHome(), '.mcp_tokens');
    },
    session: () => s!,
    run: (args, opts) => runCli(args, withEnv(opts)),
    spawn: (args, opts) => spawnCli(args, withEnv(opts)),
    lookup: async (account, service = keychainServiceOf(join(ensureHome(), '.mcp_tokens'))) => {
      try {
        return await s!.exec('secret-tool', ['lookup', 'service', service, 'username', account]);
      } catch {
        return undefined; // secret-tool exits 1 when nothing matches
      }
    },
  };
}

/** Entry-named files in a vault directory (the file backend's credentials). */
export function entryFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => parseEntryName(n) !== undefined).sort();
}

/**
 * The keychain service a vault's items live under: `<base>:<id>` with the id from vault.json (or,
 * while a move to the keychain is pending, from move.json), `<base>` for a vault without one.
 */
export function keychainServiceOf(dir: string, base = 'mcp-tokens'): string {
  const read = (name: string): Record<string, unknown> => {
    try {
      return JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const id = read('vault.json')['id'] ?? read('move.json')['keychainId'];
  return typeof id === 'string' ? `${base}:${id}` : base;
}

export function backendOf(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8')) as { backend: string }).backend;
}

/** Environment for a machine with no D-Bus at all: a bus address that points nowhere. */
export function noBusEnv(root: string): Record<string, string> {
  return { DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(root, 'no-such-bus')}`, XDG_RUNTIME_DIR: root };
}
