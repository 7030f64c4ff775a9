/**
 * MCP client configs. Every client keeps servers as `{ command, args, env }` objects under
 * `mcpServers` (Claude Desktop, Claude Code, Cursor, Windsurf), `servers` (VS Code) or, in
 * `~/.claude.json`, also `projects.<path>.mcpServers`. All are read as JSONC, so one scanner
 * handles every file, including a `--config PATH` of any of these shapes.
 */
import { readdirSync } from 'node:fs';
import { basename, posix, win32 } from 'node:path';
import { getNodeValue, type Node } from 'jsonc-parser';
import { readSource, unreadable, type ReadFile } from '../fsutil.js';
import { findLast, hasShadowed, parseJsonc, shadowedProperties } from '../jsonc-edit.js';
import { isSecretName, looksSecret, secretShape } from '../detect.js';
import { formatOf, type ConfigFormat } from '../formats/index.js';
import { looksLikeCredential } from '../../credential-shape.js';
import { candidate, fieldByEnv, fieldByFormat, isReference, KNOWN_FIELDS, mask } from '../known.js';
import type { Candidate, Leftover, Refusal } from '../types.js';
import { keyFromEnv, userServiceName } from '../accounts.js';
import { unsafeExportName } from '../../launch/env-names.js';
import { HEADER_NAME } from '../../launch/headers.js';

const BUILTIN_NAMES = [...new Set(KNOWN_FIELDS.map((f) => f.service))].join(', ');

const MAX_CONFIG_BYTES = 64 * 1024 * 1024; // ~/.claude.json keeps history and grows large

export interface ConfigLocation {
  path: string;
  client: string;
  explicit: boolean;
  /** A project-level config (found in a project folder, not the user's own): the folder. */
  project?: string;
}

export interface ConfigPathOptions {
  home: string;
  cwd: string;
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * The project-level configs of a folder, by client: `[relative path, client]`. A `*` as the last
 * part stands for every .yaml/.yml/.json file of that folder (Continue's .continue/mcpServers/).
 */
const PROJECT_FILES: readonly (readonly [string[], string])[] = [
  [['.mcp.json'], 'Claude Code (project)'],
  [['.vscode', 'mcp.json'], 'VS Code (workspace)'],
  [['.cursor', 'mcp.json'], 'Cursor (project)'],
  [['.gemini', 'settings.json'], 'Gemini CLI (project)'],
  [['.codex', 'config.toml'], 'Codex (project)'],
  [['.zed', 'settings.json'], 'Zed (project)'],
  [['opencode.json'], 'opencode (project)'],
  [['opencode.jsonc'], 'opencode (project)'],
  [['.continue', 'mcpServers', '*'], 'Continue (workspace)'],
  [['.roo', 'mcp.json'], 'Roo Code (project)'],
  [['.kiro', 'settings', 'mcp.json'], 'Kiro (project)'],
  [['.amazonq', 'mcp.json'], 'Amazon Q (project)'],
  [['.warp', '.mcp.json'], 'Warp (project)'],
  [['.github', 'mcp.json'], 'Copilot CLI (project)'],
  [['.air', 'mcp.json'], 'JetBrains Air (project)'],
];

/** Files of a folder matching `*` (YAML or JSON), sorted; none when it cannot be listed. */
function filesIn(dir: string, p: typeof posix): string[] {
  try {
    return readdirSync(dir).filter((f) => /\.(ya?ml|json)$/i.test(f)).sort().map((f) => p.join(dir, f));
  } catch {
    return [];
  }
}

function expand(folder: string, rel: readonly string[], p: typeof posix): string[] {
  return rel.at(-1) === '*' ? filesIn(p.join(folder, ...rel.slice(0, -1)), p) : [p.join(folder, ...rel)];
}

/** The project-level configs of a project folder (one listed in ~/.claude.json). */
export function projectLocations(folder: string, platform: NodeJS.Platform): ConfigLocation[] {
  const p = platform === 'win32' ? win32 : posix;
  if (!p.isAbsolute(folder)) return [];
  return PROJECT_FILES.flatMap(([rel, client]) => expand(folder, rel, p).map((path) => ({ path, client: `${client} ${folder}`, explicit: false, project: folder })));
}

/**
 * Where each client keeps its MCP servers on this platform, user-level then project-level (the
 * folder migrate runs in). From each client's own documentation; docs/migrate.md lists
 * them. `[path, client, project?]`.
 */
export function configLocations(o: ConfigPathOptions): ConfigLocation[] {
  const p = o.platform === 'win32' ? win32 : posix;
  const h = (...parts: string[]): string => p.join(o.home, ...parts);
  const appData = o.env['APPDATA'] ?? h('AppData', 'Roaming');
  const localAppData = o.env['LOCALAPPDATA'] ?? h('AppData', 'Local');
  const xdg = o.env['XDG_CONFIG_HOME'] ?? h('.config');
  const appDir = o.platform === 'darwin' ? h('Library', 'Application Support') : o.platform === 'win32' ? appData : xdg;
  const codexHome = o.env['CODEX_HOME'] ?? h('.codex');
  const copilotHome = o.env['COPILOT_HOME'] ?? h('.copilot');
  const c = (...parts: string[]): string => p.join(o.cwd, ...parts);
  // The first clients migrate knew, in the order it has always read them; then the others.
  const list: [string, string, boolean?][] = [
    [p.join(appDir, 'Claude', 'claude_desktop_config.json'), 'Claude Desktop'],
    [h('.claude.json'), 'Claude Code (user)'],
    [c('.mcp.json'), 'Claude Code (project)', true],
    [p.join(appDir, 'Code', 'User', 'mcp.json'), 'VS Code (user)'],
    [p.join(appDir, 'Code - Insiders', 'User', 'mcp.json'), 'VS Code Insiders (user)'],
    [c('.vscode', 'mcp.json'), 'VS Code (workspace)', true],
    [h('.cursor', 'mcp.json'), 'Cursor (user)'],
    [c('.cursor', 'mcp.json'), 'Cursor (project)', true],
    [h('.codeium', 'windsurf', 'mcp_config.json'), 'Windsurf'],
  ];
  // Claude Desktop from the Microsoft Store (MSIX) keeps its files in its package's virtualised AppData.
  if (o.platform === 'win32') {
    const packages = p.join(localAppData, 'Packages');
    let names: string[] = [];
    try {
      names = readdirSync(packages).filter((n) => n.startsWith('Claude_')).sort();
    } catch {
      names = [];
    }
    for (const n of names) list.push([p.join(packages, n, 'LocalCache', 'Roaming', 'Claude', 'claude_desktop_config.json'), 'Claude Desktop (Microsoft Store)']);
  }
  for (const [code, name] of [['Code', 'VS Code'], ['Code - Insiders', 'VS Code Insiders']] as const) {
    const user = p.join(appDir, code, 'User');
    list.push([p.join(user, 'mcp.json'), `${name} (user)`]);
    list.push([p.join(user, 'settings.json'), `${name} (settings.json)`]);
    for (const profile of dirsIn(p.join(user, 'profiles'))) list.push([p.join(user, 'profiles', profile, 'mcp.json'), `${name} (profile ${profile})`]);
    list.push([p.join(user, 'globalStorage', 'saoudrizwan.claude-dev', 'settings', 'cline_mcp_settings.json'), `Cline (${name})`]);
    list.push([p.join(user, 'globalStorage', 'rooveterinaryinc.roo-cline', 'settings', 'mcp_settings.json'), `Roo Code (${name})`]);
  }
  list.push(
    [h('.cline', 'data', 'settings', 'cline_mcp_settings.json'), 'Cline CLI'],
    [h('.gemini', 'settings.json'), 'Gemini CLI (user)'],
    [p.join(codexHome, 'config.toml'), 'Codex (user)'],
    [o.platform === 'win32' ? p.join(appData, 'Zed', 'settings.json') : p.join(xdg, 'zed', 'settings.json'), 'Zed (user)'],
    [o.platform === 'win32' ? p.join(appData, 'Block', 'goose', 'config', 'config.yaml') : p.join(xdg, 'goose', 'config.yaml'), 'Goose'],
    [h('.continue', 'config.yaml'), 'Continue (user)'],
    ...filesIn(h('.continue', 'mcpServers'), p).map((f): [string, string] => [f, 'Continue (user)']),
    [p.join(xdg, 'opencode', 'opencode.json'), 'opencode (user)'],
    [p.join(xdg, 'opencode', 'opencode.jsonc'), 'opencode (user)'],
    [h('.kiro', 'settings', 'mcp.json'), 'Kiro (user)'],
    [h('.aws', 'amazonq', 'mcp.json'), 'Amazon Q (user)'],
    [h('.lmstudio', 'mcp.json'), 'LM Studio'],
    [h('.warp', '.mcp.json'), 'Warp (user)'],
    [p.join(copilotHome, 'mcp-config.json'), 'Copilot CLI (user)'],
  );
  const seen = new Set<string>();
  // Run from HOME, ~/.cursor/mcp.json is the user's own file, not a project's.
  const home = samePlace(o.cwd, o.home, o.platform);
  const user = list.filter(([path]) => !seen.has(path) && seen.add(path)).map(([path, client, project]) => ({ path, client, explicit: false, ...(project && !home ? { project: o.cwd } : {}) }));
  const project = PROJECT_FILES.flatMap(([rel, client]) => expand(o.cwd, rel, p).map((path) => ({ path, client, explicit: false, ...(home ? {} : { project: o.cwd }) })))
    .filter((l) => !seen.has(l.path) && seen.add(l.path));
  return [...user, ...project];
}

function dirsIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

function samePlace(a: string, b: string, platform: NodeJS.Platform): boolean {
  const p = platform === 'win32' ? win32 : posix;
  return p.resolve(a) === p.resolve(b);
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
  /** The entry's value node, and the object holding it (`mcpServers`…), in the parsed tree. */
  node: Node;
  container: Node;
  /** Duplicate keys in the entry, or earlier entries of its name: the rewrite removes them. */
  duplicates: boolean;
  /** Which keys the client uses for the command, its arguments and its variables. */
  shape: ServerShape;
}

/**
 * How a client writes a server: the object (or list) holding the servers, and the keys of one.
 * Most use `{command, args, env}`; Goose `{cmd, args, envs}`; opencode `{command: [cmd, ...args],
 * environment}`; Continue a list of `{name, command, args, env}`.
 */
export interface ServerShape {
  container: readonly string[];
  command: string;
  /** The command is a list: the command then its arguments (opencode). */
  commandArray?: true;
  args: string;
  env: string;
  /** Which entries of the container are servers of this shape (Goose's builtin extensions are not). */
  accept?: (entry: Record<string, unknown>) => boolean;
  /** The client of this shape, when its records are not enough to tell (a --config file). */
  client?: string;
}

const STANDARD = { command: 'command', args: 'args', env: 'env' } as const;

/** Every shape, read from every file: the container names do not collide between clients. */
export const SHAPES: readonly ServerShape[] = [
  { container: ['mcpServers'], ...STANDARD },
  { container: ['servers'], ...STANDARD },
  { container: ['mcp', 'servers'], ...STANDARD, client: 'VS Code (settings.json)' },
  { container: ['context_servers'], ...STANDARD, client: 'Zed' },
  { container: ['mcp_servers'], ...STANDARD, client: 'Codex' },
  { container: ['extensions'], command: 'cmd', args: 'args', env: 'envs', accept: (e) => typeof e['cmd'] === 'string' || e['type'] === 'stdio', client: 'Goose' },
  { container: ['mcp'], command: 'command', commandArray: true, args: 'command', env: 'environment', accept: (e) => Array.isArray(e['command']) || e['type'] === 'local' || e['type'] === 'remote', client: 'opencode' },
];

/**
 * A secret in a part of the file no client reads: a key that appears again later in the same
 * object (JSON.parse, and so every client, keeps only the last). Never the value, only its mask.
 */
export interface ShadowedSecret {
  /** The server entry (the one clients use) it belongs to: an earlier entry of the same name, or a key overridden inside it. */
  server?: (string | number)[];
  /** Where in the file: "server 'github' env GITHUB_TOKEN (an earlier duplicate of the key)". */
  where: string;
  masked: string;
  why: string;
  /** The entry clients use holds the same value (so nothing but a copy is lost when it goes). */
  same: boolean;
}

export interface ConfigFile {
  location: ConfigLocation;
  file: ReadFile;
  /** The file's text (without a BOM). */
  text: string;
  format: ConfigFormat;
  servers: ServerEntry[];
  /** Project folders listed under `projects` (~/.claude.json): their own configs are read too. */
  projects: string[];
  /** Secrets under duplicate keys that clients never read (removed when their server is rewritten). */
  shadowed: ShadowedSecret[];
}

export interface ConfigScan {
  candidates: Candidate[];
  configs: Map<string, ConfigFile>;
  refused: Refusal[];
  left: Leftover[];
}

/**
 * Every client config migrate and `clients` look at: the files given with --config, every
 * client's own (unless `clientConfigs` is false), and the project configs of each folder Claude
 * Code lists (unless `projects` is false), each read once.
 */
export async function scanClientConfigs(o: ConfigPathOptions & { configs?: readonly string[] | undefined; clientConfigs?: boolean | undefined; projects?: boolean | undefined }): Promise<ConfigScan> {
  const conf: ConfigScan = { candidates: [], configs: new Map(), refused: [], left: [] };
  const explicit = (o.configs ?? []).map((path) => ({ path, client: 'MCP', explicit: true }));
  await scanConfigs([...explicit, ...(o.clientConfigs === false ? [] : configLocations(o))], conf);
  if (o.projects !== false && o.clientConfigs !== false) {
    // Claude Code lists every project it was opened in: their .mcp.json etc. wherever they are.
    const folders = [...conf.configs.values()].filter((c) => c.location.client.startsWith('Claude Code (user)')).flatMap((c) => c.projects);
    await scanConfigs(folders.flatMap((f) => projectLocations(f, o.platform)), conf);
  }
  return conf;
}

export async function scanConfigs(locations: readonly ConfigLocation[], scan: ConfigScan): Promise<void> {
  for (const location of locations) {
    if (scan.configs.has(location.path)) continue;
    // Each file on its own: whatever one file does (even an error nobody foresaw) is reported
    // against that file and the others are still read.
    try {
      await scanConfig(location, scan); // adds to `scan` only once the whole file was read
    } catch (e) {
      scan.refused.push({ path: location.path, reason: unreadable(e), mayHoldSecrets: true });
    }
  }
}

async function scanConfig(location: ConfigLocation, scan: ConfigScan): Promise<void> {
  const read = await readSource(location.path, MAX_CONFIG_BYTES);
  if (!read.ok) {
    if (!read.absent || location.explicit) {
      // ~/.claude.json keeps Claude Code's history and is the one config that grows this large.
      const step = read.tooLarge
        ? `move the tokens out of its "env" entries by hand (or let the client trim it: for ~/.claude.json, Claude Code's history is what takes the room) and re-run mcp-tokens migrate`
        : read.step;
      scan.refused.push({ path: location.path, reason: read.absent ? 'does not exist' : `${read.reason}: check it by hand for tokens`, mayHoldSecrets: !read.absent, ...(step !== undefined ? { step } : {}) });
    }
    return;
  }
  // One file reached by two paths (a link and its target, both listed) is read and edited once.
  const real = read.file.target ?? location.path;
  if ([...scan.configs.values()].some((c) => (c.file.target ?? c.location.path) === real)) return;
  // A UTF-8 BOM (Windows editors) is not JSON: parse without it; apply puts it back.
  const text = stripBom(read.file.bytes.toString('utf8'));
  const format = formatOf(location.path);
  // TOML and YAML are read by their own parsers; the scanner then walks the same data as JSON
  // (paths are the same in all three), and rewrites go back through the format (formats/).
  const parsed = format.id === 'json' ? parseJsonc(text) : jsonView(format, text);
  if (!parsed.ok || parsed.root.type !== 'object') {
    if (format.id === 'json') {
      scan.refused.push({ path: location.path, reason: `${parsed.ok ? 'is not a JSON object' : parsed.reason}; not edited`, mayHoldSecrets: true });
    } else {
      // Read as TOML or YAML by its name: say so, never "not valid JSON".
      const reason = parsed.ok ? `is a ${format.label} file whose top level is not a table of settings` : `is not valid ${format.label} (read as ${format.label} by its name: ${parsed.reason})`;
      scan.refused.push({ path: location.path, reason: `${reason}; not edited`, mayHoldSecrets: true, step: `fix the ${format.label} syntax (or move any token out of it by hand), then re-run mcp-tokens migrate` });
    }
    return;
  }
  const root = parsed.root;
  const servers = findServers(root);
  const projects = findLast(root, ['projects']);
  const folders = (projects?.type === 'object' ? (projects.children ?? []) : []).flatMap((p) => {
    const key = p.children?.[0]?.value as unknown;
    return typeof key === 'string' && key !== '' ? [key] : [];
  });
  const found: Candidate[] = [];
  const left: Leftover[] = [];
  for (const s of servers) {
    const taken = addCandidates(location, s, found);
    left.push(...strays(location, root, s, taken));
  }
  left.push(...sweep(location, root, servers, format));
  scan.configs.set(location.path, { location, file: read.file, text, format, servers, projects: folders, shadowed: format.id === 'json' ? shadowedSecrets(root, servers) : [] });
  scan.candidates.push(...found);
  scan.left.push(...left);
}

/**
 * Server objects under `mcpServers`, `servers` and `projects.*.mcpServers`, as clients see them:
 * where a key appears twice (a container, a server name, `env`, a variable), the last one.
 */
function findServers(root: Node): ServerEntry[] {
  const shapes: ServerShape[] = [...SHAPES];
  const projects = findLast(root, ['projects']);
  const dead = new Set(projects ? shadowedProperties(projects) : []);
  for (const prop of projects?.type === 'object' ? (projects.children ?? []) : []) {
    const key = prop.children?.[0]?.value as unknown;
    if (typeof key === 'string' && !dead.has(prop)) shapes.push({ container: ['projects', key, 'mcpServers'], ...STANDARD });
  }
  const out: ServerEntry[] = [];
  for (const shape of shapes) {
    const node = findLast(root, [...shape.container]);
    if (node?.type !== 'object' && node?.type !== 'array') continue;
    const earlier = new Set(node.type === 'object' ? shadowedProperties(node) : []);
    (node.children ?? []).forEach((child, index) => {
      // An object of servers by name, or (Continue) a list of servers with a `name`.
      const value = node.type === 'object' ? child.children?.[1] : child;
      if (value?.type !== 'object' || earlier.has(child)) return;
      const obj = getNodeValue(value) as Record<string, unknown>;
      const name = node.type === 'object' ? (child.children?.[0]?.value as unknown) : obj['name'];
      if (typeof name !== 'string' || (shape.accept && !shape.accept(obj))) return;
      const env = obj[shape.env];
      const envObject = env && typeof env === 'object' && !Array.isArray(env) ? (env as Record<string, unknown>) : {};
      const command = obj[shape.command];
      const line = shape.commandArray ? (Array.isArray(command) ? command : undefined) : undefined;
      const args = shape.commandArray ? line?.slice(1) : obj[shape.args];
      const first: unknown = line ? line[0] : command;
      out.push({
        path: [...shape.container, node.type === 'object' ? name : index],
        name,
        command: typeof first === 'string' ? first : undefined,
        args: Array.isArray(args) ? args.filter((a): a is string => typeof a === 'string') : [],
        hasArgs: args !== undefined,
        env: Object.entries(envObject).flatMap(([k, v]) => (typeof v === 'string' ? [{ name: k, value: v }] : [])),
        envSize: Object.keys(envObject).length,
        node: value,
        container: node,
        duplicates: node.type === 'object' && hasShadowed(node, name, value),
        shape,
      });
    });
  }
  return out;
}

/** TOML or YAML data as a JSON tree, for the scanner (offsets are those of the view, never of the file). */
function jsonView(format: ConfigFormat, text: string): ReturnType<typeof parseJsonc> {
  const data = format.parse(text);
  if (!data.ok) return data;
  const view = JSON.stringify(data.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
  return parseJsonc(view);
}

/**
 * Every secret under a key that a later key of the same name overrides, anywhere in the file. A
 * client never reads it, but it is plaintext all the same: it is removed with its server's rewrite
 * (rewrite.ts) or listed as left (left.ts). Each is tied to the server entry clients use when it is
 * an earlier entry of the same name or lies inside that entry.
 */
function shadowedSecrets(root: Node, servers: readonly ServerEntry[]): ShadowedSecret[] {
  const out: ShadowedSecret[] = [];
  const label = (path: readonly (string | number)[]): string => path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
  const collect = (prop: Node, parent: Node, path: (string | number)[]): void => {
    const key = String(prop.children![0]!.value);
    const inside = servers.find((s) => prop.offset >= s.node.offset && prop.offset < s.node.offset + s.node.length);
    const copy = inside ? undefined : servers.find((s) => s.container === parent && s.name === key);
    const owner = inside ?? copy;
    // The values of the entry as clients see it (last key wins), to say whether a copy differs.
    const used = new Set<string>();
    const gather = (v: unknown): void => {
      if (typeof v === 'string') used.add(v);
      else if (v && typeof v === 'object') for (const x of Object.values(v)) gather(x);
    };
    if (owner) gather(getNodeValue(owner.node));
    const base = owner ? path.slice(owner.path.length) : path;
    strings(prop.children![1], key, (name, value, rel) => {
      if (isReference(value)) return;
      const why = looksSecret(name, value);
      if (!why) return;
      const at = label([...base, ...rel]);
      const where = copy
        ? `server '${copy.name}' ${at ? `${at} ` : ''}(in an earlier entry of the same name)`
        : `${owner ? `server '${owner.name}' ` : ''}${at} (${rel.length ? `under an earlier duplicate of "${key}"` : 'an earlier duplicate of the key'})`;
      out.push({ ...(owner ? { server: owner.path } : {}), where, masked: mask(value), why, same: used.has(value) });
    });
  };
  const visit = (node: Node, path: (string | number)[]): void => {
    if (node.type === 'object') {
      const dead = new Set(shadowedProperties(node));
      for (const p of node.children ?? []) {
        const key = p.children?.[0]?.value;
        const value = p.children?.[1];
        if (typeof key !== 'string' || !value) continue;
        if (dead.has(p)) collect(p, node, [...path, key]);
        else visit(value, [...path, key]);
      }
    } else if (node.type === 'array') {
      (node.children ?? []).forEach((c, i) => visit(c, [...path, i]));
    }
  };
  visit(root, []);
  return out;
}

/** Every string under `node`, with the name of the property holding it and its path below `node`. */
function strings(node: Node | undefined, name: string | undefined, f: (name: string | undefined, value: string, rel: (string | number)[]) => void, rel: (string | number)[] = []): void {
  if (!node) return;
  if (node.type === 'string' && typeof node.value === 'string') f(name, node.value, rel);
  else if (node.type === 'object') {
    for (const p of node.children ?? []) {
      const key = p.children?.[0]?.value;
      if (typeof key === 'string') strings(p.children?.[1], key, f, [...rel, key]);
    }
  } else if (node.type === 'array') (node.children ?? []).forEach((c, i) => strings(c, name, f, [...rel, i]));
}

/** What addCandidates took: env names, the args indices of Docker `-e NAME=value`, header names. */
interface Taken {
  env: Set<string>;
  args: Set<number>;
  headers: Set<string>;
}


/**
 * Claude Code's remote servers (`"type": "http"|"sse"`, `url`, `headers`) with no `headersHelper`
 * of their own: a header holding a credential moves to the vault, and the entry gets a
 * `headersHelper` (a command Claude Code runs, whose stdout is a JSON object of headers) that
 * prints it. `Authorization: <scheme> <token>` keeps its scheme in the entry; any other header
 * moves whole. The headers are read as Claude Code reads them; a value it would expand (`${VAR}`)
 * is no plaintext.
 */
function remoteHeaders(location: ConfigLocation, s: ServerEntry): { name: string; prefix: string; value: string }[] {
  const client = location.explicit ? (s.shape.client ?? location.client) : location.client;
  if (!client.startsWith('Claude Code') || s.command !== undefined) return [];
  const obj = getNodeValue(s.node) as Record<string, unknown>;
  if ((obj['type'] !== 'http' && obj['type'] !== 'sse') || typeof obj['url'] !== 'string' || obj['headersHelper'] !== undefined) return [];
  const headers = obj['headers'];
  if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return [];
  const out: { name: string; prefix: string; value: string }[] = [];
  for (const [name, raw] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof raw !== 'string' || !HEADER_NAME.test(name) || isReference(raw)) continue;
    const auth = /^authorization$/i.test(name);
    const scheme = auth ? /^([A-Za-z][A-Za-z0-9._~+/-]*) +(\S{8,})$/.exec(raw) : null;
    const value = scheme ? scheme[2]! : raw;
    if (/[\u0000-\u001f\u007f]/.test(value) || value.trim() !== value) continue;
    const secret = auth ? value.length >= 8 : looksSecret(name, value) !== undefined || looksLikeCredential(value);
    if (secret) out.push({ name, prefix: scheme ? `${scheme[1]!} ` : '', value });
  }
  return out;
}

/** What migrate writes between `run` and `--`: services, `--env`, `NAME=service[@instance].key`. */
const RUN_ARG = /^(--env|[a-z][a-z0-9-]*(@[a-z][a-z0-9-]*)?|[A-Za-z_][A-Za-z0-9_]*=[a-z][a-z0-9-]*(@[a-z][a-z0-9-]*)?\.[a-z][a-z0-9-]*)$/;

/** mcp-remote, as `npx mcp-remote`, `mcp-remote@1.2.3`, or its installed `mcp-remote/dist/proxy.js`. */
const MCP_REMOTE = /(^|[\\/])mcp-remote(@[^\\/\s]*)?$|mcp-remote[\\/]dist[\\/]proxy\.js$/;

const DOCKER = /^(docker|podman|nerdctl)(\.exe)?$/i;

/** mcp-proxy (sparfenyuk/mcp-proxy), as a command, `uvx mcp-proxy` or `mcp-proxy@0.8`. */
const MCP_PROXY = /(^|[\\/])mcp-proxy(@[^\\/\s]*)?(\.exe)?$/i;

/**
 * Adds the server's credentials: env entries (and Docker `-e NAME=value`) of built-in fields, and
 * the other secrets of its env, which go to a service of the user's own named after the server.
 */
function addCandidates(location: ConfigLocation, s: ServerEntry, out: Candidate[]): Taken {
  const taken: Taken = { env: new Set(), args: new Set(), headers: new Set() };
  // What the server is (its name, command, args) decides between services a value's shape
  // fits equally: Home Assistant's mcp-proxy reads a JWT as API_ACCESS_TOKEN.
  const context = [s.name, s.command ?? '', ...s.args].join(' ');
  const source = `${location.client} config, server '${s.name}'`;
  const own = userServiceName(s.name);
  const add = (name: string, value: string, arg?: { at: number; after: string; note: string; secret: boolean; drop?: number[] }, header?: { name: string; prefix: string }): boolean => {
    if (value.trim() === '' || isReference(value)) return false;
    // A header: a known token format goes to its service (a GitHub token to github); anything
    // else to a service of the user's own named after the server (Authorization → `token`).
    const field = arg?.secret ? undefined : header ? fieldByFormat(name, value, context) : (fieldByEnv(name) ?? fieldByFormat(name, value, context));
    const key = field ? field.key : header ? (/^authorization$/i.test(header.name) ? 'token' : keyFromEnv(header.name)) : (arg?.secret || looksSecret(name, value)) && !unsafeExportName(name) ? keyFromEnv(name) : undefined;
    const service = field ? field.service : own;
    if (key === undefined || service === undefined) return false;
    const fields = { kind: 'config' as const, source, path: location.path, envName: name, server: s.path, service, key };
    const extra = {
      ...(arg ? { arg: arg.at, argAfter: arg.after, note: arg.note } : {}),
      ...(arg?.drop ? { argDrop: arg.drop } : {}),
      ...(header ? { header, note: `Claude Code asks mcp-tokens for the ${header.name} header (headersHelper): the value moves to the vault and the header leaves the entry` } : {}),
      ...(location.project !== undefined ? { project: location.project } : {}),
    };
    out.push(candidate({ ...fields, ...extra }, value));
    return true;
  };
  for (const { name, value } of s.env) if (add(name, value, undefined)) taken.env.add(name);
  for (const h of remoteHeaders(location, s)) if (add(`headers.${h.name}`, h.value, undefined, { name: h.name, prefix: h.prefix })) taken.headers.add(h.name);
  // Docker `-e NAME=value` becomes `-e NAME`: docker then takes the value from its own environment, which run sets.
  if (s.command !== undefined && DOCKER.test(basename(s.command))) {
    for (let i = 0; i + 1 < s.args.length; i++) {
      const a = s.args[i]!;
      const next = s.args[i + 1]!;
      if (a !== '-e' && a !== '--env') continue;
      const eq = next.indexOf('=');
      if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(next.slice(0, eq)) && !s.env.some((e) => e.name === next.slice(0, eq))) {
        const name = next.slice(0, eq);
        const note = `Docker's -e ${name}=… becomes -e ${name}: docker takes the value from its own environment, which mcp-tokens run sets`;
        if (add(name, next.slice(eq + 1), { at: i + 1, after: name, note, secret: false })) taken.args.add(i + 1);
      }
      i++;
    }
  }
  // mcp-remote expands ${VAR} in its --header values from its own environment (its documented
  // way to keep a header out of the client's config): the header's value moves to the vault.
  // Not in VS Code, which substitutes `${…}` in args itself.
  const remote = s.args.some((a) => MCP_REMOTE.test(a)) || (s.command !== undefined && MCP_REMOTE.test(s.command));
  if (remote && !location.client.startsWith('VS Code')) {
    for (let i = 0; i + 1 < s.args.length; i++) {
      if (s.args[i] !== '--header') continue;
      const next = s.args[i + 1]!;
      const colon = next.indexOf(':');
      const header = colon > 0 ? next.slice(0, colon).trim() : '';
      const value = colon > 0 ? next.slice(colon + 1).trim() : '';
      const secret = /^authorization$/i.test(header) ? value.length >= 8 : looksSecret(header, value) !== undefined;
      if (!/^[A-Za-z0-9-]{1,64}$/.test(header) || !secret || isReference(value)) continue;
      const name = /^authorization$/i.test(header) ? 'AUTH_HEADER' : `${header.toUpperCase().replace(/-/g, '_')}_HEADER`;
      if (s.env.some((e) => e.name === name)) continue;
      const note = `mcp-remote reads the header from \${${name}} in its --header argument: the value moves to the vault and mcp-tokens run sets ${name}`;
      if (add(name, value, { at: i + 1, after: `${header}:\${${name}}`, note, secret: true })) taken.args.add(i + 1);
      i++;
    }
  }
  // mcp-proxy (Home Assistant's official server runs through it) reads API_ACCESS_TOKEN instead
  // of `--headers Authorization 'Bearer …'`, its documented alternative: the three arguments go.
  const viaCommand = s.command !== undefined && MCP_PROXY.test(s.command);
  const proxyAt = viaCommand ? -1 : s.args.findIndex((a) => MCP_PROXY.test(a));
  if ((viaCommand || proxyAt >= 0) && !s.env.some((e) => e.name === 'API_ACCESS_TOKEN')) {
    const sep = s.args.indexOf('--', proxyAt + 1); // after `--`: the arguments of the command it spawns
    const end = sep < 0 ? s.args.length : sep;
    const flags: number[] = [];
    for (let i = proxyAt + 1; i + 2 < end; i++) {
      if ((s.args[i] === '-H' || s.args[i] === '--headers') && /^authorization$/i.test(s.args[i + 1]!)) flags.push(i);
    }
    const i = flags[0];
    const bearer = flags.length === 1 && i !== undefined ? /^Bearer\s+(\S{8,})$/i.exec(s.args[i + 2]!) : null;
    if (i !== undefined && bearer && !isReference(bearer[1]!)) {
      const note = "mcp-proxy reads API_ACCESS_TOKEN instead of --headers Authorization 'Bearer …' (its documented alternative): the token moves to the vault, the three arguments are removed and mcp-tokens run sets API_ACCESS_TOKEN";
      if (add('API_ACCESS_TOKEN', bearer[1]!, { at: i + 2, after: '', note, secret: false, drop: [i, i + 1, i + 2] })) {
        for (const k of [i, i + 1, i + 2]) taken.args.add(k);
      }
    }
  }
  return taken;
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The client's own way to keep a remote server's header out of its config file. */
function headerStep(client: string): string {
  if (client.startsWith('VS Code')) return 'use an "inputs" entry with "password": true and write "${input:<id>}" as the header value (VS Code keeps it in its secret storage)';
  if (client.startsWith('Claude Code')) return `store it (mcp-tokens store <service> token), remove the header and give the server "headersHelper": "mcp-tokens headers <service> --header 'Authorization=Bearer {token}'" (Claude Code runs it for the headers; migrate does this itself for an "http" or "sse" server with no headersHelper of its own); or write "\${VAR}" as the header value and set VAR in the environment Claude Code starts from`;
  if (client.startsWith('Cursor')) return 'write "${env:VAR}" as the header value and set VAR in the environment Cursor starts from';
  if (client.startsWith('Codex')) return 'Codex can read it from its own environment instead (Codex is not started by mcp-tokens, so migrate cannot rewrite this for you): store it (mcp-tokens store <service> token), replace it by `bearer_token_env_var = "VAR"` for an Authorization bearer token, or `env_http_headers = { "Header-Name" = "VAR" }`, and start Codex with VAR set: `mcp-tokens run --env VAR=<service>.token -- codex`, or `eval "$(mcp-tokens load --env VAR=<service>.token)"` in the shell that starts it';
  if (client.startsWith('Gemini')) return 'write "$VAR" as the header value (Gemini CLI expands environment variables in settings.json) and set VAR in the environment Gemini CLI starts from';
  if (client.startsWith('opencode')) return 'write "{env:VAR}" as the header value (opencode substitutes it) and set VAR in the environment opencode starts from';
  return 'remove it from the file by hand if the client can take it another way; otherwise keep the file readable only by you (chmod 600) and rotate the token if it was ever shared';
}

const ARGV_REASON = 'it is in the command line, which other users of this machine can read (ps)';

/**
 * Secrets of a server that migrate does not move: env entries of no built-in service, tokens in
 * `args` (flags, Docker `-e NAME=value`, `--header`), `headers` of remote servers, URLs. Each is
 * listed as left, with what to do.
 */
function strays(location: ConfigLocation, root: Node, s: ServerEntry, taken: Taken): Leftover[] {
  const out: Leftover[] = [];
  const at = (where: string, value: string, reason: string, step: string): void => {
    out.push({ path: location.path, where: `server '${s.name}' ${where}`, masked: mask(value), reason, step });
  };
  const envKey = s.shape.env;
  for (const { name, value } of s.env) {
    if (taken.env.has(name) || isReference(value)) continue;
    const why = looksSecret(name, value) ?? randomShaped(name, value);
    if (why) {
      at(`${envKey} ${name}`, value, `${why}, not a variable of a built-in service (${BUILTIN_NAMES}); mcp-tokens cannot hold it`,
        'remove it from this file by hand and give it to the server another way (e.g. from your OS keychain in a wrapper script), then rotate it');
    }
  }
  const args = s.args;
  // Already launched through `mcp-tokens run … --`: its own arguments (`--env NAME=service.key`) hold no secret.
  const dd = args.indexOf('--');
  const wrapped = args[0] === 'run' && dd > 0 && args.slice(1, dd).every((a) => RUN_ARG.test(a));
  for (let i = wrapped ? dd + 1 : 0; i < args.length; i++) {
    if (taken.args.has(i)) continue; // moved to the vault (mcp-proxy's header arguments)
    const a = args[i]!;
    const next = args[i + 1];
    const flag = /^(--?[A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/.exec(a);
    if ((a === '-e' || a === '--env') && next !== undefined && next.includes('=')) {
      if (taken.args.has(i + 1)) {
        i++;
        continue;
      }
      const name = next.slice(0, next.indexOf('='));
      const value = next.slice(next.indexOf('=') + 1);
      const why = looksSecret(name, value);
      if (why) {
        at(`args[${i + 1}] (${a} ${name}=…)`, value, `${why}, passed to docker with its value: ${ARGV_REASON}`,
          `write "${a}", "${name}" (no value: docker then takes it from its own environment) and put ${name} in "env"; re-run migrate`);
      }
      i++;
    } else if ((a === '--header' || a === '-H') && next !== undefined) {
      if (taken.args.has(i + 1)) {
        i++;
        continue;
      }
      const colon = next.indexOf(':');
      const name = colon > 0 ? next.slice(0, colon).trim() : '';
      const value = colon > 0 ? next.slice(colon + 1).trim() : next;
      if (isReference(value)) { i++; continue; }
      const why = looksSecret(name || undefined, value) ?? (/^authorization$/i.test(name) && value.length >= 8 ? 'an Authorization header' : undefined);
      if (why) {
        at(`args[${i + 1}] (${a} ${name}: …)`, value, `${why} in a header argument: ${ARGV_REASON}`,
          `write "${a}", "${name}:\${AUTH_HEADER}" (mcp-remote expands variables in args) and put AUTH_HEADER in "env"; re-run migrate`);
      }
      i++;
    } else if (flag && isSecretName(flag[1]!) && (flag[2] ?? next) !== undefined) {
      const value = flag[2] ?? next!;
      if (!isReference(value) && looksSecret(flag[1], value)) {
        at(`args[${flag[2] === undefined ? i + 1 : i}] (${flag[1]})`, value, `a secret passed as ${flag[1]}: ${ARGV_REASON}`,
          'if the server can read it from an environment variable (see its documentation), move it to "env" and re-run migrate; otherwise remove it and rotate the token');
      }
      if (flag[2] === undefined) i++;
    } else {
      const why = secretShape(a);
      if (why) {
        at(`args[${i}]`, a, `${why} in the arguments: ${ARGV_REASON}`,
          'if the server can read it from an environment variable (see its documentation), move it to "env" and re-run migrate; otherwise remove it and rotate the token');
      }
    }
  }
  // Remote servers: headers, URLs (and anything else outside command/args/env). What a later
  // key of the same name overrides is shadowedSecrets' to report.
  const node = findLast(root, s.path);
  const walk = (n: Node | undefined, where: string, header: string | undefined): void => {
    if (!n) return;
    if (n.type === 'string' && typeof n.value === 'string') {
      const value = n.value;
      if (isReference(value)) return;
      if (header !== undefined && where === `headers.${header}` && taken.headers.has(header)) return; // moved to the vault (headersHelper)
      const why = header !== undefined
        ? looksSecret(header, value) ?? (/^authorization$/i.test(header) && value.length >= 8 ? 'an Authorization header' : undefined)
        : looksSecret(where.split('.').at(-1) || undefined, value) ?? randomShaped(where.split('.').at(-1), value) ?? (/[?&](token|key|api_key|apikey|access_token|secret)=[^&\s]{8,}|\/\/[^/@\s]+:[^/@\s]+@/i.test(value) ? 'a credential in a URL' : undefined);
      if (why) {
        const client = location.explicit ? (s.shape.client ?? location.client) : location.client;
        at(where, value, `${why}, sent by ${client} itself (a remote server is not launched by a command mcp-tokens can wrap)`, headerStep(client));
      }
      return;
    }
    const dead = new Set(shadowedProperties(n));
    for (const child of n.children ?? []) {
      if (dead.has(child)) continue;
      if (n.type === 'object') {
        const key = String(child.children?.[0]?.value);
        // Handled above when of the shape read; anything else there (Zed's older `"command": {path, args, env}`) is walked.
        const v = child.children?.[1];
        if (where === '' && key === s.shape.env && v?.type === 'object') continue;
        if (where === '' && key === s.shape.args && v?.type === 'array') continue;
        if (where === '' && key === s.shape.command && (s.shape.commandArray ? v?.type === 'array' : v?.type === 'string')) continue;
        const inHeaders = /headers$/i.test(where) || key.toLowerCase() === 'headers';
        walk(child.children?.[1], where ? `${where}.${key}` : key, /headers$/i.test(where) ? key : inHeaders ? undefined : header);
      } else walk(child, where, header);
    }
  };
  walk(node, '', undefined);
  return out;
}

/** Names of identifiers and hashes, whose random-looking values are no secret (userID, sessionUuid). */
function idName(name: string | undefined): boolean {
  return name !== undefined && /(id|uuid|hash|sha|digest|checksum|etag|version|nonce)$/i.test(name);
}

/**
 * A value the recogniser that hides tokens in messages (cli/mask.ts) takes for a credential —
 * a known token format or a long random-looking word — under a name that is not an identifier's.
 * A UUID alone is no credential here (UUIDs are everywhere); under a token name looksSecret says so.
 */
function randomShaped(name: string | undefined, value: string): string | undefined {
  const v = value.trim();
  if (idName(name) || isReference(v) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) return undefined;
  return looksLikeCredential(v) ? 'a credential-shaped value (a token format, or long and random)' : undefined;
}

const label = (path: readonly (string | number)[]): string => path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');

/**
 * Nothing left silently: every string of the file outside the server entries read above (those
 * are addCandidates' and strays') that looks like a credential — by its name or shape
 * (detect.ts), or to the recogniser that hides tokens in messages — is listed with its path in
 * the file. An unknown client shape, a provider API key, a header of a form we do not read: all
 * end here. ~/.claude.json also keeps Claude Code's history (pasted text, ids), so there only
 * names and known token formats count, not "random-looking".
 */
function sweep(location: ConfigLocation, root: Node, servers: readonly ServerEntry[], format: ConfigFormat): Leftover[] {
  const out: Leftover[] = [];
  const history = location.client.startsWith('Claude Code (user)');
  const inside = (n: Node): boolean => servers.some((s) => n.offset >= s.node.offset && n.offset + n.length <= s.node.offset + s.node.length);
  const visit = (n: Node | undefined, path: (string | number)[], key: string | undefined): void => {
    if (!n || inside(n)) return;
    if (n.type === 'string' && typeof n.value === 'string') {
      const value = n.value;
      if (isReference(value)) return;
      const why = looksSecret(key, value) ?? (history ? undefined : randomShaped(key, value));
      if (why) {
        out.push({
          path: location.path,
          where: `${label(path)} (${format.label} path)`,
          masked: mask(value),
          reason: `${why}, outside any MCP server entry migrate can rewrite (a setting of the client itself, or a server of a form it does not know)`,
          step: "move it out by hand: if the client can read it from an environment variable or its own secret storage, use that (and start the client through 'mcp-tokens run' if it needs the variable); otherwise keep the file readable only by you (chmod 600), and rotate the value if the file was ever shared",
        });
      }
      return;
    }
    if (n.type === 'object') {
      const dead = new Set(shadowedProperties(n)); // shadowedSecrets reports those
      for (const p of n.children ?? []) {
        const k = p.children?.[0]?.value;
        if (typeof k === 'string' && !dead.has(p)) visit(p.children?.[1], [...path, k], k);
      }
    } else if (n.type === 'array') (n.children ?? []).forEach((c, i) => visit(c, [...path, i], key));
  };
  visit(root, [], undefined);
  return out;
}
