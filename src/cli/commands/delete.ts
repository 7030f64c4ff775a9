import { Command } from 'commander';
import { isVaultError, VaultError } from '../../errors.js';
import { openVault } from '../context.js';
import { info } from '../output.js';

export const del = new Command('delete')
  .description('delete a credential, or every key of a service (each value is backed up first)')
  .argument('<service>')
  .argument('[key]', 'omit to delete every key of the service')
  .option('--force', 'also delete an entry that fails its integrity check (it cannot be backed up)')
  .action(async function (this: Command, service: string, key: string | undefined, opts: { force?: boolean }) {
    const vault = await openVault(this);
    try {
      const { deleted, backups } = await vault.delete(service, key, { force: opts.force === true }).catch(async (e: unknown) => {
        // `delete githb`: the service itself has nothing stored; name the near miss as load and verify do
        if (!isVaultError(e, 'NOT_FOUND')) throw e;
        const stored = await vault.services();
        if (stored.includes(service)) throw e;
        const { notStoredHint } = await import('../suggest.js');
        throw new VaultError('NOT_FOUND', e.message, { hint: await notStoredHint(service, stored) });
      });
      info(`Deleted ${deleted.map((n) => n.replace('_', ' ')).join(', ')}.${backups.length ? ` Backups: ${backups.map((b) => `backups/${b}`).join(', ')}` : ''}`);
    } finally {
      vault.close();
    }
  });
