import { Command, Option } from 'commander';
import { data, warn } from '../output.js';

export const load = new Command('load')
  .description('print shell export lines for stored credentials (the only command that prints secrets)')
  .argument('[service]', "a service, or 'all'", 'all')
  .addOption(new Option('--format <format>', 'output format').choices(['sh', 'fish', 'dotenv', 'json']).default('sh'))
  .addHelpText(
    'after',
    `
Examples:
  eval "$(mcp-tokens load github)"              # bash, zsh, dash
  mcp-tokens load --format fish | source        # fish
  mcp-tokens load hass --format json

Values are single-quoted so the output is safe to eval whatever they hold. A missing
credential exits 3 with the store command to run.
Prefer 'mcp-tokens run <service> -- <command>': it puts the tokens into one process only.`,
  )
  .action(async function (this: Command, service: string, opts: { format: 'sh' | 'fish' | 'dotenv' | 'json' }) {
    const { collectEnv } = await import('../collect-env.js');
    const { formatExports } = await import('../../launch/format.js');
    const vars = await collectEnv(this, service === 'all' ? 'all' : [service], warn);
    data(formatExports(vars, opts.format));
  });
