import { Command, Option } from 'commander';
import { loadAction, type LoadOptions } from './load-action.js';

export const load = new Command('load')
  .description('print shell export lines for stored credentials (with headers, the only commands that print secrets)')
  .argument('[service]', "a service (github, github@work…), or 'all' (the default without --env)")
  .option('--env <NAME=service.key>', 'also export one stored field under NAME (repeatable)', (v: string, p: string[]) => [...p, v], [] as string[])
  .addOption(new Option('--format <format>', 'output format').choices(['sh', 'fish', 'dotenv', 'json']).default('sh'))
  .addHelpText(
    'after',
    `
Examples:
  eval "$(mcp-tokens load github)"              # bash, zsh, dash
  mcp-tokens load --format fish | source        # fish
  mcp-tokens load hass --format json
  mcp-tokens load github@work                   # an instance: same variable names as github
  mcp-tokens load --env GITHUB_TOKEN=github@work.token   # only GITHUB_TOKEN

Values are single-quoted so the output is safe to eval whatever they hold. A missing
credential exits 3 with the store command to run. Variable names come from the built-in table,
services.json and --env; a service you never declared (stored under a name of your own, or
imported) exports only names shaped like a credential (…_TOKEN, …_KEY, …_SECRET, …_PASSWORD).
With 'all', a service that cannot be exported is reported on stderr and the others still print
(exit 2).
Prefer 'mcp-tokens run <service> -- <command>': it puts the tokens into one process only.`,
  )
  .action(async function (this: Command, service: string | undefined, opts: LoadOptions) {
    await loadAction(this, service, opts);
  });
