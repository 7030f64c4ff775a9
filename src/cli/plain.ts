/**
 * The fast path for the arguments cli/plain-args.ts accepts: the command's own code runs without
 * commander (~6 ms of a ~80 ms keychain `run`, issue 28), with a stand-in for commander's Command
 * that answers what commander would (every option at its default). bin runs it from
 * dist/cli/bundle-fast.js, a bundle of only what these two commands need; main.ts runs it too
 * (the whole CLI takes the same path for the same arguments). Anything else, even one option,
 * goes through commander.
 */
import type { CommandLike } from './context.js';
import type { PlainCommand } from './plain-args.js';

/** What every command does first, before anything can print: see main.ts. */
export async function begin(args: string[]): Promise<void> {
  // Every command but `run` ends with its work: Argon2id needs no worker there (crypto/kdf.ts).
  if ((await import('./argv.js')).commandName(args) !== 'run') (await import('../crypto/kdf.js')).deriveInThisThread();
  (await import('./prewarm.js')).prewarmUnlock(args);
  (await import('./output.js')).maskArguments(args); // before anything can print: commander's errors quote arguments
  (await import('./context.js')).setRawArgs(args);
}

export async function runPlain(plain: PlainCommand): Promise<number> {
  const { configureOutput, reportError } = await import('./output.js');
  const load = { format: 'sh' as const, env: [] as string[] };
  const run = { env: [] as string[] };
  const opts = plain.name === 'load' ? load : run;
  const cmd: CommandLike = { name: () => plain.name, optsWithGlobals: <T>() => ({ color: true, ...opts }) as T };
  try {
    configureOutput({});
    await (await import('./user-services.js')).registerUserServices(cmd);
    if (plain.name === 'load') await (await import('./commands/load-action.js')).loadAction(cmd, plain.service, load);
    else await (await import('./commands/run-action.js')).runAction(cmd, [plain.service, ...plain.command], run);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    configureOutput({});
    return reportError(e);
  }
}

/**
 * A reader that went away (`mcp-tokens load --help | head -5`) is a quiet end, not a crash: a
 * write to a closed stdout or stderr fails with EPIPE, which Node reports as an 'error' event and,
 * with no listener, as an uncaught exception with a stack trace. Writes after that are dropped;
 * the command itself runs to its end (a vault write is never cut short by a closed pipe).
 */
export function quietOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
      throw e;
    });
  }
}
