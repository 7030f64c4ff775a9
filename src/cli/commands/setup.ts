import { Command, Option } from 'commander';
import { VaultError } from '../../errors.js';
import { globals, openVault, vaultDir } from '../context.js';
import { data, info, warn } from '../output.js';

export const setup = new Command('setup')
  .description('add (or remove) a marked block to your shell start-up file that loads credentials')
  .addOption(new Option('--shell <shell>', 'default: from $SHELL (with --undo: every shell)').choices(['bash', 'zsh', 'fish']))
  .option('--print', 'print the block to stdout instead of writing it')
  .option('--undo', "remove the blocks again from every shell's start-up file (the rest of each file is left byte for byte)")
  .option('--services <list>', 'comma-separated services to load', 'all')
  .option('--passphrase-file <path>', 'file vaults: pass this 0600 passphrase file to load (not exported)')
  .addHelpText(
    'after',
    `
Files: ~/.bashrc, $ZDOTDIR/.zshrc (or ~/.zshrc), $XDG_CONFIG_HOME/fish/config.fish (or ~/.config/...).
A file setup had to create is deleted by --undo when the block was all it held.

Auto-loading exports your tokens into every new shell and every program started from it.
\`mcp-tokens run <service> -- <command>\` is the narrower choice: it gives them to one program only,
and it is what MCP client configs should use.

File vaults: every new shell asks for the passphrase unless it can read it from a file only you
can read: \`--passphrase-file PATH\` (passed to load alone), or MCP_TOKENS_PASSPHRASE_FILE set before
the block. Create it with
  install -d -m 700 ~/.config/mcp-tokens && install -m 600 /dev/null ~/.config/mcp-tokens/passphrase
and write the passphrase with an editor (not with echo: history keeps it). Under systemd, LoadCredentialEncrypted=
and MCP_TOKENS_PASSPHRASE_FILE=$CREDENTIALS_DIRECTORY/<name> work too. Anyone who can read that
file can open the vault.
Keychain vaults: the keychain must be unlocked when a shell starts (it is, in a desktop session);
over SSH, load fails with a message and the shell starts without tokens.
macOS: Terminal starts bash as a login shell, which reads ~/.bash_profile: source ~/.bashrc there.`,
  )
  .action(async function (this: Command, opts: { shell?: 'bash' | 'zsh' | 'fish'; print?: boolean; undo?: boolean; services: string; passphraseFile?: string }) {
    const s = await import('../../launch/setup.js');
    if (opts.undo) return undo(opts.shell ? [opts.shell] : s.SETUP_SHELLS);
    const shell = opts.shell ?? s.detectShell(process.env['SHELL']);
    if (!shell) throw new VaultError('USAGE', `cannot tell your shell from SHELL=${process.env['SHELL'] ?? ''}`, { hint: 'pass --shell bash, zsh or fish' });
    const rc = s.rcPathFor(shell);
    const g = globals(this);
    const { resolve } = await import('node:path');
    const services = opts.services.split(',').map((x) => x.trim()).filter(Boolean);
    const all = services.length === 0 || services.includes('all');
    // Named: the block loads them one after the other, so the last would silently win a variable.
    if (!all) {
      const clash = (await import('../collect-env.js')).sharedVariables(services)[0];
      if (clash) {
        throw new VaultError('USAGE', `${clash.services.join(' and ')} both set ${clash.name}: a shell can hold only one of them`, {
          hint: `load one of them (--services ${services.filter((x) => x !== clash.services[1]).join(',')}), and give the other to one program: mcp-tokens run ${clash.services[1]} -- <command>`,
        });
      }
    }
    const block = s.renderSetupBlock(shell, {
      services,
      ...(g.dir ? { vaultDir: vaultDir(g) } : {}),
      ...(opts.passphraseFile ? { passphraseFile: resolve(opts.passphraseFile) } : {}),
    });
    if (opts.print) {
      info(`Add this to ${rc}; what it does and what to know first: mcp-tokens setup --help`);
      return data(block);
    }
    const r = await s.applySetup(rc, block);
    const where = r.viaSymlink ? `${r.target} (through the link ${r.rcPath})` : r.target;
    if (r.action === 'unchanged') info(`${where} already has this block; nothing changed.`);
    else info(`${r.action === 'added' ? 'Added' : 'Updated'} the mcp-tokens block in ${where}: every new ${shell} shell exports your credentials (mcp-tokens run gives them to one program only).`);
    if (all) for (const c of await storedClashes(this)) warn(c);
    // The block runs `mcp-tokens load` only where it finds that name (npx inside the clone is not enough).
    const { findOnPath } = await import('../../path-lookup.js');
    if (findOnPath('mcp-tokens', process.env['PATH']) === undefined) {
      warn("mcp-tokens is not on this PATH, so the block loads nothing (it runs 'mcp-tokens load' only where it finds it): install it from its clone (npm install -g . there)");
    }
    if (r.action === 'unchanged') return;
    const { Vault } = await import('../../vault/vault.js');
    let asks = false;
    try {
      asks = Vault.backendOf(vaultDir(g)) === 'file' && opts.passphraseFile === undefined && !process.env['MCP_TOKENS_PASSPHRASE_FILE'];
    } catch {
      // doctor reports a damaged vault; the block itself does not depend on it
    }
    info(`Open a new shell to use it${asks ? ' (it will ask for the vault passphrase: see mcp-tokens setup --help)' : ''}; undo with: mcp-tokens setup --undo`);
  });

/** Remove the block from each shell's file; report what changed; a failure does not stop the rest. */
async function undo(shells: readonly ('bash' | 'zsh' | 'fish')[]): Promise<void> {
  const s = await import('../../launch/setup.js');
  const paths = [...new Set(shells.map((sh) => s.rcPathFor(sh)))];
  let changed = 0;
  let failure: unknown;
  for (const rc of paths) {
    try {
      const r = await s.undoSetup(rc);
      if (r.action === 'removed') info(`Removed the mcp-tokens block from ${r.target}.`);
      if (r.action === 'deleted') info(`Removed ${r.target} (setup had created it for the block alone).`);
      if (r.action !== 'absent') changed++;
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure !== undefined) throw failure;
  if (changed === 0) info(`No mcp-tokens block in ${paths.join(', ')}; nothing changed.`);
}

/**
 * What `load all` in the block will leave out: services stored here that set one variable. Read
 * without a prompt (keychain, agent, passphrase file); a locked file vault is judged by its entry
 * file names (links are sealed, so a linked service is not seen then).
 */
async function storedClashes(cmd: Command): Promise<string[]> {
  const dir = vaultDir(globals(cmd));
  const { Vault } = await import('../../vault/vault.js');
  let present: string[] = [];
  try {
    const vault = await openVault(cmd, { prompt: false });
    try {
      const { readLinks, servicesWithLinks } = await import('../../links/resolve.js');
      present = await servicesWithLinks(vault, await readLinks(vault));
    } finally {
      vault.close();
    }
  } catch {
    try {
      if (Vault.backendOf(dir) !== 'file') return [];
      const { listEntryFiles } = await import('../../backends/file.js');
      const { parseEntryName } = await import('../../names.js');
      present = [...new Set(listEntryFiles(dir).map((n) => parseEntryName(n)!.service))];
    } catch {
      return []; // no vault yet, or a damaged one (doctor reports it)
    }
  }
  const { sharedVariables } = await import('../collect-env.js');
  return sharedVariables(present).map(({ name, services: [a, b] }) =>
    !a!.includes('@') && b!.includes('@')
      ? `${a} and ${b} both set ${name}: new shells load ${a}'s and leave ${b} out; give ${b} to one program: mcp-tokens run ${b} -- <command>`
      : `${a} and ${b} both set ${name}: new shells load neither; choose one: mcp-tokens setup --services ${a} (give the other to one program: mcp-tokens run ${b} -- <command>)`,
  );
}
