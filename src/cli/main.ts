/** Entry point: umask first, a fast path for --version, then the commander program. */
import { readFileSync } from 'node:fs';
import { plainCommand } from './plain-args.js';
import { begin, quietOnClosedOutput, runPlain } from './plain.js';

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
  // Loaded here, not at the top: --version needs none of it.
  await begin(args);
  const plain = plainCommand(args);
  if (plain !== undefined) return runPlain(plain); // the fast path: what commander would do, without it
  const { configureOutput, reportError } = await import('./output.js');
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
