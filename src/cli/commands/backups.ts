import { Command } from 'commander';
import { globals, vaultDir } from '../context.js';
import { data, info, json, table } from '../output.js';

export const backups = new Command('backups')
  .description('list encrypted backups (newest last)')
  .argument('[service]', 'a service or an instance (github@work)')
  .option('--json', 'machine-readable output')
  .action(async function (this: Command, service: string | undefined, opts: { json?: boolean }) {
    const { listBackups, BACKUPS_DIR } = await import('../../vault/backups.js');
    const { join } = await import('node:path');
    const { checkServiceRef } = await import('../../names.js');
    if (service !== undefined) checkServiceRef(service);
    // Listing names needs no key, so no passphrase is asked; the directory is still checked.
    (await import('../../vault/vault.js')).Vault.backendOf(vaultDir(globals(this)));
    const list = listBackups(join(vaultDir(globals(this)), BACKUPS_DIR), service);
    const rows = list.map((b) => ({ service: b.service, key: b.key, timestamp: b.stamp, date: b.date.toISOString(), file: b.file }));
    if (opts.json) return json(rows);
    if (rows.length === 0) return info(service ? `No backups of ${service}.` : 'No backups.');
    data(table(['SERVICE', 'KEY', 'TIMESTAMP', 'DATE', 'FILE'], rows.map((r) => [r.service, r.key, r.timestamp, r.date, r.file])));
  });
