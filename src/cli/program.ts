/** The commander program: global options and the commands (each a value, added with addCommand). */
import { Command, Option } from 'commander';
import { backend } from './commands/backend.js';
import { backups } from './commands/backups.js';
import { del } from './commands/delete.js';
import { doctor } from './commands/doctor.js';
import { init } from './commands/init.js';
import { list } from './commands/list.js';
import { load } from './commands/load.js';
import { migrate } from './commands/migrate.js';
import { passwd } from './commands/passwd.js';
import { prune } from './commands/prune.js';
import { restore } from './commands/restore.js';
import { run } from './commands/run.js';
import { setup } from './commands/setup.js';
import { shellInit } from './commands/shell-init.js';
import { services } from './commands/services.js';
import { store } from './commands/store.js';
import { verify } from './commands/verify.js';

export function buildProgram(version: string): Command {
  const program = new Command('mcp-tokens')
    .description('Keep MCP server credentials in the OS keychain or encrypted files, and launch servers with them.')
    .version(version, '-V, --version')
    .option('--dir <path>', 'vault directory (default ~/.mcp_tokens; env MCP_TOKENS_DIR)')
    .addOption(new Option('--backend <name>', 'backend for a new vault: auto, keychain or file (env MCP_TOKENS_BACKEND)'))
    .option('--passphrase-fd <n>', 'read the file-vault passphrase from this file descriptor')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .option('-q, --quiet', 'only warnings and errors on stderr')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      'after',
      `
Passphrase (file vaults), first that applies: --passphrase-fd N, MCP_TOKENS_PASSPHRASE_FD,
MCP_TOKENS_PASSPHRASE_FILE (a 0600 file), MCP_TOKENS_PASSPHRASE (last resort), a prompt.

Exit codes: 0 ok, 1 failed, 2 usage or invalid input, 3 not found, 4 wrong or missing
passphrase, 5 backend unavailable, 6 integrity check failed.`,
    );
  for (const cmd of [store, load, run, verify, list, del, backups, restore, prune, doctor, init, passwd, backend, services, setup, shellInit, migrate]) program.addCommand(cmd);
  return program;
}
