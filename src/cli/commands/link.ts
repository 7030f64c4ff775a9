import { Command } from 'commander';
import { VaultError } from '../../errors.js';
import { openVault, rawArgs } from '../context.js';
import { info } from '../output.js';

export const link = new Command('link')
  .description("take a credential from a secret manager: store the command that prints it (run at load/run/verify time)")
  .argument('<service>', 'github, hass, … or a name of your own')
  .argument('<key>', 'token, url, …')
  .argument('[command...]', '-- then the command and its arguments (no shell)')
  .usage('<service> <key> -- <command> [args...]')
  .addHelpText(
    'after',
    `
Examples:
  mcp-tokens link github token -- pass show mcp/github
  mcp-tokens link github token -- bao kv get -field=token secret/mcp/github
  mcp-tokens link github token -- op read op://Private/GitHub/token

The command runs without a shell, with stdin closed and a timeout (30 s, or
MCP_TOKENS_LINK_TIMEOUT seconds); its output (at most 64 KiB, one trailing newline removed) is
checked like a stored value and never written to disk. It must be an absolute path or on PATH
(absolute directories only); a name is recorded as the absolute path found at link time.
The command line is kept sealed in the vault. Remove a link with: mcp-tokens unlink <service> <key>`,
  )
  .action(async function (this: Command, service: string, key: string) {
    const raw = rawArgs();
    const dd = raw.indexOf('--');
    const command = dd < 0 ? [] : raw.slice(dd + 1);
    if (command.length === 0) {
      throw new VaultError('USAGE', 'link needs -- and the command that prints the value', { hint: 'mcp-tokens link github token -- pass show mcp/github' });
    }
    const { addLink, checkCommand, showCommand } = await import('../../links/links.js');
    const { fieldSpec } = await import('../../services/index.js');
    fieldSpec(service, key);
    const resolved = checkCommand(command, process.env);
    const vault = await openVault(this, { create: true });
    try {
      if (vault.created) info(`Created a ${vault.created.backend} vault in ${vault.dir} (${vault.created.reason}).`);
      const { replaced } = await addLink(vault, { service, key, command: resolved });
      info(`${replaced ? 'Relinked' : 'Linked'} ${service} ${key} → ${showCommand(resolved)}`);
    } finally {
      vault.close();
    }
  });

export const unlink = new Command('unlink')
  .description('remove the link of a credential (see: mcp-tokens link)')
  .argument('<service>')
  .argument('<key>')
  .action(async function (this: Command, service: string, key: string) {
    const { removeLink } = await import('../../links/links.js');
    const vault = await openVault(this);
    try {
      await removeLink(vault, service, key);
      info(`Unlinked ${service} ${key}.`);
    } finally {
      vault.close();
    }
  });
