import { Command } from 'commander';
import { VaultError } from '../../errors.js';
import { rawArgs } from '../context.js';
import { warn } from '../output.js';

export const run = new Command('run')
  .description("start a command with the services' credentials in its environment (prints nothing to stdout)")
  .argument('<service...>', 'one or more services, then -- and the command with its arguments')
  .usage('<service...> -- <command> [args...]')
  .addHelpText(
    'after',
    `
Examples:
  mcp-tokens run github -- npx -y @modelcontextprotocol/server-github
  mcp-tokens run hass proxmox -- node ./my-server.js --verbose

In an MCP client config (Claude Desktop, Claude Code, VS Code, Cursor, Windsurf):
  "command": "mcp-tokens",
  "args": ["run", "github", "--", "npx", "-y", "@modelcontextprotocol/server-github"]

No shell is involved; stdin/stdout/stderr pass through untouched; the exit code is the
command's (128+n for a signal); SIGINT, SIGTERM and SIGHUP are forwarded; MCP_TOKENS_PASSPHRASE*
and MCP_TOKENS_NEW_PASSPHRASE* variables are removed from the command's environment. A missing credential exits 3 before the
command starts.`,
  )
  .action(async function (this: Command, items: string[]) {
    const raw = rawArgs();
    const dd = raw.indexOf('--');
    const command = dd < 0 ? [] : raw.slice(dd + 1);
    const services = items.slice(0, items.length - command.length);
    if (dd < 0 || command.length === 0 || services.length === 0) {
      throw new VaultError('USAGE', 'run needs services, then -- and a command', {
        hint: 'mcp-tokens run github -- npx -y @modelcontextprotocol/server-github',
      });
    }
    const { collectEnv } = await import('../collect-env.js');
    const { runWithEnv } = await import('../../launch/run.js');
    const env = Object.fromEntries(await collectEnv(this, services, warn));
    process.exitCode = await runWithEnv(command[0]!, command.slice(1), env);
  });
