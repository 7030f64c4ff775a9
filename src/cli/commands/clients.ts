import { Command } from 'commander';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { data, info, json, table } from '../output.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export const clients = new Command('clients')
  .description('list the MCP clients configured on this machine: their config files, servers, how many start through the vault and how many still hold plaintext')
  .option('--config <path>', 'also read this MCP client config (repeatable)', collect, [])
  .option('--no-projects', 'skip the project configs of the projects listed in ~/.claude.json')
  .option('--json', 'machine-readable list on stdout')
  .addHelpText(
    'after',
    `
Reads the files migrate reads (see 'mcp-tokens migrate --help' and the table of clients in
docs/migrate.md), changes nothing and needs no vault. Run it before and after 'mcp-tokens migrate'.
Columns: SERVERS in the file; VAULT, started through 'mcp-tokens run'; PLAINTEXT, servers with
a credential in the file; OTHER, credentials outside any server (a client's own API key…).`,
  )
  .action(async function (this: Command) {
    const opts = this.opts<{ config: string[]; projects: boolean; json?: boolean }>();
    const { surveyClients } = await import('../../migrate/clients.js');
    const report = await surveyClients({
      home: homedir(),
      cwd: process.cwd(),
      platform: process.platform,
      env: process.env,
      configs: opts.config.map((f) => resolve(f)),
      projects: opts.projects,
    });
    if (opts.json) {
      json(report);
      return;
    }
    if (report.files.length === 0 && report.unreadable.length === 0) {
      info('No MCP client config found.');
      return;
    }
    const rows = report.files.map((f) => [f.client, String(f.servers), String(f.viaVault), String(f.plaintext), String(f.otherSecrets), f.path]);
    data(table(['CLIENT', 'SERVERS', 'VAULT', 'PLAINTEXT', 'OTHER', 'FILE'], rows));
    for (const u of report.unreadable) info(`Not read: ${u.path} ${u.reason}`);
  });
