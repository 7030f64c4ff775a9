/**
 * Running a link's command: no shell, stdin closed (/dev/null), a timeout, stdout capped at
 * 64 KiB, the command's stderr passed to ours (never to stdout: `run` must stay stdio-clean),
 * one trailing newline removed. The output is validated as a stored value would be; a failure
 * names the command and its status, never the output.
 *
 * The command runs in a process group of its own (a new session: Node's `detached`), so the
 * timeout, the output cap and our own exit kill it with everything it started — a grandchild
 * that keeps stdout open (`sh -c 'sleep 30 & echo x'`) cannot stretch the timeout. Its
 * environment is ours without any variable that can carry a passphrase (launch/env.ts).
 */
import { spawn } from 'node:child_process';
import { basename, isAbsolute } from 'node:path';
import { VaultError, isVaultError } from '../errors.js';
import { scrubEnv } from '../launch/env.js';
import { checkValue } from '../services/index.js';
import type { Link } from './links.js';
import { findOnPath } from '../path-lookup.js';

export const MAX_LINK_OUTPUT = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** MCP_TOKENS_LINK_TIMEOUT (seconds) overrides the default 30 s. */
export function linkTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env['MCP_TOKENS_LINK_TIMEOUT']);
  return Number.isFinite(s) && s > 0 && s <= 600 ? s * 1000 : DEFAULT_TIMEOUT_MS;
}

/** The value a link's command prints, validated; FAILED (exit 1) otherwise. */
export async function resolveLink(link: Link, { timeoutMs = linkTimeoutMs() } = {}): Promise<string> {
  const name = basename(link.command[0]!);
  const fail = (why: string) =>
    new VaultError('FAILED', `the link for ${link.service} ${link.key} failed: ${name} ${why}`, {
      hint: `run the command yourself to see why (mcp-tokens list shows it), or link again: mcp-tokens link ${link.service} ${link.key} -- …`,
    });
  const out = await runCapped(link.command, timeoutMs, fail);
  let value = out.toString('utf8');
  out.fill(0);
  if (value.endsWith('\r\n')) value = value.slice(0, -2);
  else if (value.endsWith('\n')) value = value.slice(0, -1);
  if (value === '') throw fail('printed nothing');
  try {
    checkValue(link.service, link.key, value);
  } catch (e) {
    if (isVaultError(e)) throw fail(`printed a value that is not valid here (${e.message})`);
    throw e;
  }
  return value;
}

/**
 * The program to start: the absolute path `link` recorded, or — for a link made before paths were
 * recorded — the bare name looked up in PATH's absolute directories only (never `.`, an empty
 * entry or another relative one, which would run a file of whatever folder this runs in).
 */
function program(cmd: string, fail: (why: string) => VaultError): string {
  if (isAbsolute(cmd)) return cmd;
  if (cmd.includes('/')) throw fail('is a relative path (link it again with its absolute path)');
  const found = findOnPath(cmd, process.env['PATH']);
  if (!found) throw fail("was not found in PATH's absolute directories");
  return found;
}

function runCapped(command: readonly string[], timeoutMs: number, fail: (why: string) => VaultError): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const file = program(command[0]!, fail);
    const child = spawn(file, command.slice(1), { shell: false, stdio: ['ignore', 'pipe', 'inherit'], env: scrubEnv(process.env), detached: true });
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const release = track(child.pid);
    const finish = (err: VaultError | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      release();
      const all = Buffer.concat(chunks);
      for (const c of chunks) c.fill(0);
      if (err) {
        all.fill(0);
        reject(err);
      } else resolve(all);
    };
    // A timeout or a flood ends the whole group at once and settles now: whatever of it is left
    // (a grandchild that left the group) no longer holds us.
    const stop = (why: string) => {
      killGroup(child.pid);
      child.stdout.destroy();
      finish(fail(why));
    };
    const timer = setTimeout(() => stop(`did not finish within ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_LINK_OUTPUT) stop(`printed more than ${MAX_LINK_OUTPUT / 1024} KiB`);
      else chunks.push(b);
    });
    child.on('error', (e: NodeJS.ErrnoException) => finish(fail(`could not be started (${e.code ?? 'error'})`)));
    child.on('close', (code, signal) => {
      if (code !== 0) return finish(fail(signal ? `was killed by ${signal}` : `exited with status ${code}`));
      finish(undefined);
    });
  });
}

/** The process groups of link commands still running, killed if this process exits or is stopped. */
const live = new Set<number>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function killAll(): void {
  for (const pid of live) killGroup(pid);
  live.clear();
}

/** A signal that would have ended us ends the link commands too, then us as it would have. */
function onSignal(sig: NodeJS.Signals): void {
  killAll();
  unhook();
  process.kill(process.pid, sig);
}

function hook(): void {
  process.on('exit', killAll);
  for (const sig of SIGNALS) process.on(sig, onSignal);
}

function unhook(): void {
  process.off('exit', killAll);
  for (const sig of SIGNALS) process.off(sig, onSignal);
}

function track(pid: number | undefined): () => void {
  if (pid === undefined) return () => {};
  if (live.size === 0) hook();
  live.add(pid);
  return () => {
    if (live.delete(pid) && live.size === 0) unhook();
  };
}
