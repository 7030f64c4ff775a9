import { Command } from 'commander';
import { runAction } from './run-action.js';

export const run = new Command('run')
  .description("start a command with the services' credentials in its environment (prints nothing to stdout)")
  .argument('[service...]', 'services (github, github@work…), then -- and the command with its arguments')
  .option('--env <NAME=service.key>', 'also export one stored field under NAME (repeatable)', collect, [])
  .usage('[service...] [--env NAME=service[@instance].key]... -- <command> [args...]')
  .addHelpText(
    'after',
    `
Examples:
  mcp-tokens run github -- npx -y @modelcontextprotocol/server-github
  mcp-tokens run hass proxmox -- node ./my-server.js --verbose
  mcp-tokens run github@work -- npx -y @modelcontextprotocol/server-github    # an instance
  mcp-tokens run hass --env API_ACCESS_TOKEN=hass.token -- uvx mcp-proxy http://localhost:8123/mcp_server/sse
  mcp-tokens run --env GITHUB_TOKEN=github@work.token -- gh-mcp                # exports only GITHUB_TOKEN

In an MCP client config (Claude Desktop, Claude Code, VS Code, Cursor, Windsurf):
  "command": "mcp-tokens",
  "args": ["run", "github", "--", "npx", "-y", "@modelcontextprotocol/server-github"]

No shell is involved; stdin/stdout/stderr pass through untouched; the exit code is the
command's (128+n for a signal); SIGINT, SIGTERM and SIGHUP are forwarded; MCP_TOKENS_PASSPHRASE*
and MCP_TOKENS_NEW_PASSPHRASE* variables are removed from the command's environment. A missing
credential exits 3 before the command starts.

Two services (or two instances of one) that set the same variable are refused (exit 2) unless
--env names that variable. --env refuses names that change how programs load or run (PATH,
LD_*, NODE_OPTIONS, PYTHONPATH, GIT_*, MCP_TOKENS_*…).`,
  )
  .action(async function (this: Command, items: string[], opts: { env: string[] }) {
    await runAction(this, items, opts);
  });

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
