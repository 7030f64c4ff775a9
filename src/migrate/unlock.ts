/**
 * How a rewritten server will get at the vault when its MCP client starts it. `mcp-tokens run`
 * opens the vault like every command: a keychain vault needs no passphrase; a file vault uses the
 * unlock agent serving it, else the first passphrase source in its own environment
 * (MCP_TOKENS_PASSPHRASE_FD, then _FILE, then MCP_TOKENS_PASSPHRASE), else a prompt on a
 * terminal — which a client started from a desktop launcher does not have, so the server fails
 * to start ("✘ Failed to connect"). The environment that counts is the client's, that is the
 * server's `env` in its config (what the rewrite keeps of it), never migrate's own.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { isVaultError } from '../errors.js';
import { CONFIG_NAME } from '../vault/config.js';
import { readSecure, readSecureText } from '../vault/fsutil.js';

/** The vault the rewritten servers will open, as far as starting them is concerned. */
export interface VaultAccess {
  dir: string;
  backend: 'keychain' | 'file';
  /** An agent serves this vault now (with the vault.json it has): when it locks by itself. */
  agent?: { until: string | null; idleMs: number | null };
  /** A command-line flag for the commands the plan suggests: `--dir '…'` when not the default folder. */
  dirFlag?: string;
  /** The vault a server opens when its env sets no MCP_TOKENS_DIR (~/.mcp_tokens); unchecked when absent. */
  defaultDir?: string;
  /**
   * Keychain vaults on Linux: the session bus a server finds when its env has no
   * DBUS_SESSION_BUS_ADDRESS (MCP clients pass none of their own): the standard one of the login,
   * or why there is none.
   */
  bus?: { address: string } | { why: string };
}

export interface UnlockAtStart {
  /** What opens the vault when the client starts the server; 'none': nothing can. */
  via: 'keychain' | 'agent' | 'passphrase-file' | 'passphrase-env' | 'none';
  /** false: the server will fail to start from a desktop launcher (no terminal to ask on). */
  launcher: boolean;
  /** How, in one line (the plan prints it under the server). */
  detail: string;
  /** What to run or set: for 'none' to make it start, for the agent once it has locked. */
  fix?: string;
}

/** How long the plan waits for an agent to answer: a local socket answers in milliseconds. */
const AGENT_TIMEOUT_MS = 1000;

/**
 * The vault's access for the plan: for a file vault, whether an agent serves it right now (a quick
 * local check: socket, token, hello; no passphrase, no prompt). `exists` false: a vault this run
 * creates, which no agent can serve yet.
 */
export async function vaultAccess(o: { dir: string; backend: 'keychain' | 'file'; exists: boolean; home: string; env?: NodeJS.ProcessEnv }): Promise<VaultAccess> {
  const defaultDir = join(o.home, '.mcp_tokens');
  const dirFlag = o.dir === defaultDir ? undefined : `--dir '${o.dir}'`;
  const base: VaultAccess = { dir: o.dir, backend: o.backend, defaultDir, ...(dirFlag ? { dirFlag } : {}) };
  if (o.backend === 'keychain' && process.platform === 'linux') return { ...base, bus: (await import('../user-dirs.js')).standardBus() };
  if (o.backend !== 'file' || !o.exists) return base;
  const { findAgent } = await import('../agent/client.js');
  // Found where run will look, whatever environment the client gives it (agent/paths.ts).
  const found = await findAgent(o.dir, { timeoutMs: AGENT_TIMEOUT_MS });
  if (!('connection' in found)) return base;
  const { status } = found.connection;
  found.connection.close();
  // An agent unlocked from an older vault.json (passphrase changed since) is not used by run.
  const text = readSecureText(join(o.dir, CONFIG_NAME));
  if (text === undefined || status.config !== createHash('sha256').update(text).digest('hex')) return base;
  return { ...base, agent: { until: status.until, idleMs: status.idleMs } };
}

const KEYCHAIN: Partial<Record<NodeJS.Platform, string>> = {
  darwin: 'the macOS Keychain: no passphrase needed (the login keychain is unlocked when you log in)',
  win32: 'the Windows Credential Manager: no passphrase needed',
};
const KEYCHAIN_LINUX = 'the keychain (Secret Service): no passphrase needed, as long as the login keyring is unlocked in the desktop session the client runs in (a graphical login unlocks it)';

/** How `run` will open the vault for a server whose config entry keeps `env` (after the rewrite). */
export function unlockAtStart(env: readonly { name: string; value: string }[], access: VaultAccess, platform: NodeJS.Platform, launch: readonly string[] = []): UnlockAtStart {
  const other = otherVault(env, access, launch);
  if (other) {
    return {
      via: 'none',
      launcher: false,
      detail: `will fail from a desktop launcher (and from a terminal): ${other.why}`,
      fix: other.fix,
    };
  }
  const get = (name: string) => env.find((e) => e.name === name && e.value !== '')?.value;
  const flag = access.dirFlag ? ` ${access.dirFlag}` : '';
  if (access.backend === 'keychain') {
    // The client gives the server no DBUS_SESSION_BUS_ADDRESS of its own: only the server's env or
    // the standard bus of the login (run looks there) lead to the Secret Service.
    if (platform === 'linux' && access.bus && 'why' in access.bus && get('DBUS_SESSION_BUS_ADDRESS') === undefined) {
      return {
        via: 'none',
        launcher: false,
        detail: `will fail from a desktop launcher: MCP clients start servers without DBUS_SESSION_BUS_ADDRESS, the server's env sets none, and ${access.bus.why}`,
        fix: `add "DBUS_SESSION_BUS_ADDRESS": "<its value in your desktop session: echo $DBUS_SESSION_BUS_ADDRESS>" to the server's env, or move the vault to files ('mcp-tokens backend file${flag}') and unlock it`,
      };
    }
    const bus = platform === 'linux' && access.bus && 'address' in access.bus && get('DBUS_SESSION_BUS_ADDRESS') === undefined ? ` (the session bus at ${access.bus.address.slice('unix:path='.length)})` : '';
    return { via: 'keychain', launcher: true, detail: `${KEYCHAIN[platform] ?? KEYCHAIN_LINUX}${bus}` };
  }
  const unlock = `run 'mcp-tokens unlock${flag}' before starting the client`;
  // run asks the agent first; a passphrase source in the server's env only matters without one.
  const source = passphraseSource(get);
  if (source?.ok) return { ...source.ok, ...(access.agent ? { detail: `${source.ok.detail} (the unlock agent running now is asked first)` } : {}) };
  if (access.agent) {
    const limits = [access.agent.until ? `locks at ${access.agent.until}` : undefined, access.agent.idleMs !== null ? `or after ${Math.round(access.agent.idleMs / 60_000)} min idle` : undefined].filter(Boolean);
    return {
      via: 'agent',
      launcher: true,
      // Worded without "passphrase": nothing is asked, and a run through the agent says none.
      detail: `the unlock agent running now${limits.length ? ` (${limits.join(', ')})` : ''}: works until 'mcp-tokens lock', its timeout, logout or a reboot`,
      fix: `then ${unlock}`,
    };
  }
  const why = source?.problem ?? "the file vault needs its passphrase, no unlock agent serves it now, and the server's env names no passphrase file";
  return {
    via: 'none',
    launcher: false,
    detail: `will fail from a desktop launcher: ${why}`,
    fix: `${unlock} (again after each logout or reboot), or move the vault to the OS keychain where there is one ('mcp-tokens backend keychain${flag}'), or add "MCP_TOKENS_PASSPHRASE_FILE": "<absolute path of a 0600 file holding the passphrase>" to the server's env`,
  };
}

/**
 * Why the server will open another vault than the one migrate stores its values in, if it will:
 * `run` opens MCP_TOKENS_DIR from its env, else ~/.mcp_tokens — migrate's own --dir or
 * MCP_TOKENS_DIR is not passed on to the client.
 */
function otherVault(env: readonly { name: string; value: string }[], access: VaultAccess, launch: readonly string[]): { why: string; fix: string } | undefined {
  if (access.defaultDir === undefined) return undefined;
  // `run --dir D` (an entry that was already launched through run keeps its options) wins over the env.
  const runOpts = launch.slice(2, Math.max(2, launch.indexOf('--')));
  const at = runOpts.findIndex((a) => a === '--dir' || a.startsWith('--dir='));
  const arg = at < 0 ? undefined : runOpts[at] === '--dir' ? runOpts[at + 1] : runOpts[at]!.slice('--dir='.length);
  const set = arg ?? env.find((e) => e.name === 'MCP_TOKENS_DIR' && e.value !== '')?.value;
  const what = arg !== undefined ? '--dir in its command' : 'MCP_TOKENS_DIR in its env';
  const fix = arg !== undefined ? `make the --dir in the server's command '${access.dir}'` : `add "MCP_TOKENS_DIR": "${access.dir}" to the server's env`;
  if (set !== undefined && !isAbsolute(set)) return { why: `${what} (${set}) is not an absolute path`, fix };
  const opens = set !== undefined ? resolve(set) : access.defaultDir;
  if (opens === access.dir) return undefined;
  return { why: `it will open the vault in ${opens}${set === undefined ? ' (its env sets no MCP_TOKENS_DIR)' : ` (${what})`}, not ${access.dir} where migrate stores these values`, fix };
}

/** The passphrase source `run` will find in the server's env, checked as run would check it. */
function passphraseSource(get: (name: string) => string | undefined): { ok?: UnlockAtStart; problem?: string } | undefined {
  if (get('MCP_TOKENS_PASSPHRASE_FD') !== undefined) {
    return { problem: 'its env sets MCP_TOKENS_PASSPHRASE_FD, a file descriptor the client does not open (and it is read before any passphrase file)' };
  }
  const file = get('MCP_TOKENS_PASSPHRASE_FILE');
  if (file !== undefined) {
    // JSON env values are not expanded by a shell, and the client's working folder is unknown.
    if (!isAbsolute(file)) return { problem: `MCP_TOKENS_PASSPHRASE_FILE in its env (${file}) is not an absolute path` };
    try {
      const bytes = readSecure(file);
      if (bytes === undefined) return { problem: `MCP_TOKENS_PASSPHRASE_FILE in its env names ${file}, which does not exist` };
      bytes.fill(0);
    } catch (e) {
      if (!isVaultError(e)) throw e;
      return { problem: `MCP_TOKENS_PASSPHRASE_FILE in its env: ${e.message}${e.hint ? ` (${e.hint})` : ''}` };
    }
    return { ok: { via: 'passphrase-file', launcher: true, detail: `the passphrase file ${file} (MCP_TOKENS_PASSPHRASE_FILE in the server's env)` } };
  }
  if (get('MCP_TOKENS_PASSPHRASE') !== undefined) {
    return { ok: { via: 'passphrase-env', launcher: true, detail: "MCP_TOKENS_PASSPHRASE in the server's env: the passphrase sits in plaintext in this config; a 0600 file named by MCP_TOKENS_PASSPHRASE_FILE is better" } };
  }
  return undefined;
}

/**
 * The same for a remote server's headersHelper (Claude Code): `mcp-tokens headers` runs in Claude
 * Code's own environment, not in a server's `env`, so that is where a passphrase file is named.
 */
export function unlockForHelper(u: UnlockAtStart): UnlockAtStart {
  const here = (t: string): string =>
    t
      .replace("the server's env names no passphrase file", 'the headersHelper runs in the environment Claude Code starts from, which names no passphrase file')
      .replace(`add "MCP_TOKENS_PASSPHRASE_FILE": "<absolute path of a 0600 file holding the passphrase>" to the server's env`, 'set MCP_TOKENS_PASSPHRASE_FILE (the absolute path of a 0600 file holding the passphrase) in the environment Claude Code starts from');
  return { ...u, detail: here(u.detail), ...(u.fix !== undefined ? { fix: here(u.fix) } : {}) };
}
