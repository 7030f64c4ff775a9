import { Command } from 'commander';
import { openVault } from '../context.js';
import { info, progress } from '../output.js';
import { parseDuration } from '../time.js';

export const prune = new Command('prune')
  .description('delete backups older than a given age')
  .option('--older-than <age>', 'age such as 90d, 12h, 2w', '90d')
  .action(async function (this: Command, opts: { olderThan: string }) {
    const ms = parseDuration(opts.olderThan);
    const vault = await openVault(this);
    try {
      const shown = progress('Removing backups');
      let removed: Awaited<ReturnType<typeof vault.prune>>;
      try {
        removed = await vault.prune(ms, shown.step);
      } finally {
        shown.end();
      }
      info(removed.length === 0 ? `No backups older than ${opts.olderThan}.` : `Removed ${removed.length} backup${removed.length === 1 ? '' : 's'} older than ${opts.olderThan}.`);
    } finally {
      vault.close();
    }
  });
