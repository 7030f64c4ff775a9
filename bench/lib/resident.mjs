/**
 * What a launcher costs while the server it started lives: start `<launcher> … -- sleep 30`,
 * wait until the sleep exists, give the launcher a second to settle (a KDF worker's teardown is
 * asynchronous), read its /proc status, then stop it. Where the launcher replaced itself with the
 * child (process.execve on Node ≥ 22.15), nothing of it is left to measure: that is reported.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { procRss } from './measure.mjs';

const SETTLE_MS = 1000;

/** @returns {Promise<{ rss: number, anon: number, file: number } | { replaced: true }>} */
export async function residentRss({ cmd, args, env, cwd }) {
  const launcher = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  launcher.stderr.on('data', (d) => (stderr = (stderr + d).slice(-1000)));
  const exited = new Promise((r) => launcher.once('exit', r));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (launcher.exitCode !== null) throw new Error(`${cmd} ${args.join(' ')} exited ${launcher.exitCode} before its child slept: ${stderr}`);
      if (comm(launcher.pid) === 'sleep') return { replaced: true };
      if (children(launcher.pid).some((c) => comm(c) === 'sleep' || children(c).some((g) => comm(g) === 'sleep'))) break;
      if (Date.now() > deadline) throw new Error(`${cmd}: no sleeping child after 60 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return procRss(launcher.pid);
  } finally {
    // Every launcher measured forwards SIGTERM to its child; SIGKILL both if one does not.
    const kids = children(launcher.pid);
    launcher.kill('SIGTERM');
    const timer = setTimeout(() => {
      launcher.kill('SIGKILL');
      for (const k of kids) tryKill(k);
    }, 3000);
    await exited;
    clearTimeout(timer);
  }
}

function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function children(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function tryKill(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
