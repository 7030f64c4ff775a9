/**
 * The human form of verify reports, for stderr: one row per service (service, status, result),
 * then indented lines for what to run, warnings, and the age/expiry facts. Pure: the CLI decides
 * where it goes and whether colour is on (--no-color, NO_COLOR, not a TTY).
 */
import type { ServiceReport } from './run.js';

export interface TableOptions {
  readonly color: boolean;
}

const ANSI = { red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', dim: '\x1b[2m', bold: '\x1b[1m', reset: '\x1b[0m' };
type Tint = keyof typeof ANSI;

/**
 * Every text printed from a report: controls other than a newline become spaces and format
 * characters (zero-width, bidi) go, so nothing a server said can move the cursor, recolour the
 * terminal or hide text. The report was scrubbed of secrets already (redactReport), with these
 * characters ignored, so this cannot join the pieces of a secret back together.
 */
function printable(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/\p{Cf}/gu, '');
}

export function formatVerifyTable(reports: readonly ServiceReport[], opts: TableOptions): string {
  const paint = (tint: Tint, text: string): string => (opts.color ? `${ANSI[tint]}${text}${ANSI.reset}` : text);
  const nameWidth = Math.max('SERVICE'.length, ...reports.map((r) => r.service.length));
  const statusWidth = Math.max('STATUS'.length, ...reports.map((r) => r.status.length));
  const lines = [paint('bold', `${'SERVICE'.padEnd(nameWidth)}  ${'STATUS'.padEnd(statusWidth)}  RESULT`)];

  for (const r of reports) {
    // Pad before painting: escape codes would otherwise count as width.
    const status = paint(statusTint(r), r.status.padEnd(statusWidth));
    lines.push(`${r.service.padEnd(nameWidth)}  ${status}  ${printable(r.message)}`);
    for (const f of r.fields) {
      if (f.status === 'missing' && f.message) lines.push(`  ${paint('red', 'run:')} ${printable(f.message)}`);
      if (f.status === 'bad-format' && f.message && !r.message.startsWith(`${f.key}:`)) {
        lines.push(`  ${paint('red', `${printable(f.key)}:`)} ${printable(f.message)}`);
      }
    }
    for (const w of r.warnings) lines.push(`  ${paint('yellow', 'warning:')} ${printable(w)}`);
    const facts = factsOf(r);
    if (facts) lines.push(`  ${paint('dim', facts)}`);
  }

  const failed = reports.filter((r) => !r.ok).length;
  // A skipped live check (offline, no check for the service) is not "ok": counted on its own.
  const skipped = reports.filter((r) => r.ok && r.status === 'skipped').length;
  const warned = reports.filter((r) => r.ok && r.warnings.length > 0).length;
  const summary = `${reports.length} ${reports.length === 1 ? 'service' : 'services'}: ${reports.length - failed - skipped} ok, ${failed} failed${
    skipped ? `, ${skipped} skipped (not checked live)` : ''
  }${warned ? `, ${warned} with warnings` : ''}`;
  lines.push('', failed ? paint('red', summary) : paint('green', summary));
  return `${lines.join('\n')}\n`;
}

function statusTint(r: ServiceReport): Tint {
  if (!r.ok) return 'red';
  if (r.status === 'skipped') return 'dim';
  return r.warnings.length > 0 ? 'yellow' : 'green';
}

function factsOf(r: ServiceReport): string {
  const facts: string[] = [];
  if (r.ageDays !== null) facts.push(`stored ${r.ageDays} ${r.ageDays === 1 ? 'day' : 'days'} ago`);
  if (r.expiresAt !== null && r.expiresInDays !== null) {
    const date = r.expiresAt.slice(0, 10);
    facts.push(r.status === 'expired' ? `expired ${date}` : `expires ${date} (in ${r.expiresInDays} days)`);
  }
  return facts.join(' · ');
}
