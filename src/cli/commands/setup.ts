import { Command, Option } from 'commander';
import { VaultError } from '../../errors.js';
import { globals, vaultDir } from '../context.js';
import { data, info } from '../output.js';

export const setup = new Command('setup')
  .description('add (or remove) a marked block to your shell start-up file that loads credentials')
  .addOption(new Option('--shell <shell>', 'default: from $SHELL').choices(['bash', 'zsh', 'fish']))
  .option('--print', 'print the block to stdout instead of writing it')
  .option('--undo', 'remove the block again (the rest of the file is left byte for byte)')
  .option('--services <list>', 'comma-separated services to load', 'all')
  .option('--passphrase-file <path>', 'file vaults: pass this 0600 passphrase file to load (not exported)')
  .action(async function (this: Command, opts: { shell?: 'bash' | 'zsh' | 'fish'; print?: boolean; undo?: boolean; services: string; passphraseFile?: string }) {
    const s = await import('../../launch/setup.js');
    const shell = opts.shell ?? s.detectShell(process.env['SHELL']);
    if (!shell) throw new VaultError('USAGE', `cannot tell your shell from SHELL=${process.env['SHELL'] ?? ''}`, { hint: 'pass --shell bash, zsh or fish' });
    const rc = s.rcPathFor(shell);
    if (opts.undo) {
      const r = await s.undoSetup(rc);
      info(r.action === 'removed' ? `Removed the mcp-tokens block from ${r.target}.` : `No mcp-tokens block in ${r.target}; nothing changed.`);
      return;
    }
    const g = globals(this);
    const { resolve } = await import('node:path');
    const block = s.renderSetupBlock(shell, {
      services: opts.services.split(',').map((x) => x.trim()).filter(Boolean),
      ...(g.dir ? { vaultDir: vaultDir(g) } : {}),
      ...(opts.passphraseFile ? { passphraseFile: resolve(opts.passphraseFile) } : {}),
    });
    const { Vault } = await import('../../vault/vault.js');
    let backend: 'keychain' | 'file' | undefined;
    try {
      backend = Vault.backendOf(vaultDir(g));
    } catch {
      backend = undefined; // doctor reports a damaged vault; the block itself does not depend on it
    }
    for (const note of s.setupNotes({ shell, backend, passphraseFileInBlock: opts.passphraseFile !== undefined })) info(`${note}\n`);
    if (opts.print) return data(block);
    const r = await s.applySetup(rc, block);
    const where = r.viaSymlink ? `${r.target} (through the link ${r.rcPath})` : r.target;
    info(r.action === 'unchanged' ? `${where} already has this block; nothing changed.` : `${r.action === 'added' ? 'Added' : 'Updated'} the mcp-tokens block in ${where}. Open a new shell to use it; undo with: mcp-tokens setup --undo`);
  });
