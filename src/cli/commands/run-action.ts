/** `run`'s work, without commander: cli/plain.ts runs it directly for `run <service> -- …` (the fast path). */
import { VaultError } from '../../errors.js';
import { rawArgs, type CommandLike } from '../context.js';
import { warn } from '../output.js';

/** items: the services, then (after `--`) the command and its arguments, as commander gathers them. */
export async function runAction(cmd: CommandLike, items: string[], opts: { env: string[] }): Promise<void> {
  const raw = rawArgs();
  const dd = raw.indexOf('--');
  const command = dd < 0 ? [] : raw.slice(dd + 1);
  const services = items.slice(0, items.length - command.length);
  if (dd < 0 && items.length > 1) {
    // `run github node server.js`: which words are services cannot be told; -- says it.
    throw new VaultError('USAGE', 'run needs -- between the services and the command', {
      hint: `put -- before the command: mcp-tokens run ${items[0]} -- ${items.slice(1).join(' ')}   (if ${items[0]} is the only service)`,
    });
  }
  if (dd < 0 || command.length === 0 || (services.length === 0 && opts.env.length === 0)) {
    throw new VaultError('USAGE', 'run needs services or --env mappings, then -- and a command', {
      hint: 'mcp-tokens run github -- npx -y @modelcontextprotocol/server-github',
    });
  }
  const { parseEnvMappings } = await import('../../launch/env-map.js');
  const mappings = parseEnvMappings(opts.env);
  const { collectEnv } = await import('../collect-env.js');
  const { runWithEnv } = await import('../../launch/run.js');
  const env = Object.fromEntries(await collectEnv(cmd, services, warn, mappings, undefined, { cmd: 'run', program: command[0]! }));
  process.exitCode = await runWithEnv(command[0]!, command.slice(1), env);
}
