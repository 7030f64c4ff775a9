import { Command } from 'commander';
import { globals, vaultDir } from '../context.js';
import { data, info, json, table } from '../output.js';

export const backups = new Command('backups')
  .description("list encrypted backups (newest last), and migrate's file backups by run")
  .argument('[service]', 'a service or an instance (github@work)')
  .option('--json', 'machine-readable output')
  .action(async function (this: Command, service: string | undefined, opts: { json?: boolean }) {
    const { listBackups, BACKUPS_DIR } = await import('../../vault/backups.js');
    const { listFileBackups } = await import('../../vault/file-backups.js');
    const { join } = await import('node:path');
    const { checkServiceRef } = await import('../../names.js');
    if (service !== undefined) checkServiceRef(service);
    // Listing names needs no key, so no passphrase is asked; the directory is still checked.
    (await import('../../vault/vault.js')).Vault.backendOf(vaultDir(globals(this)));
    const dir = join(vaultDir(globals(this)), BACKUPS_DIR);
    const list = listBackups(dir, service);
    const rows = list.map((b) => ({ service: b.service, key: b.key, timestamp: b.stamp, date: b.date.toISOString(), file: b.file }));
    // migrate's copies of whole client configs belong to no one service: listed without one.
    const files = service === undefined ? listFileBackups(dir) : [];
    const fileRows = files.map((f) => ({ run: f.runId, date: f.date.toISOString(), file: `files/${f.file}` }));
    if (opts.json) return json(service === undefined && fileRows.length > 0 ? [...rows, ...fileRows.map((f) => ({ kind: 'file', ...f }))] : rows);
    if (rows.length === 0 && fileRows.length === 0) return info(service ? `No backups of ${service}.` : 'No backups.');
    if (rows.length > 0) data(table(['SERVICE', 'KEY', 'TIMESTAMP', 'DATE', 'FILE'], rows.map((r) => [r.service, r.key, r.timestamp, r.date, r.file])));
    if (fileRows.length > 0) {
      if (rows.length > 0) data('\n');
      data(table(['MIGRATE RUN', 'DATE', 'FILE'], fileRows.map((f) => [f.run, f.date, f.file])));
      info(`file backups: migrate's encrypted copies of the client configs it changed (undo the newest with: mcp-tokens migrate --undo; prune keeps the newest run)`);
    }
  });
