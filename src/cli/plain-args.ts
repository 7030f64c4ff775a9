/**
 * Which arguments take the fast path (cli/plain.ts): `load <service>` and `run <service> -- <command…>`
 * with no option at all, what shells and MCP clients run on every start. No imports: bin reads
 * this before it chooses which bundle to load (scripts/bundle.mjs).
 */

/** A service name as `load` and `run` take it (github, github@work, my-svc): never an option. */
const SERVICE_WORD = /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/;

export interface PlainCommand {
  name: 'load' | 'run';
  service: string;
  /** run: the command and its arguments (after `--`). */
  command: string[];
}

export function plainCommand(args: readonly string[]): PlainCommand | undefined {
  const [name, service] = args;
  if (service === undefined || !SERVICE_WORD.test(service)) return undefined;
  if (name === 'load' && args.length === 2) return { name, service, command: [] };
  if (name === 'run' && args.length >= 4 && args[2] === '--') return { name, service, command: args.slice(3) };
  return undefined;
}
