import { Command } from 'commander';
import { openVault } from '../context.js';
import { info, progress } from '../output.js';
import { parseDuration } from '../time.js';

export const prune = new Command('prune')
  .description("delete backups older than a given age (migrate's file backups too, except the newest run's)")
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
      const { backups, files } = removed;
      const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
      if (backups.length === 0 && files.length === 0) return info(`No backups older than ${opts.olderThan}.`);
      const parts = [...(backups.length > 0 ? [plural(backups.length, 'backup')] : []), ...(files.length > 0 ? [`${plural(files.length, 'file backup')} of migrate (${plural(new Set(files.map((f) => f.runId)).size, 'run')})`] : [])];
      info(`Removed ${parts.join(' and ')} older than ${opts.olderThan}.`);
    } finally {
      vault.close();
    }
  });
