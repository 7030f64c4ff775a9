/**
 * What plaintext a migration leaves: the secrets the scanners could only report, files that may
 * hold some but could not be read, and every credential of a secret field whose plaintext stays
 * (conflict, invalid, kept config entry, still set in the environment, rc line not removed).
 * `migrate` exits 0 only when this list is empty.
 */
import { isSecretField } from './known.js';
import { planSources } from './plan.js';
import { samePath } from './rewrite.js';
import type { Leftover, MigrationPlan, PlanItem } from './types.js';

function stepFor(i: PlanItem): string {
  const c = i.candidate;
  const where = c.path ?? 'the environment';
  if (c.kind === 'env') return `unset ${c.envName} where it is set (a shell startup file, a launcher, a service unit)`;
  if (i.action === 'invalid') return `check the value; store the right one with 'mcp-tokens store ${c.service} ${c.key} <value>', remove it from ${where} by hand, then re-run mcp-tokens migrate`;
  if (i.action === 'conflict') return 'then re-run mcp-tokens migrate';
  if (c.kind === 'shell-rc' && i.cleanup === 'report' && !/by hand/.test(i.reason ?? '')) return 'mcp-tokens migrate --shell-rc';
  return `fix what the reason says, then re-run mcp-tokens migrate (or remove it from ${where} by hand)`;
}

/** A server's name: its key, or (Continue's list) its `name`. */
function serverName(plan: MigrationPlan, path: string | undefined, server: readonly (string | number)[]): string {
  const last = server.at(-1);
  if (typeof last === 'string' || path === undefined) return String(last);
  return planSources(plan)?.configs.get(path)?.servers.find((s) => samePath(s.path, server))?.name ?? String(last);
}

export function leftovers(plan: MigrationPlan, items: readonly PlanItem[]): Leftover[] {
  const out: Leftover[] = [];
  for (const i of items) {
    const c = i.candidate;
    if (i.cleanup !== 'keep' && i.cleanup !== 'report') continue;
    if (!isSecretField(c.service, c.key)) continue; // a URL, host or user left in place is no secret
    const where = [c.line !== undefined ? `line ${c.line}` : undefined, c.server ? `server '${serverName(plan, c.path, c.server)}'` : undefined, c.envName ? (c.kind === 'env' ? `environment variable ${c.envName}` : c.arg !== undefined ? `args[${c.arg}] (${c.envName})` : `env ${c.envName}`) : undefined]
      .filter(Boolean)
      .join(' ');
    out.push({ ...(c.path !== undefined ? { path: c.path } : {}), where: where || c.source, masked: c.masked, reason: i.reason ?? 'left in place', step: stepFor(i) });
  }
  out.push(...plan.left);
  // Secrets under duplicate keys clients never read: gone with their server's rewrite, else left.
  for (const [path, config] of planSources(plan)?.configs ?? []) {
    for (const d of config.shadowed) {
      const rewritten = d.server !== undefined && items.some((i) => i.cleanup === 'rewrite' && i.candidate.path === path && i.candidate.server !== undefined && samePath(i.candidate.server, d.server!));
      if (rewritten) continue;
      out.push({
        path,
        where: d.where,
        masked: d.masked,
        reason: `${d.why} under a key that appears again later in the same object: clients read only the last one, so this value is never used, but it is plaintext in the file all the same`,
        step: 'delete this earlier duplicate by hand (keep the last one, which clients use), then re-run mcp-tokens migrate',
      });
    }
  }
  for (const r of plan.refused) {
    if (r.mayHoldSecrets) out.push({ path: r.path, where: 'the whole file', masked: '', reason: r.reason, step: r.step ?? 'open it and move any token out of it by hand' });
  }
  return out;
}

/** One entry as text lines (no trailing newline). */
export function describeLeftover(l: Leftover): string[] {
  const head = [l.path, l.where].filter(Boolean).join(': ');
  return [`  ${head}${l.masked ? ` ${l.masked}` : ''}`, `      why: ${l.reason}`, `      do:  ${l.step}`];
}
