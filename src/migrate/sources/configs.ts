/**
 * MCP client configs. Every client keeps servers as `{ command, args, env }` objects under
 * `mcpServers` (Claude Desktop, Claude Code, Cursor, Windsurf), `servers` (VS Code) or, in
 * `~/.claude.json`, also `projects.<path>.mcpServers`. All are read as JSONC, so one scanner
 * handles every file, including a `--config PATH` of any of these shapes.
 */
import { posix, win32 } from 'node:path';
import { getNodeValue, findNodeAtLocation, type Node } from 'jsonc-parser';
import { readNoFollow, unreadable, type ReadFile } from '../fsutil.js';
import { parseJsonc } from '../jsonc-edit.js';
import { candidate, fieldByEnv, fieldByFormat, isReference, KNOWN_FIELDS } from '../known.js';
import type { Candidate, Refusal } from '../types.js';

const MAX_CONFIG_BYTES = 64 * 1024 * 1024; // ~/.claude.json keeps history and grows large

export interface ConfigLocation {
  path: string;
  client: string;
  explicit: boolean;
}

export interface ConfigPathOptions {
  home: string;
  cwd: string;
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
}

/** Where each client keeps its config on this platform (user-level and project-level). */
export function configLocations(o: ConfigPathOptions): ConfigLocation[] {
  const p = o.platform === 'win32' ? win32 : posix;
  const appData = o.env['APPDATA'] ?? p.join(o.home, 'AppData', 'Roaming');
  const xdg = o.env['XDG_CONFIG_HOME'] ?? p.join(o.home, '.config');
  const appDir = o.platform === 'darwin' ? p.join(o.home, 'Library', 'Application Support') : o.platform === 'win32' ? appData : xdg;
  const list: [string, string][] = [
    [p.join(appDir, 'Claude', 'claude_desktop_config.json'), 'Claude Desktop'],
    [p.join(o.home, '.claude.json'), 'Claude Code (user)'],
    [p.join(o.cwd, '.mcp.json'), 'Claude Code (project)'],
    [p.join(appDir, 'Code', 'User', 'mcp.json'), 'VS Code (user)'],
    [p.join(appDir, 'Code - Insiders', 'User', 'mcp.json'), 'VS Code Insiders (user)'],
    [p.join(o.cwd, '.vscode', 'mcp.json'), 'VS Code (workspace)'],
    [p.join(o.home, '.cursor', 'mcp.json'), 'Cursor (user)'],
    [p.join(o.cwd, '.cursor', 'mcp.json'), 'Cursor (project)'],
    [p.join(o.home, '.codeium', 'windsurf', 'mcp_config.json'), 'Windsurf'],
  ];
  const seen = new Set<string>();
  return list.filter(([path]) => !seen.has(path) && seen.add(path)).map(([path, client]) => ({ path, client, explicit: false }));
}

export interface ServerEntry {
  /** JSON path of the server object. */
  path: (string | number)[];
  name: string;
  command: string | undefined;
  args: string[];
  /** Every `env` entry with a string value, in file order. */
  env: { name: string; value: string }[];
  /** Number of properties in `env`, string or not. */
  envSize: number;
  hasArgs: boolean;
}

export interface ConfigFile {
  location: ConfigLocation;
  file: ReadFile;
  text: string;
  servers: ServerEntry[];
}

export interface ConfigScan {
  candidates: Candidate[];
  configs: Map<string, ConfigFile>;
  refused: Refusal[];
}

export async function scanConfigs(locations: readonly ConfigLocation[], scan: ConfigScan): Promise<void> {
  for (const location of locations) {
    if (scan.configs.has(location.path)) continue;
    // Each file on its own: whatever one file does (even an error nobody foresaw) is reported
    // against that file and the others are still read.
    try {
      await scanConfig(location, scan); // adds to `scan` only once the whole file was read
    } catch (e) {
      scan.refused.push({ path: location.path, reason: unreadable(e) });
    }
  }
}

async function scanConfig(location: ConfigLocation, scan: ConfigScan): Promise<void> {
  const read = await readNoFollow(location.path, MAX_CONFIG_BYTES);
  if (!read.ok) {
    if (!read.absent || location.explicit) scan.refused.push({ path: location.path, reason: read.absent ? 'does not exist' : read.reason });
    return;
  }
  const text = read.file.bytes.toString('utf8');
  const parsed = parseJsonc(text);
  if (!parsed.ok || parsed.root.type !== 'object') {
    scan.refused.push({ path: location.path, reason: `${parsed.ok ? 'is not a JSON object' : parsed.reason}; not edited` });
    return;
  }
  const servers = findServers(parsed.root);
  const found: Candidate[] = [];
  const refused: Refusal[] = [];
  for (const s of servers) addCandidates(location, s, found);
  for (const s of servers) reportStray(location, parsed.root, s, refused);
  scan.configs.set(location.path, { location, file: read.file, text, servers });
  scan.candidates.push(...found);
  scan.refused.push(...refused);
}

/** Server objects under `mcpServers`, `servers` and `projects.*.mcpServers`. */
function findServers(root: Node): ServerEntry[] {
  const containers: (string | number)[][] = [['mcpServers'], ['servers']];
  const projects = findNodeAtLocation(root, ['projects']);
  for (const prop of projects?.type === 'object' ? (projects.children ?? []) : []) {
    const key = prop.children?.[0]?.value as unknown;
    if (typeof key === 'string') containers.push(['projects', key, 'mcpServers']);
  }
  const out: ServerEntry[] = [];
  for (const c of containers) {
    const node = findNodeAtLocation(root, c);
    if (node?.type !== 'object') continue;
    for (const prop of node.children ?? []) {
      const name = prop.children?.[0]?.value as unknown;
      const value = prop.children?.[1];
      if (typeof name !== 'string' || value?.type !== 'object') continue;
      const obj = getNodeValue(value) as Record<string, unknown>;
      const env = obj['env'];
      const envObject = env && typeof env === 'object' && !Array.isArray(env) ? (env as Record<string, unknown>) : {};
      const args = obj['args'];
      out.push({
        path: [...c, name],
        name,
        command: typeof obj['command'] === 'string' ? obj['command'] : undefined,
        args: Array.isArray(args) ? args.filter((a): a is string => typeof a === 'string') : [],
        hasArgs: args !== undefined,
        env: Object.entries(envObject).flatMap(([k, v]) => (typeof v === 'string' ? [{ name: k, value: v }] : [])),
        envSize: Object.keys(envObject).length,
      });
    }
  }
  return out;
}

function addCandidates(location: ConfigLocation, s: ServerEntry, out: Candidate[]): void {
  for (const { name, value } of s.env) {
    if (value.trim() === '' || isReference(value)) continue;
    const field = fieldByEnv(name) ?? fieldByFormat(name, value);
    if (!field) continue;
    const source = `${location.client} config, server '${s.name}'`;
    out.push(
      candidate({ kind: 'config', source, path: location.path, envName: name, server: s.path, service: field.service, key: field.key }, value),
    );
  }
}

/** A token in `args`, `headers` or a URL is not something migrate can move: say where it is. */
function reportStray(location: ConfigLocation, root: Node, s: ServerEntry, refused: Refusal[]): void {
  const node = findNodeAtLocation(root, s.path);
  const strings: { where: string; value: string }[] = [];
  const walk = (n: Node | undefined, where: string): void => {
    if (!n) return;
    if (n.type === 'string' && typeof n.value === 'string') strings.push({ where, value: n.value });
    for (const child of n.children ?? []) {
      const key = n.type === 'object' ? (child.children?.[0]?.value as string) : '';
      if (n.type === 'object' && key === 'env') continue; // env entries are handled above
      walk(n.type === 'object' ? child.children?.[1] : child, n.type === 'object' ? key : where);
    }
  };
  walk(node, '');
  const secrets = KNOWN_FIELDS.filter((f) => f.secret);
  for (const { where, value } of strings) {
    const words = [value, ...value.split(/\s+/).flatMap((w) => [w, w.slice(w.indexOf('=') + 1)])];
    if (secrets.some((f) => words.some((w) => f.validate(w) === undefined))) {
      refused.push({
        path: location.path,
        reason: `server '${s.name}' has a credential in '${where}', outside 'env'; migrate moves only env entries: move it by hand`,
      });
    }
  }
}
