import { Command, Option } from 'commander';
import { data, printError, warn } from '../output.js';

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
  .action(async function (this: Command, service: string | undefined, opts: { format: 'sh' | 'fish' | 'dotenv' | 'json'; env: string[] }) {
    const { parseEnvMappings } = await import('../../launch/env-map.js');
    const mappings = parseEnvMappings(opts.env);
    const { collectEnv } = await import('../collect-env.js');
    const { formatExports } = await import('../../launch/format.js');
    // Without a service, --env alone decides what is printed; otherwise 'all' is the default.
    const services = service === undefined ? (mappings.length > 0 ? [] : 'all') : service === 'all' ? 'all' : [service];
    // With 'all', a service that cannot be exported is reported here and the others still print;
    // the exit status is then 2 (invalid input), after the output.
    let refused = false;
    const vars = await collectEnv(this, services, warn, mappings, (e) => {
      refused = true;
      printError(e.message, e.hint);
    });
    data(formatExports(vars, opts.format));
    if (refused) process.exitCode = 2;
  });
