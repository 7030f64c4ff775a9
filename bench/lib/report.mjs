/** The benchmark's one table (Markdown, readable as plain text too), its targets and notes. */
import { cpus, loadavg, release, totalmem } from 'node:os';

export function machineLine() {
  const cpu = cpus();
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}; load average at the start ${load}`;
}

/** Each row is divided by the floor of its group (the scale rows by their empty-vault twin). */
function floorOf(id, group) {
  if (group === 'start-up') return "node -e ''";
  if (group === 'hot path') return /^(file|floor: file)/.test(id) ? 'floor: file read (default)' : 'floor: keychain read';
  if (group === 'keychain' || group === 'unlock agent and what it is compared with') return 'floor: keychain read';
  const preset = /--kdf (\w+)/.exec(group)?.[1];
  if (preset) return `floor: file read (${preset})`;
  if (id.includes('10,000 backups') && !id.startsWith('prune')) return id.replace('10,000 backups', 'empty backups/');
  return undefined;
}

export function renderReport({ machine, results, resident, targets, notes, profiled, opts, seconds }) {
  const lines = [];
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  lines.push(`Machine: ${machine}; load average at the end ${load}.`);
  lines.push(`Medians of ${opts.runs} runs after ${opts.warmup} warm-up unless noted; rows of a group sampled round-robin.`, '');
  lines.push('| group | what | median ms | p10–p90 ms | CPU ms/run | peak RSS MiB | × floor |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [id, r] of Object.entries(results)) {
    const f = floorOf(id, r.group);
    const ratio = f && f !== id && results[f] ? `${(r.median / results[f].median).toFixed(2)}` : f === id ? '1.00' : '';
    lines.push(
      `| ${r.group} | ${id}${r.n < opts.runs ? ` (n=${r.n})` : ''} | ${r.median.toFixed(1)} | ${r.p10.toFixed(0)}–${r.p90.toFixed(0)} | ${r.cpu.toFixed(0)} | ${r.rss === undefined ? '' : r.rss.toFixed(1)} | ${ratio} |`,
    );
  }
  if (Object.keys(resident).length) lines.push('', '| resident while the child sleeps | VmRSS MiB | RssAnon MiB | RssFile MiB |', '| --- | ---: | ---: | ---: |');
  for (const [id, v] of Object.entries(resident)) {
    if ('replaced' in v) lines.push(`| ${id} | replaced by the child (execve) | | |`);
    else lines.push(`| ${id} | ${v.rss.toFixed(1)} | ${v.anon.toFixed(1)} | ${v.file.toFixed(1)} |`);
  }
  lines.push('', '| target | status | this run |', '| --- | --- | --- |');
  for (const t of targets) lines.push(`| ${t.name} | ${t.status === 'met' ? 'met' : `**${t.status}**`} | ${t.detail} |`);
  if (profiled.length) lines.push('', 'Profiles (one `node --cpu-prof` run each; self time in ms by kind):', '', ...profiled);
  if (notes.length) lines.push('', 'Notes:', '', ...notes.map((n) => `- ${n}`));
  lines.push('', `Total bench time: ${seconds.toFixed(0)} s.`, '');
  return lines.join('\n');
}
