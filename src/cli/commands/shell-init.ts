import { Command, Option } from 'commander';
import { data } from '../output.js';

export const shellInit = new Command('shell-init')
  .description('print shell code defining load_credentials <service>, for wrapper scripts written for the old script')
  .addOption(new Option('--shell <shell>', 'shell dialect').choices(['sh', 'bash', 'zsh', 'dash', 'fish']).default('sh'))
  .addHelpText(
    'after',
    `
Example (a wrapper script written against the seed's token manager):
  source <(mcp-tokens shell-init)
  if ! load_credentials github; then
      echo "Please run: mcp-tokens store github token" >&2; exit 1
  fi`,
  )
  .action(async (opts: { shell: 'sh' | 'bash' | 'zsh' | 'dash' | 'fish' }) => {
    const { renderShellInit } = await import('../../launch/shell-init.js');
    const { cliArgv } = await import('../invocation.js');
    data(renderShellInit(opts.shell, { command: cliArgv() }));
  });
