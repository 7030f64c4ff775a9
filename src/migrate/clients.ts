/**
 * `mcp-tokens clients`: the MCP clients whose config files are on this machine, each file with how
 * many servers it has, how many start through the vault (`mcp-tokens run`, or a remote server's
 * `headersHelper` of `mcp-tokens headers`), and how many still
 * hold a plaintext credential. Reads what migrate reads, writes nothing, needs no vault: what a
 * user runs before and after `migrate`.
 */
import { basename } from 'node:path';
import { getNodeValue } from 'jsonc-parser';
import { scanClientConfigs, type ServerEntry } from './sources/configs.js';
import type { PlanOptions } from './plan.js';

export interface ClientFile {
  client: string;
  path: string;
  format: 'JSON' | 'TOML' | 'YAML';
  servers: number;
  /** Servers started through `mcp-tokens run`. */
  viaVault: number;
  /** Servers with a plaintext credential in them (env, args, headers…). */
  plaintext: number;
  /** Credentials in the file outside any server entry (a client's own API key…). */
  otherSecrets: number;
  /** A project-level file: the project folder. */
  project?: string;
}

export interface ClientsReport {
  files: ClientFile[];
  /** Files that may hold credentials but could not be read (not valid TOML, a link not followed…). */
  unreadable: { path: string; reason: string }[];
}

function throughVault(s: ServerEntry): boolean {
  if (s.command === undefined) {
    // A remote server of Claude Code whose headers come from `mcp-tokens headers` (headersHelper).
    const helper = (getNodeValue(s.node) as Record<string, unknown>)['headersHelper'];
    const words = typeof helper === 'string' ? /^(?:'([^']*)'|(\S+)) (\S+)/.exec(helper) : null;
    return words !== null && basename(words[1] ?? words[2]!).replace(/\.(cmd|exe|js)$/i, '') === 'mcp-tokens' && words[3] === 'headers';
  }
  const name = basename(s.command).replace(/\.(cmd|exe|js)$/i, '');
  return name === 'mcp-tokens' && s.args[0] === 'run' && s.args.includes('--');
}

export async function surveyClients(o: Pick<PlanOptions, 'home' | 'cwd' | 'platform' | 'env' | 'configs' | 'projects' | 'clientConfigs'>): Promise<ClientsReport> {
  const conf = await scanClientConfigs(o);
  const files: ClientFile[] = [];
  for (const [path, c] of conf.configs) {
    const holds = (s: ServerEntry): boolean =>
      conf.candidates.some((x) => x.path === path && x.server !== undefined && x.server.length === s.path.length && x.server.every((p, i) => p === s.path[i])) ||
      conf.left.some((l) => l.path === path && l.where.startsWith(`server '${s.name}' `)) ||
      c.shadowed.some((d) => d.server !== undefined && d.server.every((p, i) => p === s.path[i]));
    const named = c.servers.map((s) => `server '${s.name}' `);
    files.push({
      client: c.location.client === 'MCP' ? `${clientOf(c.servers)} (--config)` : c.location.client,
      path,
      format: c.format.label as ClientFile['format'],
      servers: c.servers.length,
      viaVault: c.servers.filter(throughVault).length,
      plaintext: c.servers.filter(holds).length,
      otherSecrets: conf.left.filter((l) => l.path === path && !named.some((n) => l.where.startsWith(n))).length,
      ...(c.location.project !== undefined ? { project: c.location.project } : {}),
    });
  }
  const unreadable = conf.refused.filter((r) => r.mayHoldSecrets && r.reason !== 'does not exist').map((r) => ({ path: r.path, reason: r.reason }));
  return { files, unreadable };
}

function clientOf(servers: readonly ServerEntry[]): string {
  return servers.find((s) => s.shape.client !== undefined)?.shape.client ?? 'MCP config';
}
