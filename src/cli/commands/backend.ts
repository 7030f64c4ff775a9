import { Argument, Command, Option } from 'commander';
import { globals, vaultDir } from '../context.js';
import { data, info, progress } from '../output.js';
import { passphraseProvider } from '../passphrase.js';

export const backend = new Command('backend')
  .description('show the backend holding the vault, or move every credential to the other one')
  .addArgument(new Argument('[target]', 'keychain or file').choices(['keychain', 'file']))
  .addOption(new Option('--kdf <preset>', 'Argon2id cost when moving to files').choices(['interactive', 'default', 'moderate', 'sensitive']))
  .addHelpText(
    'after',
    `
Without an argument, prints the backend (keychain or file) on stdout.
Moving copies each credential, reads it back and compares it, switches vault.json, and only
then deletes the old copies. Moving to files asks for a new passphrase (or reads it from
MCP_TOKENS_PASSPHRASE_FILE / --passphrase-fd). Backups keep opening: the data key moves too.
An interrupted move is finished by running the same command again, or undone by naming the
old backend.`,
  )
  .action(async function (this: Command, target: 'keychain' | 'file' | undefined, opts: { kdf?: 'interactive' | 'default' | 'moderate' | 'sensitive' }) {
    const g = globals(this);
    const { Vault } = await import('../../vault/vault.js');
    const { moveBackend, readMoveJournal } = await import('../../vault/move.js');
    const { VaultError } = await import('../../errors.js');
    const keychainService = process.env['MCP_TOKENS_KEYCHAIN_SERVICE'] || undefined;
    const passphrase = passphraseProvider({ fd: g.passphraseFd });
    const dir = vaultDir(g);
    if (target === undefined) {
      // Showing the backend unlocks nothing, so a file vault's passphrase is not asked.
      const name = Vault.backendOf(dir);
      if (!name) throw new VaultError('NOT_FOUND', `no mcp-tokens vault in ${dir}`, { hint: 'store a first credential, or run: mcp-tokens init' });
      data(name);
      const j = readMoveJournal(dir);
      if (j) info(`an interrupted move from ${j.from} to ${j.to} is pending: run mcp-tokens backend ${j.to} to finish it`);
      return;
    }
    // Opened without --backend / MCP_TOKENS_BACKEND: those choose a new vault's backend only.
    const vault = await Vault.open({ dir, passphrase, keychainService });
    try {
      const shown = progress(`Copying to the ${target} backend`);
      let r: Awaited<ReturnType<typeof moveBackend>>;
      try {
        r = await moveBackend(vault, target, { passphrase, kdf: opts.kdf, keychainService, onProgress: shown.step });
      } finally {
        shown.end();
      }
      const where = (b: string) => (b === 'keychain' ? 'the OS keychain' : `encrypted files in ${vault.dir}`);
      const count = `${r.moved.length} credential${r.moved.length === 1 ? '' : 's'}`;
      if (r.action === 'unchanged') info(`The vault already uses ${where(target)}; nothing to move.`);
      else if (r.action === 'undone') info(`Undid the interrupted move to ${r.from}; the vault stays in ${where(target)}.`);
      else {
        const kept = r.kept ? ` (${r.kept} already copied by the interrupted run, kept)` : '';
        info(`${r.action === 'finished' ? 'Finished moving' : 'Moved'} ${count} from ${where(r.from)} to ${where(r.to)}${kept}.`);
      }
    } finally {
      vault.close();
    }
  });
