/**
 * What a client config holds, read as clients read it: the server entries of every known shape
 * (where a key appears twice, the last one), and the secrets under earlier duplicate keys that no
 * client reads.
 */
import { getNodeValue, type Node } from 'jsonc-parser';
import { findLast, hasShadowed, shadowedProperties } from '../jsonc-edit.js';
import { looksSecret } from '../detect.js';
import { isReference, mask } from '../known.js';

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
  /**
   * The command, its arguments and variables sit in an object under this key of the entry, not in
   * the entry itself: Zed's older `"command": {path, args, env}` and Continue's older
   * `"transport": {type: "stdio", command, args, env}`. The server's path is then that object's.
   */
  nested?: string;
}

const STANDARD = { command: 'command', args: 'args', env: 'env' } as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every shape, read from every file: the container names do not collide between clients. */
export const SHAPES: readonly ServerShape[] = [
  { container: ['mcpServers'], ...STANDARD },
  { container: ['servers'], ...STANDARD },
  { container: ['mcp', 'servers'], ...STANDARD, client: 'VS Code (settings.json)' },
  { container: ['context_servers'], ...STANDARD, accept: (e) => !isObject(e['command']), client: 'Zed' },
  // Zed before its settings migration of 2025-06-27 (which flattens this on load, so both forms start).
  { container: ['context_servers'], nested: 'command', command: 'path', args: 'args', env: 'env', accept: (e) => isObject(e['command']) && typeof e['command']['path'] === 'string', client: 'Zed' },
  // Continue's config.json, before config.yaml: `experimental.modelContextProtocolServers[]`.
  { container: ['experimental', 'modelContextProtocolServers'], nested: 'transport', ...STANDARD, accept: (e) => isObject(e['transport']) && e['transport']['type'] === 'stdio' && typeof e['transport']['command'] === 'string', client: 'Continue' },
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

/**
 * Server objects under `mcpServers`, `servers` and `projects.*.mcpServers`, as clients see them:
 * where a key appears twice (a container, a server name, `env`, a variable), the last one.
 */
export function findServers(root: Node): ServerEntry[] {
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
      const outer = node.type === 'object' ? child.children?.[1] : child;
      if (outer?.type !== 'object' || earlier.has(child)) return;
      const entry = getNodeValue(outer) as Record<string, unknown>;
      // Continue's older list entries may have no name: the entry's place in the list stands for it.
      const named: unknown = node.type === 'object' ? child.children?.[0]?.value : (entry['name'] ?? (shape.nested ? `${shape.container.at(-1)!}[${index}]` : undefined));
      if (typeof named !== 'string' || (shape.accept && !shape.accept(entry))) return;
      const name: string = named;
      const value = shape.nested ? findLast(outer, [shape.nested]) : outer;
      if (value?.type !== 'object') return;
      const obj = getNodeValue(value) as Record<string, unknown>;
      const env = obj[shape.env];
      const envObject = env && typeof env === 'object' && !Array.isArray(env) ? (env as Record<string, unknown>) : {};
      const command = obj[shape.command];
      const line = shape.commandArray ? (Array.isArray(command) ? command : undefined) : undefined;
      const args = shape.commandArray ? line?.slice(1) : obj[shape.args];
      const first: unknown = line ? line[0] : command;
      out.push({
        path: [...shape.container, node.type === 'object' ? name : index, ...(shape.nested ? [shape.nested] : [])],
        name,
        command: typeof first === 'string' ? first : undefined,
        args: Array.isArray(args) ? args.filter((a): a is string => typeof a === 'string') : [],
        hasArgs: args !== undefined,
        env: Object.entries(envObject).flatMap(([k, v]) => (typeof v === 'string' ? [{ name: k, value: v }] : [])),
        envSize: Object.keys(envObject).length,
        node: value,
        container: node,
        duplicates: node.type === 'object' && hasShadowed(node, name, outer),
        shape,
      });
    });
  }
  return out;
}

/**
 * Every secret under a key that a later key of the same name overrides, anywhere in the file. A
 * client never reads it, but it is plaintext all the same: it is removed with its server's rewrite
 * (rewrite.ts) or listed as left (left.ts). Each is tied to the server entry clients use when it is
 * an earlier entry of the same name or lies inside that entry.
 */
export function shadowedSecrets(root: Node, servers: readonly ServerEntry[]): ShadowedSecret[] {
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
export interface Taken {
  env: Set<string>;
  args: Set<number>;
  headers: Set<string>;
}
