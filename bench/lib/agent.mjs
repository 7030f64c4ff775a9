/**
 * The unlock agent in the bench: one agent for a file vault (its runtime directory inside the
 * bench root, so it never meets a real one), and what it costs while idle.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './fixtures.mjs';

/** Unlock vault (whose env carries the passphrase); returns an env with no passphrase that reaches the agent. */
export function startAgent(root, vault) {
  const run = join(root, 'agent-run');
  mkdirSync(run, { mode: 0o700, recursive: true });
  const withPass = { ...vault.env, XDG_RUNTIME_DIR: run };
  const r = spawnSync(process.execPath, [BIN, 'unlock', '--timeout', '1h'], { env: withPass, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`unlock failed: ${r.stderr}`);
  const { MCP_TOKENS_PASSPHRASE: _drop, ...env } = withPass;
  const st = spawnSync(process.execPath, [BIN, 'unlock', '--status', '--json'], { env, encoding: 'utf8' });
  const pid = JSON.parse(st.stdout).pid;
  const stop = () => spawnSync(process.execPath, [BIN, 'lock'], { env, stdio: 'ignore' });
  return { env, pid, stop };
}

/**
 * RSS (MiB: total, anonymous, file-backed) of the agent once it has idled, and the CPU ticks
 * (utime + stime) it used over `ms` of idleness: 0 means no polling loop.
 */
export async function agentIdle(pid, ms = 10_000) {
  const ticks = () => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  };
  await new Promise((r) => setTimeout(r, 2000)); // let the last request's work settle
  const before = ticks();
  await new Promise((r) => setTimeout(r, ms));
  const cpuTicks = ticks() - before;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)[1]) / 1024;
  return { rss: mib('VmRSS'), anon: mib('RssAnon'), file: mib('RssFile'), cpuTicks, idleMs: ms };
}

/** RSS (MiB) of bare Node doing nothing (`setInterval`), after the same settling: the floor. */
export async function nodeIdle(ms = 4000) {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore', env: {} });
  await new Promise((r) => setTimeout(r, ms));
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
  child.kill('SIGTERM');
  return rss;
}
