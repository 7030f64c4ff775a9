import { Command } from 'commander';
import { globals, vaultDir } from '../context.js';
import { info, warn } from '../output.js';

export const lock = new Command('lock')
  .description('make the unlock agent forget the vault key now (it zeroes the key and exits)')
  .action(async function (this: Command) {
    const dir = vaultDir(globals(this));
    const { lock: stop } = await import('../../agent/start.js');
    const r = await stop(dir);
    if (r.notice) warn(`${r.notice}; removed it`);
    info(r.locked ? `Locked ${dir}.` : `${dir} was not unlocked; nothing to lock.`);
  });
