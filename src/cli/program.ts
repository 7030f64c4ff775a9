/** The commander program: global options and the commands (each a value, added with addCommand). */
import { Command, Option } from 'commander';
import { commandName } from './argv.js';
import { commanderOutput } from './output.js';

export { commandName } from './argv.js';

/** The help groups of `mcp-tokens --help`, in order. */
const DAILY = 'Daily use:';
const SETUP = 'Set-up:';
const BACKUPS = 'Backups:';
const MACHINES = 'Machines and teams:';
const AGENT = 'Agent (file vaults):';

/**
 * Every command, in help order, as a loader, with its help group and (for the commands whose own
 * help text has none) an example that works when pasted. `run` sits on the start-up path of every
 * MCP server a client launches, so only the module of the command being run is loaded; help,
 * `help <cmd>` and a mistyped command load them all (commander needs them to list or suggest).
 */
const COMMANDS: ReadonlyArray<readonly [string, string, () => Promise<Command>, string?]> = [
  ['store', DAILY, async () => (await import('./commands/store.js')).store],
  ['load', DAILY, async () => (await import('./commands/load.js')).load],
  ['run', DAILY, async () => (await import('./commands/run.js')).run],
  ['headers', DAILY, async () => (await import('./commands/headers.js')).headers],
  ['verify', DAILY, async () => (await import('./commands/verify.js')).verify, 'mcp-tokens verify --offline'],
  ['list', DAILY, async () => (await import('./commands/list.js')).list, 'mcp-tokens list github'],
  ['log', DAILY, async () => (await import('./commands/log.js')).log],
  ['delete', DAILY, async () => (await import('./commands/delete.js')).del, 'mcp-tokens delete github token'],
  ['link', DAILY, async () => (await import('./commands/link.js')).link],
  ['unlink', DAILY, async () => (await import('./commands/link.js')).unlink, 'mcp-tokens unlink github token'],
  ['init', SETUP, async () => (await import('./commands/init.js')).init, 'mcp-tokens --backend file init'],
  ['setup', SETUP, async () => (await import('./commands/setup.js')).setup, 'mcp-tokens setup --print --shell bash'],
  ['migrate', SETUP, async () => (await import('./commands/migrate.js')).migrate, 'mcp-tokens migrate --dry-run'],
  ['clients', SETUP, async () => (await import('./commands/clients.js')).clients, 'mcp-tokens clients'],
  ['services', SETUP, async () => (await import('./commands/services.js')).services, 'mcp-tokens services'],
  ['doctor', SETUP, async () => (await import('./commands/doctor.js')).doctor, 'mcp-tokens doctor'],
  ['backend', SETUP, async () => (await import('./commands/backend.js')).backend, 'mcp-tokens backend'],
  ['passwd', SETUP, async () => (await import('./commands/passwd.js')).passwd, 'mcp-tokens passwd'],
  ['rekey', SETUP, async () => (await import('./commands/rekey.js')).rekey, 'mcp-tokens rekey'],
  ['shell-init', SETUP, async () => (await import('./commands/shell-init.js')).shellInit],
  ['completion', SETUP, async () => (await import('./commands/completion.js')).completion],
  ['backups', BACKUPS, async () => (await import('./commands/backups.js')).backups, 'mcp-tokens backups github'],
  ['restore', BACKUPS, async () => (await import('./commands/restore.js')).restore, 'mcp-tokens restore github token'],
  ['prune', BACKUPS, async () => (await import('./commands/prune.js')).prune, 'mcp-tokens prune --older-than 30d'],
  ['identity', MACHINES, async () => (await import('./commands/identity.js')).identity, 'mcp-tokens identity'],
  ['export', MACHINES, async () => (await import('./commands/export.js')).exportCmd],
  ['import', MACHINES, async () => (await import('./commands/import.js')).importCmd],
  ['unlock', AGENT, async () => (await import('./commands/unlock.js')).unlock],
  ['lock', AGENT, async () => (await import('./commands/lock.js')).lock, 'mcp-tokens lock'],
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
  const chosen = one.length > 0 ? one : COMMANDS;
  const loaded = await Promise.all(chosen.map(([, , load]) => load()));
  chosen.forEach(([, group, , example], i) => {
    const cmd = loaded[i]!;
    // a command object is a module-level value: set its group and example once
    if (cmd.helpGroup() === '') {
      cmd.helpGroup(group);
      if (example !== undefined) cmd.addHelpText('after', `\nExample:\n  ${example}`);
    }
    program.addCommand(cmd);
  });
  program.commandsGroup('Help:').helpCommand('help [command]', 'display help for command');
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
