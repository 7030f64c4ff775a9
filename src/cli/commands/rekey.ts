import { Command } from 'commander';
import { openVault } from '../context.js';
import { info, progress, warn } from '../output.js';

export const rekey = new Command('rekey')
  .description('make a new data key and re-encrypt every entry and backup with it')
  .addHelpText(
    'after',
    `
Use it when a copy of the vault directory (or of the keychain's vault-key) may have leaked
together with its passphrase. The new key is recorded beside the old one first, so an
interrupted rekey leaves everything readable; running rekey again finishes it.

rekey keeps the passphrase: if it leaked, change it too (mcp-tokens passwd). And neither
command makes a leaked copy useless: every token in it was readable by whoever holds it, so
create a new token at each service, store it (mcp-tokens store <service> token), then revoke
the old one there.`,
  )
  .action(async function (this: Command) {
    const vault = await openVault(this, { agent: false });
    try {
      const shown = progress('Re-encrypting');
      let r: Awaited<ReturnType<typeof vault.rekey>>;
      try {
        r = await vault.rekey(undefined, shown.step);
      } finally {
        shown.end();
      }
      if (r.finished) info('Finished an earlier, interrupted rekey first.');
      info(`New data key in place; re-encrypted ${r.resealed} file${r.resealed === 1 ? '' : 's'}.`);
      const older = new Set(r.olderKey);
      for (const path of r.unreadable) {
        if (older.has(path)) warn(`${path} is sealed under an older key that was already dropped; left as it was (restore it from a backup or store it again)`);
        else warn(`${path} was already damaged (no key opens it); left as it was`);
      }
    } finally {
      vault.close();
    }
  });
