import { Command } from 'commander';
import { openVault } from '../context.js';
import { info } from '../output.js';

export const restore = new Command('restore')
  .description('put a backed-up value back (the current value is backed up first)')
  .argument('<service>')
  .argument('<key>')
  .option('--at <timestamp>', 'which backup (its timestamp, or a prefix of it, as shown by `backups`); default the newest')
  .action(async function (this: Command, service: string, key: string, opts: { at?: string }) {
    const vault = await openVault(this);
    try {
      const { from, result } = await vault.restore(service, key, opts.at);
      if (!result.changed) info(`${service} ${key} already holds the value of backup ${from.stamp}; nothing changed.`);
      else info(`Restored ${service} ${key} from ${from.stamp}.${result.backup ? ` The value it replaced is in backups/${result.backup}.` : ''}`);
    } finally {
      vault.close();
    }
  });
