/**
 * Helpers for the agent suites: a vault with its own stand-in for /run/user/<uid> (`<home>/run`,
 * test/helpers/cli.ts testRoots: agents of parallel tests never meet), and cleanup that locks every agent a test started (by its pid, never by name).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { PASSPHRASE, passphraseEnv, runCli, tempHome, testRoots, vaultDir, type CliResult, type UserRoots } from '../helpers/cli.js';
import { seedVault, type Entry } from '../cli/support.js';
import { signalTracked, track, type Tracked } from '../helpers/pids.js';

export interface AgentVault {
  home: string;
  dir: string;
  /** The stand-in for /run/user/<uid> (made 0700). */
  run: string;
  /** Stand-ins for /run/user/<uid>, /tmp and the home directory, given to every CLI child. */
  roots: UserRoots;
  /** No passphrase source at all (XDG_RUNTIME_DIR is set, and must not matter). */
  env: Record<string, string>;
  /** MCP_TOKENS_PASSPHRASE_FILE. */
  passEnv: Record<string, string>;
}

// By pid and start time (test/helpers/pids.ts): most of these agents locked long ago, and their
// pids may belong to other processes by the end of the file.
const agents: Tracked[] = [];
afterAll(() => {
  for (const a of agents) signalTracked(a, 'SIGTERM');
});

export async function agentVault(entries: readonly Entry[], passphrase = PASSPHRASE): Promise<AgentVault> {
  const home = tempHome('mcpt-agent-');
  await seedVault(home, entries, passphrase);
  const run = join(home, 'run');
  mkdirSync(run, { mode: 0o700 });
  const env = { XDG_RUNTIME_DIR: run };
  return { home, dir: vaultDir(home), run, roots: testRoots(home), env, passEnv: { ...env, ...passphraseEnv(home, passphrase) } };
}

export function cli(v: AgentVault, args: string[], opts: { withPassphrase?: boolean; input?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  const env = { ...(opts.withPassphrase ? v.passEnv : v.env), ...opts.env };
  return runCli(args, { home: v.home, env, roots: v.roots, ...(opts.input === undefined ? {} : { input: opts.input }), ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
}

export interface StatusJson {
  unlocked: boolean;
  vault: string;
  pid?: number;
  since?: string;
  until?: string | null;
  idleMs?: number | null;
  keyId?: string;
}

/** unlock with the passphrase file; returns the agent's status (its pid is cleaned up after the file). */
export async function unlockVault(v: AgentVault, extra: string[] = []): Promise<StatusJson & { unlock: CliResult }> {
  const r = await cli(v, ['unlock', ...extra], { withPassphrase: true });
  expect(r.code, r.stderr).toBe(0);
  const s = await status(v);
  expect(s.unlocked).toBe(true);
  agents.push(track(s.pid!));
  return { ...s, unlock: r };
}

export async function status(v: AgentVault, env: Record<string, string> = v.env): Promise<StatusJson> {
  const r = await runCli(['unlock', '--status', '--json'], { home: v.home, env, roots: v.roots });
  expect([0, 3], r.stderr).toContain(r.code);
  return JSON.parse(r.stdout) as StatusJson;
}

/** Alive and not a zombie (an exited agent whose new parent has not reaped it yet counts as gone). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Wait until cond() holds (checked every 50 ms), at most ms. */
export async function until(cond: () => boolean, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

export function procText(pid: number, what: 'cmdline' | 'environ'): string {
  return readFileSync(`/proc/${pid}/${what}`).toString('utf8');
}
