import { Command } from 'commander';
import { VaultError } from '../../errors.js';
import { openVault } from '../context.js';
import { data, info, json, printError, table } from '../output.js';

export const log = new Command('log')
  .description('show the access log: which command and program read which credentials, and when')
  .argument('[service]', 'only records that read this service (github, github@work…)')
  .option('--since <age>', 'only records newer than this age (7d, 12h, 2w)')
  .option('--who <service>', 'which programs had this service\'s credentials: one line per program')
  .option('--json', 'machine-readable output')
  .option('--off', 'stop recording (recorded in the log itself); --on starts again')
  .option('--on', 'record again after --off')
  .addHelpText(
    'after',
    `
Examples:
  mcp-tokens log --since 7d
  mcp-tokens log --who github          # which programs had the GitHub token
  mcp-tokens log github --json

load, run, export, verify and the unlock agent's opens each append one sealed record: the time,
the command, the credentials read (names, never values), the program run started (as given and
its path on PATH), the parent process's name, and 'MCP client' when stdin was a pipe. Records
are sealed under the vault's key and chained, so an edited, removed or cut-off record is
reported (exit 6); see SECURITY.md for what is and is not detected. The log keeps about 2 MiB
(access.log and access.log.1). Reading it needs the vault's key (the passphrase or the agent).`,
  )
  .action(async function (this: Command, service: string | undefined, opts: { since?: string; who?: string; json?: boolean; off?: boolean; on?: boolean }) {
    const { checkServiceRef, parseEntryName } = await import('../../names.js');
    const { parseDuration } = await import('../time.js');
    if (opts.on && opts.off) throw new VaultError('USAGE', '--on and --off together', { hint: 'mcp-tokens log --off   (or --on)' });
    if (service !== undefined) checkServiceRef(service);
    if (opts.who !== undefined) checkServiceRef(opts.who);
    const since = opts.since === undefined ? undefined : Date.now() - parseDuration(opts.since);
    const vault = await openVault(this);
    try {
      const { appendRecord, readLog, logState } = await import('../../audit/log.js');
      if (opts.on || opts.off) {
        const state = opts.on ? 'on' : 'off';
        if (logState(vault.dir) === state) return info(`The access log is already ${state}.`);
        const { accessRecord } = await import('../../audit/access.js');
        await appendRecord(vault.dir, () => vault.key(), accessRecord({ cmd: `log --${state}`, names: [] }), { state });
        return info(state === 'off' ? 'The access log is off: nothing is recorded until mcp-tokens log --on (this change is recorded).' : 'The access log is on.');
      }
      const report = await readLog(vault.dir, await vault.keys());
      const serviceOf = (name: string) => parseEntryName(name)?.service;
      const filter = opts.who ?? service;
      const records = report.records.filter(
        (r) => (since === undefined || Date.parse(r.t) >= since) && (filter === undefined || r.names.some((n) => serviceOf(n) === filter)),
      );
      if (opts.who !== undefined) {
        const by = new Map<string, { program: string; path: string; parent: string; client: string; command: string; first: string; last: string; times: number }>();
        for (const r of records) {
          const program = r.program ?? `(mcp-tokens ${r.cmd})`;
          const row = { program, path: r.path ?? '-', parent: r.parent ?? '-', client: r.client ?? '-', command: r.cmd };
          const id = JSON.stringify(row);
          const seen = by.get(id);
          if (seen) {
            seen.last = r.t;
            seen.times++;
          } else by.set(id, { ...row, first: r.t, last: r.t, times: 1 });
        }
        const rows = [...by.values()];
        if (opts.json) json({ service: opts.who, programs: rows, problems: report.problems });
        else if (rows.length === 0) info(`No record of ${opts.who} being read${opts.since ? ` in the last ${opts.since}` : ''}.`);
        else data(table(['PROGRAM', 'PATH', 'PARENT', 'CLIENT', 'COMMAND', 'FIRST', 'LAST', 'TIMES'], rows.map((r) => [r.program, r.path, r.parent, r.client, r.command, r.first, r.last, String(r.times)])));
      } else if (opts.json) {
        json({ records, problems: report.problems, unreadable: report.unreadable });
      } else if (records.length === 0) {
        info(`No records${filter ? ` of ${filter}` : ''}${opts.since ? ` in the last ${opts.since}` : ''}.`);
      } else {
        data(table(['TIME', 'COMMAND', 'CREDENTIALS', 'PROGRAM', 'PARENT', 'CLIENT'], records.map((r) => [r.t, r.cmd, r.names.join(' ') || '-', r.path ?? r.program ?? '-', r.parent ?? '-', r.client ?? '-'])));
      }
      if (logState(vault.dir) === 'off') info('note: the access log is off (mcp-tokens log --on).');
      if (report.unreadable > 0) info(`note: ${report.unreadable} record(s) are sealed under a key this vault no longer holds (written while a rekey ran).`);
      if (report.problems.length > 0) {
        for (const p of report.problems) printError(`integrity check failed: ${p}`);
        throw new VaultError('INTEGRITY', `the access log does not verify (${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} above)`, {
          hint: 'someone with your uid edited, cut or replaced it; the records shown are the ones that verify. See SECURITY.md, "Access log"',
        });
      }
    } finally {
      vault.close();
    }
  });
