/**
 * Whole-process timing: one sample is one spawn, wall clock from spawn to reaped exit, as a shell
 * or an MCP client sees it. The rows of a group are sampled round-robin (row 1, row 2, …, then
 * again), so a burst of load on this shared 2-core machine hits every row alike and same-run
 * ratios stay meaningful. The first rounds are warm-up. Each sample runs under GNU time, whose
 * %M (the child's ru_maxrss) gives peak RSS without a second run; its ~1 ms applies to every row.
 * CPU time (user+sys, from this process's cutime/cstime) is a mean per run: less load-sensitive.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
export const HAVE_GNU_TIME = existsSync(GNU_TIME);
const scratch = mkdtempSync(join(tmpdir(), 'mcp-tokens-bench-time-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));

/**
 * @typedef {object} Job
 * @property {string} id
 * @property {string} cmd
 * @property {string[]} args
 * @property {Record<string,string>} [env]
 * @property {string} [cwd]
 * @property {string} [input]           stdin bytes
 * @property {() => void} [setup]       untimed, before every sample (e.g. reset what a store changed)
 * @property {number} [expect]          exit code (default 0)
 */

/** Run once, outside timing, and fail loudly on a wrong exit code: a broken row would lie. */
export function check(job) {
  job.setup?.();
  const r = spawnSync(job.cmd, job.args, { env: job.env, cwd: job.cwd, input: job.input ?? '', encoding: 'utf8' });
  if (r.status !== (job.expect ?? 0)) {
    throw new Error(`${job.id}: exited ${r.status ?? r.signal}, expected ${job.expect ?? 0}: ${String(r.stderr).slice(0, 500)}`);
  }
  return r;
}

/** Sample every job `runs` times after `warmup` rounds, interleaved; one result per job id. */
export function timeGroup(jobs, { runs, warmup }) {
  for (const job of jobs) check(job);
  const acc = new Map(jobs.map((j) => [j.id, { wall: [], rss: [], cpuTicks: 0 }]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const job of jobs) {
      const s = sample(job);
      if (round < warmup) continue;
      const a = acc.get(job.id);
      a.wall.push(s.wall);
      if (s.rss !== undefined) a.rss.push(s.rss);
      a.cpuTicks += s.cpuTicks;
    }
  }
  const tick = 1000 / 100; // ms per clock tick (USER_HZ is 100 on Linux)
  return Object.fromEntries(
    [...acc].map(([id, a]) => [
      id,
      { ...summarize(a.wall), cpu: (a.cpuTicks * tick) / a.wall.length, rss: a.rss.length ? summarize(a.rss).median : undefined },
    ]),
  );
}

function sample(job) {
  job.setup?.();
  const out = join(scratch, 'rss');
  const [cmd, args] = HAVE_GNU_TIME ? [GNU_TIME, ['-f', '%M', '-o', out, job.cmd, ...job.args]] : [job.cmd, job.args];
  const before = childTicks();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: job.env, cwd: job.cwd, input: job.input ?? '', stdio: ['pipe', 'ignore', 'ignore'] });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuTicks = childTicks() - before;
  if (r.status !== (job.expect ?? 0)) throw new Error(`${job.id}: exited ${r.status ?? r.signal} while timing`);
  const rss = HAVE_GNU_TIME ? Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024 : undefined;
  return { wall, rss, cpuTicks };
}

/** user+sys clock ticks of this process's reaped children (/proc/self/stat cutime + cstime). */
function childTicks() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]); // fields 16 and 17 of proc(5), counted from state
}

export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))];
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: mid, p10: at(0.1), p90: at(0.9), n: s.length };
}

/** VmRSS, RssAnon and RssFile (MiB) of a live process, from /proc. */
export function procRss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: mib('VmRSS'), anon: mib('RssAnon'), file: mib('RssFile') };
}
