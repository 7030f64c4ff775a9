/**
 * MCP client configs: each file read once and scanned for the credentials migrate moves
 * (addCandidates) and those it leaves (config-leftovers.ts). Most clients keep servers as
 * `{ command, args, env }` objects under `mcpServers` (Claude Desktop, Claude Code, Cursor,
 * Windsurf and many more), `servers` (VS Code) or, in `~/.claude.json`, also
 * `projects.<path>.mcpServers`; the others' shapes are in SHAPES (config-servers.ts). JSON/JSONC,
 * TOML and YAML files are read into one tree (formats/), so one scanner handles every file,
 * including a `--config PATH` of any of these shapes.
 */
import { basename } from 'node:path';
import { getNodeValue } from 'jsonc-parser';
import { readSource, unreadable, type ReadFile } from '../fsutil.js';
import { findLast, parseJsonc } from '../jsonc-edit.js';
import { looksSecret } from '../detect.js';
import { formatOf, type ConfigFormat } from '../formats/index.js';
import { looksLikeCredential } from '../../credential-shape.js';
import { candidate, fieldByEnv, fieldByFormat, isReference } from '../known.js';
import type { Candidate, Leftover, Refusal } from '../types.js';
import { keyFromEnv, userServiceName } from '../accounts.js';
import { unsafeExportName } from '../../launch/env-names.js';
import { HEADER_NAME } from '../../launch/headers.js';
import { configLocations, projectLocations, type ConfigLocation, type ConfigPathOptions } from './config-locations.js';
import { findServers, shadowedSecrets, type ServerEntry, type ShadowedSecret, type Taken } from './config-servers.js';
import { strays, sweep } from './config-leftovers.js';

export { configLocations, projectLocations, type ConfigLocation, type ConfigPathOptions } from './config-locations.js';
export { SHAPES, type ServerEntry, type ServerShape, type ShadowedSecret } from './config-servers.js';

const MAX_CONFIG_BYTES = 64 * 1024 * 1024; // ~/.claude.json keeps history and grows large

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

/** TOML or YAML data as a JSON tree, for the scanner (offsets are those of the view, never of the file). */
function jsonView(format: ConfigFormat, text: string): ReturnType<typeof parseJsonc> {
  const data = format.parse(text);
  if (!data.ok) return data;
  const view = JSON.stringify(data.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
  return parseJsonc(view);
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