/**
 * Where the time of one run goes: `node --cpu-prof` on the command, then its samples' self time
 * summed by kind (Node's own start-up and module loader, commander, our dist modules, the
 * keyring addon, libsodium, GC, idle = waiting on D-Bus or a worker) and the top functions.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KINDS = [
  ['idle (waiting: D-Bus, worker)', (f) => f.functionName === '(idle)'],
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
  ['libsodium (JS + WebAssembly)', (f) => /libsodium|^wasm/.test(f.url)],
  ['commander', (f) => f.url.includes('/node_modules/commander/')],
  ['@napi-rs/keyring (JS)', (f) => f.url.includes('/node_modules/@napi-rs/')],
  ['mcp-tokens (dist/, bin/)', (f) => /\/(dist|bin)\//.test(f.url)],
  ['Node start-up, module loading, fs', (f) => f.url.startsWith('node:') || f.url === ''],
];

/** Profile `node <args…>` once; returns { total, kinds: [name, ms][], top: [label, ms][] }. */
export function profile(job) {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-tokens-bench-prof-'));
  try {
    const r = spawnSync(job.cmd, ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', dir, ...job.args], {
      env: job.env,
      input: job.input ?? '',
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    if (r.status !== (job.expect ?? 0)) throw new Error(`${job.id}: exited ${r.status} under --cpu-prof: ${r.stderr}`);
    const file = readdirSync(dir).find((n) => n.endsWith('.cpuprofile'));
    return summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarizeProfile(p) {
  const self = new Map();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const kinds = new Map(KINDS.map(([k]) => [k, 0]));
  const fns = new Map();
  let total = 0;
  for (const n of p.nodes) {
    const ms = self.get(n.id) ?? 0;
    if (!ms) continue;
    total += ms;
    const f = n.callFrame;
    const kind = KINDS.find(([, test]) => test(f))?.[0] ?? 'other (V8, native)';
    kinds.set(kind, (kinds.get(kind) ?? 0) + ms);
    const label = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist|bin)\//, '$1/')}`.trim();
    fns.set(label, (fns.get(label) ?? 0) + ms);
  }
  const top = [...fns].sort((a, b) => b[1] - a[1]).slice(0, 6);
  return { total, kinds: [...kinds].filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]), top };
}

export function renderProfile(id, prof) {
  const kinds = prof.kinds.map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join('; ');
  const top = prof.top.map(([f, ms]) => `${f} ${ms.toFixed(1)}`).join('; ');
  return `- **${id}** (${prof.total.toFixed(0)} ms profiled): ${kinds}. Top functions: ${top}.`;
}
