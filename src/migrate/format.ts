/**
 * The plan as data for `--dry-run --json` and as text lines for `--dry-run`. Values appear only
 * masked; the CLI prints these, the core never does.
 */
import { describeLeftover, leftovers } from './left.js';
import type { Candidate, FileChange, Leftover, MigrationPlan, PlanItem, Refusal } from './types.js';

/** A plan item as `migrate --dry-run --json` prints it: the candidate's facts, its value masked. */
export type PlanItemJSON = Pick<Candidate, 'kind' | 'source' | 'path' | 'line' | 'envName' | 'server' | 'arg' | 'project' | 'note' | 'service' | 'key'> & {
  value: string;
  action: PlanItem['action'];
  cleanup: PlanItem['cleanup'];
  reason?: string;
  warnings: string[];
};

export interface PlanJSON {
  pending: number;
  items: PlanItemJSON[];
  files: FileChange[];
  refused: Refusal[];
  /** Plaintext secrets the run would leave (what would make it exit 1). */
  left: Leftover[];
}

export function planToJSON(plan: MigrationPlan): PlanJSON {
  return {
    left: leftovers(plan, plan.items),
    pending: plan.pending,
    items: plan.items.map(itemToJSON),
    files: plan.files.map((f) => ({ ...f, servers: f.servers.map((s) => ({ ...s })) })),
    refused: plan.refused.map((r) => ({ ...r })),
  };
}

export function itemToJSON(i: PlanItem): PlanItemJSON {
  const c = i.candidate;
  return {
    kind: c.kind,
    source: c.source,
    ...(c.path !== undefined ? { path: c.path } : {}),
    ...(c.line !== undefined ? { line: c.line } : {}),
    ...(c.envName !== undefined ? { envName: c.envName } : {}),
    ...(c.server !== undefined ? { server: c.server } : {}),
    ...(c.arg !== undefined ? { arg: c.arg } : {}),
    ...(c.project !== undefined ? { project: c.project } : {}),
    ...(c.note !== undefined ? { note: c.note } : {}),
    service: c.service,
    key: c.key,
    value: c.masked,
    action: i.action,
    cleanup: i.cleanup,
    ...(i.reason !== undefined ? { reason: i.reason } : {}),
    warnings: i.warnings,
  };
}

const CLEANUP_TEXT: Record<PlanItem['cleanup'], string> = {
  unlink: 'file shredded and removed',
  rewrite: 'entry removed, server launched through mcp-tokens run',
  'remove-line': 'line removed',
  report: 'left as is',
  keep: 'left as is',
};

/** Human-readable lines, one per credential and per file change (no trailing newlines). */
export function describePlan(plan: MigrationPlan): string[] {
  const out: string[] = [];
  if (plan.items.length) out.push(`Plaintext credentials found: ${plan.items.length}`);
  for (const i of plan.items) {
    const c = i.candidate;
    const where = [c.path, c.line !== undefined ? `line ${c.line}` : undefined, c.envName].filter(Boolean).join(' ');
    const then = c.header && i.cleanup === 'rewrite' ? 'header removed, Claude Code reads it through headersHelper (mcp-tokens headers)' : CLEANUP_TEXT[i.cleanup];
    out.push(`  ${i.action.padEnd(8)} ${c.service} ${c.key} ${c.masked}  (${c.source}${where ? `: ${where}` : ''}) → ${then}`);
    if (c.note) out.push(`           ${c.note}`);
    if (i.reason) out.push(`           ${i.reason}`);
    for (const w of i.warnings) out.push(`           warning: ${w}`);
  }
  if (plan.files.length) out.push(`Files to change: ${plan.files.length} (each backed up, encrypted, first; undo with 'mcp-tokens migrate --undo')`);
  for (const f of plan.files) {
    // A followed symlink: the link as found, and the file that is rewritten (the link stays).
    const shown = f.target !== undefined ? `${f.path} → ${f.target} (symbolic link followed; its target is rewritten, the link stays)` : f.path;
    if (f.unlink) out.push(`  remove   ${shown}`);
    else if (f.removedLines.length) out.push(`  edit     ${shown}: remove line ${f.removedLines.join(', ')}`);
    else out.push(`  rewrite  ${shown}`);
    for (const s of f.servers) {
      const removed = s.removedEnv.length ? `env ${s.removedEnv.join(', ')} removed` : 'values moved out of its args';
      if (s.headers) out.push(`           server ${s.server.map(String).join('.')}: headers ${s.headers.removed.join(', ')} removed; headersHelper: ${s.headers.helper}`);
      else out.push(`           server ${s.server.map(String).join('.')}: ${removed}; command: ${s.launch.join(' ')}`);
      for (const k of s.keptEnv) out.push(`           env ${k.name} kept: ${k.reason}`);
      for (const d of s.duplicates ?? []) out.push(`           duplicate key removed: ${d}`);
      if (s.unlock) out.push(`           unlock at start: ${s.unlock.detail}${s.unlock.fix ? ` — ${s.unlock.fix}` : ''}`);
    }
  }
  for (const r of plan.refused) out.push(`Not read: ${r.path} ${r.reason}`);
  const left = leftovers(plan, plan.items);
  out.push(...describeLeft(left, plan.pending === 0 ? 'Left in plaintext' : 'Will be left in plaintext'));
  if (plan.pending === 0) out.push(left.length ? 'Nothing more to migrate.' : 'Nothing to migrate.');
  return out;
}

/** The list of what stays in plaintext, with why and what to do; nothing when empty. */
export function describeLeft(left: readonly Leftover[], title = 'Left in plaintext'): string[] {
  if (left.length === 0) return [];
  return [`${title}: ${left.length} (each with why, and what to do by hand)`, ...left.flatMap(describeLeftover)];
}

/**
 * Once per run, after the summary: the rewritten servers that will fail to start from a desktop
 * launcher, and what to do, grouped by what to do (each server's line in the plan says why).
 * Nothing when none will.
 */
export function describeUnlockSummary(files: readonly FileChange[]): string[] {
  const byFix = new Map<string, string[]>();
  for (const f of files) {
    for (const s of f.servers) {
      if (!s.unlock || s.unlock.launcher) continue;
      const fix = s.unlock.fix ?? "run 'mcp-tokens unlock' before starting the client";
      byFix.set(fix, [...(byFix.get(fix) ?? []), `  ${f.path}: server ${s.server.map(String).join('.')}`]);
    }
  }
  const n = [...byFix.values()].reduce((sum, l) => sum + l.length, 0);
  if (n === 0) return [];
  return [
    `Unlock: ${n} rewritten server${n === 1 ? '' : 's'} will fail to start from a desktop launcher (each one's "unlock at start" line above says why):`,
    ...[...byFix].flatMap(([fix, servers]) => [...servers, `  To start ${servers.length === 1 ? 'it' : 'them'}: ${fix}.`]),
  ];
}
