import { Command, Option } from 'commander';
import { openVault } from '../context.js';
import { info } from '../output.js';

export const passwd = new Command('passwd')
  .description("change a file vault's passphrase (re-wraps the data key; one file changes)")
  .addOption(new Option('--kdf <preset>', 'also change the Argon2id cost').choices(['interactive', 'default', 'moderate', 'sensitive']))
  .addHelpText('after', '\nThe new passphrase is asked twice on the terminal, or read from MCP_TOKENS_NEW_PASSPHRASE_FILE / _FD.')
  .action(async function (this: Command, opts: { kdf?: 'interactive' | 'default' | 'moderate' | 'sensitive' }) {
    const vault = await openVault(this, { agent: false });
    try {
      await vault.changePassphrase(opts.kdf);
      info('Passphrase changed.');
    } finally {
      vault.close();
    }
  });
