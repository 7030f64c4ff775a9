/** `load`'s work, without commander: cli/plain.ts runs it directly for `load <service>` (the fast path). */
import type { CommandLike } from '../context.js';
import { data, printError, warn } from '../output.js';

export interface LoadOptions {
  format: 'sh' | 'fish' | 'dotenv' | 'json';
  env: string[];
}

export async function loadAction(cmd: CommandLike, service: string | undefined, opts: LoadOptions): Promise<void> {
  const { parseEnvMappings } = await import('../../launch/env-map.js');
  const mappings = parseEnvMappings(opts.env);
  const { collectEnv } = await import('../collect-env.js');
  const { formatExports } = await import('../../launch/format.js');
  // Without a service, --env alone decides what is printed; otherwise 'all' is the default.
  const services = service === undefined ? (mappings.length > 0 ? [] : 'all') : service === 'all' ? 'all' : [service];
  // With 'all', a service that cannot be exported is reported here and the others still print;
  // the exit status is then 2 (invalid input), after the output.
  let refused = false;
  const vars = await collectEnv(cmd, services, warn, mappings, (e) => {
    refused = true;
    printError(e.message, e.hint);
  });
  data(formatExports(vars, opts.format));
  if (refused) process.exitCode = 2;
}
