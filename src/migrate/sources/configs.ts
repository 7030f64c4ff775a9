/**
 * MCP client configs. Every client keeps servers as `{ command, args, env }` objects under
 * `mcpServers` (Claude Desktop, Claude Code, Cursor, Windsurf), `servers` (VS Code) or, in
 * `~/.claude.json`, also `projects.<path>.mcpServers`. All are read as JSONC, so one scanner
 * handles every file, including a `--config PATH` of any of these shapes.
 */
import { basename, posix, win32 } from 'node:path';
import { getNodeValue, type Node } from 'jsonc-parser';
import { readSource, unreadable, type ReadFile } from '../fsutil.js';
import { findLast, hasShadowed, parseJsonc, shadowedProperties } from '../jsonc-edit.js';
import { isSecretName, looksSecret, secretShape } from '../detect.js';
import { candidate, fieldByEnv, fieldByFormat, isReference, KNOWN_FIELDS, mask } from '../known.js';
import type { Candidate, Leftover, Refusal } from '../types.js';
import { keyFromEnv, userServiceName } from '../accounts.js';
import { unsafeExportName } from '../../launch/env-names.js';

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

/** The project-level configs of a project folder (one listed in ~/.claude.json). */
export function projectLocations(folder: string, platform: NodeJS.Platform): ConfigLocation[] {
  const p = platform === 'win32' ? win32 : posix;
  if (!p.isAbsolute(folder)) return [];
  return [
    [p.join(folder, '.mcp.json'), 'Claude Code (project)'],
    [p.join(folder, '.vscode', 'mcp.json'), 'VS Code (workspace)'],
    [p.join(folder, '.cursor', 'mcp.json'), 'Cursor (project)'],
  ].map(([path, client]) => ({ path: path!, client: `${client!} ${folder}`, explicit: false, project: folder }));
}

/** Where each client keeps its config on this platform (user-level and project-level). */
export function configLocations(o: ConfigPathOptions): ConfigLocation[] {
  const p = o.platform === 'win32' ? win32 : posix;
  const appData = o.env['APPDATA'] ?? p.join(o.home, 'AppData', 'Roaming');
  const xdg = o.env['XDG_CONFIG_HOME'] ?? p.join(o.home, '.config');
  const appDir = o.platform === 'darwin' ? p.join(o.home, 'Library', 'Application Support') : o.platform === 'win32' ? appData : xdg;
  const list: [string, string, boolean][] = [
    [p.join(appDir, 'Claude', 'claude_desktop_config.json'), 'Claude Desktop', false],
    [p.join(o.home, '.claude.json'), 'Claude Code (user)', false],
    [p.join(o.cwd, '.mcp.json'), 'Claude Code (project)', true],
    [p.join(appDir, 'Code', 'User', 'mcp.json'), 'VS Code (user)', false],
    [p.join(appDir, 'Code - Insiders', 'User', 'mcp.json'), 'VS Code Insiders (user)', false],
    [p.join(o.cwd, '.vscode', 'mcp.json'), 'VS Code (workspace)', true],
    [p.join(o.home, '.cursor', 'mcp.json'), 'Cursor (user)', false],
    [p.join(o.cwd, '.cursor', 'mcp.json'), 'Cursor (project)', true],
    [p.join(o.home, '.codeium', 'windsurf', 'mcp_config.json'), 'Windsurf', false],
  ];
  const seen = new Set<string>();
  return list
    .filter(([path]) => !seen.has(path) && seen.add(path))
    // Run from HOME, ~/.cursor/mcp.json is the user's own file, not a project's.
    .map(([path, client, project]) => ({ path, client, explicit: false, ...(project && !samePlace(o.cwd, o.home, o.platform) ? { project: o.cwd } : {}) }));
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
}

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
  text: string;
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
  const parsed = parseJsonc(text);
  if (!parsed.ok || parsed.root.type !== 'object') {
    scan.refused.push({ path: location.path, reason: `${parsed.ok ? 'is not a JSON object' : parsed.reason}; not edited`, mayHoldSecrets: true });
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
  scan.configs.set(location.path, { location, file: read.file, text, servers, projects: folders, shadowed: shadowedSecrets(root, servers) });
  scan.candidates.push(...found);
  scan.left.push(...left);
}

/**
 * Server objects under `mcpServers`, `servers` and `projects.*.mcpServers`, as clients see them:
 * where a key appears twice (a container, a server name, `env`, a variable), the last one.
 */
function findServers(root: Node): ServerEntry[] {
  const containers: (string | number)[][] = [['mcpServers'], ['servers']];
  const projects = findLast(root, ['projects']);
  const dead = new Set(projects ? shadowedProperties(projects) : []);
  for (const prop of projects?.type === 'object' ? (projects.children ?? []) : []) {
    const key = prop.children?.[0]?.value as unknown;
    if (typeof key === 'string' && !dead.has(prop)) containers.push(['projects', key, 'mcpServers']);
  }
  const out: ServerEntry[] = [];
  for (const c of containers) {
    const node = findLast(root, c);
    if (node?.type !== 'object') continue;
    const earlier = new Set(shadowedProperties(node));
    for (const prop of node.children ?? []) {
      const name = prop.children?.[0]?.value as unknown;
      const value = prop.children?.[1];
      if (typeof name !== 'string' || value?.type !== 'object' || earlier.has(prop)) continue;
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
        node: value,
        container: node,
        duplicates: hasShadowed(node, name, value),
      });
    }
  }
  return out;
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

/** What addCandidates took: env names, and the args indices of Docker `-e NAME=value`. */
interface Taken {
  env: Set<string>;
  args: Set<number>;
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
  const taken: Taken = { env: new Set(), args: new Set() };
  // What the server is (its name, command, args) decides between services a value's shape
  // fits equally: Home Assistant's mcp-proxy reads a JWT as API_ACCESS_TOKEN.
  const context = [s.name, s.command ?? '', ...s.args].join(' ');
  const source = `${location.client} config, server '${s.name}'`;
  const own = userServiceName(s.name);
  const add = (name: string, value: string, arg?: { at: number; after: string; note: string; secret: boolean; drop?: number[] }): boolean => {
    if (value.trim() === '' || isReference(value)) return false;
    const field = arg?.secret ? undefined : (fieldByEnv(name) ?? fieldByFormat(name, value, context));
    const key = field ? field.key : (arg?.secret || looksSecret(name, value)) && !unsafeExportName(name) ? keyFromEnv(name) : undefined;
    const service = field ? field.service : own;
    if (key === undefined || service === undefined) return false;
    const fields = { kind: 'config' as const, source, path: location.path, envName: name, server: s.path, service, key };
    const extra = {
      ...(arg ? { arg: arg.at, argAfter: arg.after, note: arg.note } : {}),
      ...(arg?.drop ? { argDrop: arg.drop } : {}),
      ...(location.project !== undefined ? { project: location.project } : {}),
    };
    out.push(candidate({ ...fields, ...extra }, value));
    return true;
  };
  for (const { name, value } of s.env) if (add(name, value, undefined)) taken.env.add(name);
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
  if (client.startsWith('Claude Code')) return 'write "${VAR}" as the header value and set VAR in the environment Claude Code starts from (Claude Code expands it)';
  if (client.startsWith('Cursor')) return 'write "${env:VAR}" as the header value and set VAR in the environment Cursor starts from';
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
  for (const { name, value } of s.env) {
    if (taken.env.has(name) || isReference(value)) continue;
    const why = looksSecret(name, value);
    if (why) {
      at(`env ${name}`, value, `${why}, not a variable of a built-in service (${BUILTIN_NAMES}); mcp-tokens cannot hold it`,
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
      const why = header !== undefined
        ? looksSecret(header, value) ?? (/^authorization$/i.test(header) && value.length >= 8 ? 'an Authorization header' : undefined)
        : looksSecret(undefined, value) ?? (/[?&](token|key|api_key|apikey|access_token|secret)=[^&\s]{8,}|\/\/[^/@\s]+:[^/@\s]+@/i.test(value) ? 'a credential in a URL' : undefined);
      if (why) {
        at(where, value, `${why}, sent by ${location.client} itself (a remote server is not launched by a command mcp-tokens can wrap)`, headerStep(location.client));
      }
      return;
    }
    const dead = new Set(shadowedProperties(n));
    for (const child of n.children ?? []) {
      if (dead.has(child)) continue;
      if (n.type === 'object') {
        const key = String(child.children?.[0]?.value);
        if (where === '' && (key === 'env' || key === 'args' || key === 'command')) continue; // handled above
        const inHeaders = /headers$/i.test(where) || key.toLowerCase() === 'headers';
        walk(child.children?.[1], where ? `${where}.${key}` : key, /headers$/i.test(where) ? key : inHeaders ? undefined : header);
      } else walk(child, where, header);
    }
  };
  walk(node, '', undefined);
  return out;
}
