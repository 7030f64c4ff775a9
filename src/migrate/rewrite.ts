/**
 * How a config's server entry changes: its migrated `env` entries go, and it is launched through
 * `mcp-tokens run <services> -- <original command and args>` so it still gets its variables.
 */
import { basename } from 'node:path';
import { KNOWN_FIELDS, knownField } from './known.js';
import { insertStringArrayAfter, removeProperty, setString, setStringArray } from './jsonc-edit.js';
import type { ServerEntry } from './sources/configs.js';
import type { ServerChange } from './types.js';

/** A config env entry and whether its value is (or will be) safely in the vault. */
export interface EnvDecision {
  name: string;
  service: string;
  key: string;
  migrated: boolean;
  reason?: string;
}

export interface LaunchOptions {
  runCommand: string;
  platform: NodeJS.Platform;
  /** Fields (`service/key`) that will be in the vault after the run, whatever their source. */
  inVault: ReadonlySet<string>;
  /** Required fields with an env var, per service: `run` refuses to start without them. */
  required: (service: string) => string[];
}

/**
 * Decide a server's change. A service is moved to `run` only when every one of its env entries
 * here is migrated and every field `run` needs is in the vault; otherwise all of that service's
 * entries stay, so the server keeps working exactly as before for it.
 */
export function serverChange(server: ServerEntry, decisions: readonly EnvDecision[], o: LaunchOptions): ServerChange | undefined {
  const byService = new Map<string, EnvDecision[]>();
  for (const d of decisions) byService.set(d.service, [...(byService.get(d.service) ?? []), d]);
  const services: string[] = [];
  const removed: EnvDecision[] = [];
  const kept: { name: string; reason: string }[] = [];
  for (const [service, ds] of byService) {
    const missing = o.required(service).filter((k) => !o.inVault.has(`${service}/${k}`));
    const aliased = ds.filter((d) => knownField(d.service, d.key)?.env !== d.name);
    // e.g. WIKIJS_TOKEN: "${input:wiki-key}" — the client supplies it; `run` would override it.
    const other = server.env.find((e) => !ds.some((d) => d.name === e.name) && KNOWN_FIELDS.some((f) => f.service === service && f.env === e.name));
    const why =
      ds.find((d) => !d.migrated)?.reason ??
      (other ? `${other.name} is supplied another way in this server, and 'mcp-tokens run ${service}' would replace it` : undefined) ??
      (missing.length ? `${service} ${missing.join(', ')} would be missing from the vault, and 'mcp-tokens run ${service}' needs it` : undefined) ??
      (server.command === undefined ? 'the server has no command (a remote server): nothing to launch through mcp-tokens run' : undefined) ??
      (aliased.length && o.platform === 'win32' ? `the server reads ${aliased[0]!.name}, which mcp-tokens run does not set` : undefined);
    if (why) kept.push(...ds.map((d) => ({ name: d.name, reason: why })));
    else {
      services.push(service);
      removed.push(...ds);
    }
  }
  if (services.length === 0) return kept.length ? { server: server.path, services, removedEnv: [], keptEnv: kept, launch: [] } : undefined;
  const aliases = removed.flatMap((d) => {
    const env = knownField(d.service, d.key)?.env;
    return env && env !== d.name ? [{ name: d.name, from: env }] : [];
  });
  return {
    server: server.path,
    services,
    removedEnv: removed.map((d) => d.name),
    keptEnv: kept,
    launch: launchLine(server.command!, server.args, services, aliases, o.runCommand),
  };
}

/** The new command line; an entry already launched through `run` gets the services added. */
export function launchLine(
  command: string,
  args: readonly string[],
  services: readonly string[],
  aliases: readonly { name: string; from: string }[],
  runCommand: string,
): string[] {
  const sep = args.indexOf('--');
  const wrapped = isRunCommand(command, runCommand) && args[0] === 'run' && sep > 0;
  const before = wrapped ? args.slice(1, sep) : [];
  const inner = wrapped ? args.slice(sep + 1) : [command, ...args];
  // A server reading another name (GITHUB_TOKEN) gets it from the variable run sets, through a
  // tiny POSIX shell: the secret is expanded into the environment, never into an argv.
  const shim = aliases.length
    ? ['sh', '-c', `${aliases.map((a) => `export ${a.name}="$${a.from}"`).join('; ')}; exec "$@"`, 'mcp-tokens-alias']
    : [];
  return [runCommand, 'run', ...before, ...services.filter((s) => !before.includes(s)), '--', ...shim, ...inner];
}

function isRunCommand(command: string, runCommand: string): boolean {
  const base = basename(command).replace(/\.(cmd|exe|js)$/i, '');
  return command === runCommand || base === 'mcp-tokens';
}

/** Apply server changes to a config's text, touching only what changes. */
export function rewriteConfig(text: string, servers: readonly ServerEntry[], changes: readonly ServerChange[]): string {
  let out = text;
  for (const c of changes) {
    if (c.services.length === 0) continue;
    const server = servers.find((s) => samePath(s.path, c.server));
    if (!server) continue;
    // An `env` left empty goes whole; otherwise only the migrated entries leave it.
    if (c.removedEnv.length === server.envSize) out = removeProperty(out, [...c.server, 'env']);
    else for (const name of c.removedEnv) out = removeProperty(out, [...c.server, 'env', name]);
    const [cmd, ...args] = c.launch;
    out = setString(out, [...c.server, 'command'], cmd!);
    out = server.hasArgs
      ? setStringArray(out, [...c.server, 'args'], args)
      : insertStringArrayAfter(out, [...c.server, 'command'], 'args', args);
  }
  return out;
}

export function samePath(a: readonly (string | number)[], b: readonly (string | number)[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
