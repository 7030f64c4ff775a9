/** Entry point: umask first, a fast path for --version, then the commander program. */
import { readFileSync } from 'node:fs';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function staticHelp(): string | undefined {
  try {
    return readFileSync(new URL('./help.txt', import.meta.url), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A reader that went away (`mcp-tokens load --help | head -5`) is a quiet end, not a crash: a
 * write to a closed stdout or stderr fails with EPIPE, which Node reports as an 'error' event and,
 * with no listener, as an uncaught exception with a stack trace. Writes after that are dropped;
 * the command itself runs to its end (a vault write is never cut short by a closed pipe).
 */
function quietOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
      throw e;
    });
  }
}

/** A service name as `load` and `run` take it (github, github@work, my-svc): never an option. */
const SERVICE_WORD = /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/;

/**
 * `load <service>` and `run <service> -- <command…>` with no option at all: what shells and MCP
 * clients run on every start. They skip commander (~6 ms of a ~80 ms keychain `run`, issue 28):
 * the command's own code runs with a stand-in for commander's Command that answers what commander
 * would (every option at its default). Anything else, even one option, goes through commander.
 */
function plainCommand(args: readonly string[]): { cmd: import('./context.js').CommandLike; run: () => Promise<void> } | undefined {
  const [name, service] = args;
  if (service === undefined || !SERVICE_WORD.test(service)) return undefined;
  const stand = (opts: Record<string, unknown>) => ({ name: () => name!, optsWithGlobals: <T>() => ({ color: true, ...opts }) as T });
  if (name === 'load' && args.length === 2) {
    const opts = { format: 'sh' as const, env: [] };
    const cmd = stand(opts);
    return { cmd, run: async () => (await import('./commands/load-action.js')).loadAction(cmd, service, opts) };
  }
  if (name === 'run' && args.length >= 4 && args[2] === '--') {
    const opts = { env: [] };
    const cmd = stand(opts);
    return { cmd, run: async () => (await import('./commands/run-action.js')).runAction(cmd, [service, ...args.slice(3)], opts) };
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  process.umask(0o077);
  quietOnClosedOutput();
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    // Rendered at build time (scripts/render-help.mjs, 80 columns) so --help loads no command
    // module; without the file (a bare tsc build) commander renders it live.
    const help = staticHelp();
    if (help !== undefined) {
      process.stdout.write(help);
      return 0;
    }
  }
  // Completion runs on every TAB: before prewarm and the hooks, it only lists names (completion/).
  if (args[0] === '__complete') return (await import('./completion/run.js')).runComplete(args.slice(1));
  (await import('./prewarm.js')).prewarmUnlock(args);
  // Loaded here, not at the top: --version needs none of it.
  const { configureOutput, maskArguments, reportError } = await import('./output.js');
  maskArguments(args); // before anything can print: commander's errors quote arguments
  (await import('./context.js')).setRawArgs(args);
  const plain = plainCommand(args);
  if (plain !== undefined) {
    // The fast path: what commander would do for these arguments, without loading it.
    try {
      configureOutput({});
      await (await import('./user-services.js')).registerUserServices(plain.cmd);
      await plain.run();
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    } catch (e) {
      configureOutput({});
      return reportError(e);
    }
  }
  const { buildProgram } = await import('./program.js');
  const { CommanderError } = await import('commander');
  const program = await buildProgram(version(), args); // exitOverride and output set on every command
  program.hook('preAction', async (_root, action) => {
    const g = action.optsWithGlobals<{ quiet?: boolean; color?: boolean }>();
    configureOutput({ quiet: g.quiet, color: g.color });
    await (await import('./user-services.js')).registerUserServices(action);
  });
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; help shown for a missing command and every other
      // commander error are usage errors (exit 2).
      return e.exitCode === 0 ? 0 : 2;
    }
    configureOutput({});
    return reportError(e);
  }
}
