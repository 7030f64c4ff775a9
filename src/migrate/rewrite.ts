/**
 * How a config's server entry changes: its migrated `env` entries go, and it is launched through
 * `mcp-tokens run <services> -- <original command and args>` so it still gets its variables.
 */
import { basename } from 'node:path';
import { getNodeValue } from 'jsonc-parser';
import { shQuote } from '../launch/format.js';
import { unsafeExportName } from '../launch/env-names.js';
import { isBuiltinType, isSecretField, KNOWN_FIELDS, knownField, typeOf } from './known.js';
import { removeShadowed } from './jsonc-edit.js';
import { editChecked, jsonFormat, type ConfigFormat, type EditOp } from './formats/index.js';
import type { ServerEntry } from './sources/configs.js';
import type { ServerChange } from './types.js';

/** A config env entry (or Docker `-e NAME=value`) and whether its value is (or will be) safely in the vault. */
export interface EnvDecision {
  name: string;
  service: string;
  key: string;
  migrated: boolean;
  reason?: string;
  /** A value in args (Docker `-e NAME=value`, mcp-remote `--header`): its index, and what it becomes. */
  arg?: number;
  argAfter?: string;
  /** Arguments removed whole instead: their indices. */
  argDrop?: number[];
  /** A remote server's header (Claude Code): printed by `mcp-tokens headers` through `headersHelper`. */
  header?: { name: string; prefix: string };
}

export interface LaunchOptions {
  runCommand: string;
  /** The vault folder when it is not ~/.mcp_tokens: the client does not pass migrate's --dir or MCP_TOKENS_DIR on. */
  vaultDir?: string | undefined;
  platform: NodeJS.Platform;
  /** Fields (`service/key`) that will be in the vault after the run, whatever their source. */
  inVault: ReadonlySet<string>;
  /** Required fields with an env var, per service: `run` refuses to start without them. */
  required: (service: string) => string[];
}

/** `--env NAME=service.key`: run exports exactly that field under exactly that name. */
export interface EnvMap {
  name: string;
  service: string;
  key: string;
}

/**
 * Decide a server's change. A service is moved to `run` only when every one of its entries here
 * is migrated; otherwise all of that service's entries stay, so the server keeps working exactly
 * as before for it. The server then receives exactly the variables it had: `run <service>` when
 * it read the built-in names of every field `run` exports for it, else one `--env NAME=service.key`
 * per variable (the names it had, nothing more).
 */
export function serverChange(server: ServerEntry, decisions: readonly EnvDecision[], o: LaunchOptions): ServerChange | undefined {
  if (decisions.some((d) => d.header !== undefined)) return headerChange(server, decisions, o);
  const byService = new Map<string, EnvDecision[]>();
  for (const d of decisions) byService.set(d.service, [...(byService.get(d.service) ?? []), d]);
  const services: string[] = [];
  const maps: EnvMap[] = [];
  const removed: EnvDecision[] = [];
  const kept: { name: string; reason: string }[] = [];
  for (const [service, ds] of byService) {
    const why =
      ds.find((d) => !d.migrated)?.reason ??
      (server.command === undefined ? 'the server has no command (a remote server): nothing to launch through mcp-tokens run' : undefined) ??
      (ds.some((d) => isSecretField(d.service, d.key)) ? undefined : `no secret of ${service} in this server: its settings stay as they are`);
    if (why) {
      kept.push(...ds.map((d) => ({ name: d.name, reason: why })));
      continue;
    }
    if (exportsExactly(server, service, ds, o)) {
      services.push(service);
      removed.push(...ds);
      continue;
    }
    const unsafe = ds.find((d) => unsafeExportName(d.name));
    if (unsafe) {
      kept.push(...ds.map((d) => ({ name: d.name, reason: `mcp-tokens run cannot set ${unsafe.name}: ${unsafeExportName(unsafe.name)!}` })));
      continue;
    }
    removed.push(...ds);
    maps.push(...ds.map((d) => ({ name: d.name, service: d.service, key: d.key })));
  }
  if (removed.length === 0) return kept.length ? { server: server.path, services, removedEnv: [], keptEnv: kept, launch: [] } : undefined;
  const edits = new Map(removed.flatMap((d) => (d.arg === undefined ? [] : [[d.arg, d.argAfter ?? d.name] as const])));
  const drops = new Set(removed.flatMap((d) => d.argDrop ?? []));
  return {
    server: server.path,
    services: [...services, ...new Set(maps.map((m) => m.service))],
    removedEnv: removed.filter((d) => d.arg === undefined).map((d) => d.name),
    keptEnv: kept,
    launch: launchLine(server.command!, server.args.flatMap((a, i) => (drops.has(i) ? [] : [edits.get(i) ?? a])), services, maps, o.runCommand, o.vaultDir),
  };
}

/**
 * A remote server of Claude Code: its headers leave the entry, and `headersHelper` names the
 * command Claude Code runs (through a shell) for them: `mcp-tokens headers <service> --header
 * 'Name=<prefix>{key}'…`, which prints them from the vault as a JSON object. One command reads one
 * service; headers of several services, or one not stored, all stay as they are.
 */
function headerChange(server: ServerEntry, decisions: readonly EnvDecision[], o: LaunchOptions): ServerChange {
  const headers = decisions.filter((d) => d.header !== undefined);
  const others = decisions.filter((d) => d.header === undefined);
  const kept = others.map((d) => ({ name: d.name, reason: d.reason ?? 'the server has no command (a remote server): nothing to launch through mcp-tokens run' }));
  const services = [...new Set(headers.map((d) => d.service))];
  const why =
    headers.find((d) => !d.migrated)?.reason ??
    (services.length > 1 ? `its headers belong to ${services.join(' and ')}, and a headersHelper command reads one service: store them under one service and write the headersHelper by hand` : undefined) ??
    // The helper is written with POSIX shell quoting; what shell Claude Code runs it with on Windows is not one we can vouch for.
    (o.platform === 'win32' ? "on Windows migrate does not write a headersHelper (its quoting is a POSIX shell's): write it by hand, e.g. mcp-tokens headers <service> --header \"Authorization=Bearer {token}\"" : undefined);
  if (why) return { server: server.path, services: [], removedEnv: [], keptEnv: [...kept, ...headers.map((d) => ({ name: d.name, reason: why }))], launch: [] };
  const argv = [
    o.runCommand,
    'headers',
    ...(o.vaultDir !== undefined ? ['--dir', o.vaultDir] : []),
    services[0]!,
    ...headers.flatMap((d) => ['--header', `${d.header!.name}=${d.header!.prefix}{${d.key}}`]),
  ];
  const helper = argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : shQuote(a))).join(' ');
  return { server: server.path, services, removedEnv: [], keptEnv: kept, launch: [], headers: { removed: headers.map((d) => d.header!.name), helper } };
}

/**
 * `run <service>` gives the server exactly what it had: a built-in type, every variable under
 * its built-in name, every field run requires among them (stored), and no other variable of the
 * service supplied another way here (`"WIKIJS_TOKEN": "${input:key}"`, which run would replace).
 */
function exportsExactly(server: ServerEntry, service: string, ds: readonly EnvDecision[], o: LaunchOptions): boolean {
  if (!isBuiltinType(service)) return false;
  if (ds.some((d) => knownField(d.service, d.key)?.env !== d.name)) return false;
  const names = new Set(ds.map((d) => d.key));
  const required = o.required(service);
  if (required.some((k) => !names.has(k) || !o.inVault.has(`${service}/${k}`))) return false;
  const own = KNOWN_FIELDS.filter((f) => f.service === typeOf(service)).map((f) => f.env);
  return !server.env.some((e) => own.includes(e.name) && !ds.some((d) => d.name === e.name));
}

/** The new command line; an entry already launched through `run` gets the services and mappings added. */
export function launchLine(
  command: string,
  args: readonly string[],
  services: readonly string[],
  maps: readonly EnvMap[],
  runCommand: string,
  vaultDir?: string,
): string[] {
  const sep = args.indexOf('--');
  const wrapped = isRunCommand(command, runCommand) && args[0] === 'run' && sep > 0;
  const before = wrapped ? args.slice(1, sep) : [];
  const inner = wrapped ? args.slice(sep + 1) : [command, ...args];
  const envArgs = maps.flatMap((m) => ['--env', `${m.name}=${m.service}.${m.key}`]);
  // A vault elsewhere than ~/.mcp_tokens: the client starts run without migrate's --dir or MCP_TOKENS_DIR.
  const hasDir = before.some((b) => b === '--dir' || b.startsWith('--dir='));
  const added: string[] = [...(vaultDir !== undefined && !hasDir ? ['--dir', vaultDir] : []), ...services.filter((s) => !before.includes(s))];
  for (let i = 0; i < envArgs.length; i += 2) {
    if (!before.some((b, j) => b === '--env' && before[j + 1] === envArgs[i + 1])) added.push(envArgs[i]!, envArgs[i + 1]!);
  }
  return [runCommand, 'run', ...before, ...added, '--', ...inner];
}

function isRunCommand(command: string, runCommand: string): boolean {
  const base = basename(command).replace(/\.(cmd|exe|js)$/i, '');
  return command === runCommand || base === 'mcp-tokens';
}

/** Apply server changes to a config's text through its format, touching only what changes. */
export function rewriteConfig(text: string, servers: readonly ServerEntry[], changes: readonly ServerChange[], format: ConfigFormat = jsonFormat): string {
  let out = text;
  for (const c of changes) {
    if (c.services.length === 0) continue;
    const server = servers.find((s) => samePath(s.path, c.server));
    if (!server) continue;
    const { shape } = server;
    // Duplicate keys (JSON only: TOML and YAML parsers refuse them): clients use the last; the
    // earlier ones (an older copy of the entry, an overridden `env` or variable) go, so no copy
    // of a secret stays behind.
    if (server.duplicates && format.id === 'json') out = removeShadowed(out, shape.nested ? c.server.slice(0, -1) : c.server);
    const ops: EditOp[] = [];
    if (c.headers) {
      // Every header gone: `headers` goes whole; Claude Code then takes them all from the helper.
      const all = getNodeValue(server.node) as Record<string, unknown>;
      const count = Object.keys((all['headers'] ?? {}) as Record<string, unknown>).length;
      if (count === c.headers.removed.length) ops.push({ path: [...c.server, 'headers'], remove: true });
      else for (const name of c.headers.removed) ops.push({ path: [...c.server, 'headers', name], remove: true });
      ops.push({ path: [...c.server, 'headersHelper'], value: c.headers.helper, after: 'url' });
      out = editChecked(format, out, ops, c.server);
      continue;
    }
    // An `env` left empty goes whole; otherwise only the migrated entries leave it.
    // (TOML keeps an emptied table: toml-patch lays the whole file out anew when a table goes.)
    if (c.removedEnv.length > 0 && c.removedEnv.length === server.envSize && format.id !== 'toml') ops.push({ path: [...c.server, shape.env], remove: true });
    else for (const name of c.removedEnv) ops.push({ path: [...c.server, shape.env, name], remove: true });
    const [cmd, ...args] = c.launch;
    if (shape.commandArray) ops.push({ path: [...c.server, shape.command], value: c.launch });
    else {
      ops.push({ path: [...c.server, shape.command], value: cmd! });
      ops.push({ path: [...c.server, shape.args], value: args, after: shape.command });
    }
    out = editChecked(format, out, ops, c.server);
  }
  return out;
}

export function samePath(a: readonly (string | number)[], b: readonly (string | number)[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
