import { Command } from 'commander';
import { globals, openVault, vaultDir } from '../context.js';
import { data, info, warn } from '../output.js';

export const identity = new Command('identity')
  .description("print this vault's age recipient (age1…), creating its identity on first use")
  .option('--secret', 'print the identity itself (AGE-SECRET-KEY-1…) as an age identity file, for `age -d -i`')
  .addHelpText(
    'after',
    `
The identity is an X25519 age key kept in the vault like a credential. Its recipient (public) is
also kept in clear in identity.pub, so printing it needs no passphrase. Bundles sealed to the
recipient it prints open only here:
  mcp-tokens export github hass --to "$(ssh server mcp-tokens identity)" | ssh server mcp-tokens import -`,
  )
  .action(async function (this: Command, opts: { secret?: boolean }) {
    const { vaultIdentity, identityFile, storedRecipient } = await import('../../bundle/identity.js');
    // The recipient is public: printed from identity.pub without unlocking the vault.
    const known = opts.secret ? undefined : storedRecipient(vaultDir(globals(this)));
    if (known) return data(known);
    const vault = await openVault(this, { create: true });
    try {
      if (vault.created) info(`Created a ${vault.created.backend} vault in ${vault.dir} (${vault.created.reason}).`);
      const id = await vaultIdentity(vault, { create: true });
      if (id.created) info('Created an age identity for this vault.');
      if (opts.secret) {
        warn('this is the secret half of the identity: anyone who has it can open every bundle sealed to this vault; keep it out of files, logs and chats');
        data(identityFile(id, new Date()));
      } else {
        data(id.recipient);
      }
    } finally {
      vault.close();
    }
  });
