/** The commander program: global options and the commands (each a value, added with addCommand). */
import { Command, Option } from 'commander';
import { commandName } from './argv.js';
import { commanderOutput } from './output.js';

export { commandName } from './argv.js';

/**
 * Every command, in help order, as a loader. `run` sits on the start-up path of every MCP server
 * a client launches, so only the module of the command being run is loaded; help, `help <cmd>`
 * and a mistyped command load them all (commander needs them to list or suggest).
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Command>]> = [
  ['store', async () => (await import('./commands/store.js')).store],
  ['load', async () => (await import('./commands/load.js')).load],
  ['run', async () => (await import('./commands/run.js')).run],
  ['headers', async () => (await import('./commands/headers.js')).headers],
  ['verify', async () => (await import('./commands/verify.js')).verify],
  ['list', async () => (await import('./commands/list.js')).list],
  ['delete', async () => (await import('./commands/delete.js')).del],
  ['backups', async () => (await import('./commands/backups.js')).backups],
  ['restore', async () => (await import('./commands/restore.js')).restore],
  ['prune', async () => (await import('./commands/prune.js')).prune],
  ['doctor', async () => (await import('./commands/doctor.js')).doctor],
  ['init', async () => (await import('./commands/init.js')).init],
  ['passwd', async () => (await import('./commands/passwd.js')).passwd],
  ['rekey', async () => (await import('./commands/rekey.js')).rekey],
  ['unlock', async () => (await import('./commands/unlock.js')).unlock],
  ['lock', async () => (await import('./commands/lock.js')).lock],
  ['backend', async () => (await import('./commands/backend.js')).backend],
  ['services', async () => (await import('./commands/services.js')).services],
  ['setup', async () => (await import('./commands/setup.js')).setup],
  ['shell-init', async () => (await import('./commands/shell-init.js')).shellInit],
  ['completion', async () => (await import('./commands/completion.js')).completion],
  ['migrate', async () => (await import('./commands/migrate.js')).migrate],
  ['clients', async () => (await import('./commands/clients.js')).clients],
  ['identity', async () => (await import('./commands/identity.js')).identity],
  ['export', async () => (await import('./commands/export.js')).exportCmd],
  ['import', async () => (await import('./commands/import.js')).importCmd],
  ['link', async () => (await import('./commands/link.js')).link],
  ['unlink', async () => (await import('./commands/link.js')).unlink],
];

/** The program with the command named in args (all of them when args name none we know). */
export async function buildProgram(version: string, args: readonly string[] = []): Promise<Command> {
  const program = new Command('mcp-tokens')
    .description('Keep MCP server credentials in the OS keychain or encrypted files, and launch servers with them.')
    .version(version, '-V, --version')
    .option('--dir <path>', 'vault directory (default ~/.mcp_tokens; env MCP_TOKENS_DIR)')
    .addOption(new Option('--backend <name>', 'backend for a new vault: auto, keychain or file (env MCP_TOKENS_BACKEND)'))
    .option('--passphrase-fd <n>', 'read the file-vault passphrase from this file descriptor')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .option('-q, --quiet', 'only warnings and errors on stderr')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Passphrase (file vaults), first that applies: --passphrase-fd N, MCP_TOKENS_PASSPHRASE_FD,
MCP_TOKENS_PASSPHRASE_FILE (a 0600 file), MCP_TOKENS_PASSPHRASE (last resort), a prompt.

Exit codes: 0 ok, 1 failed, 2 usage or invalid input, 3 not found, 4 wrong or missing
passphrase, 5 backend unavailable, 6 integrity check failed.`,
    );
  const name = commandName(args);
  const one = COMMANDS.filter(([n]) => n === name);
  for (const cmd of await Promise.all((one.length > 0 ? one : COMMANDS).map(([, load]) => load()))) program.addCommand(cmd);
  configureCommands(program, 'mcp-tokens');
  return program;
}

/**
 * Every command, nested ones included (addCommand copies no settings), throws instead of exiting
 * and writes through output.ts: masked, and usage errors in our one error style.
 */
function configureCommands(cmd: Command, path: string): void {
  cmd.exitOverride();
  cmd.configureOutput(commanderOutput(path));
  for (const sub of cmd.commands) configureCommands(sub, `${path} ${sub.name()}`);
}
