/**
 * Which service (or instance) each value found goes to, before anything is compared with the
 * vault. One service holds one account: a config server whose values differ from the ones the
 * service holds (or will hold) is a second account and becomes an instance named after the server
 * (`github@work`), instead of a conflict. A project-level config (`.mcp.json`, `.vscode/mcp.json`
 * of a repository) or a `.env` inside a repository is not the user's own: unless `trustProject`, its values never set or replace
 * a field of the service itself (a cloned repository's HA_URL must not receive the user's token);
 * they go to an instance named after the project.
 */
import { posix, win32 } from 'node:path';
import { NAME_RE } from '../names.js';
import { checkValue } from '../services/index.js';
import { isReservedService } from '../vault/reserved.js';
import { candidate, isBuiltinType, isSecretField, KNOWN_FIELDS } from './known.js';
import type { Candidate } from './types.js';

export interface AccountOptions {
  /** The vault's value of service/key, undefined when none. */
  get: (service: string, key: string) => Promise<string | undefined>;
  overwrite: boolean;
  trustProject: boolean;
}

const id = (service: string, key: string): string => `${service}/${key}`;

/**
 * A valid name (`[a-z][a-z0-9-]{0,31}`) made from any text: "GitHub (Work)" → `github-work`,
 * "1password" → `mcp-1password`; undefined when nothing usable is left.
 */
export function safeName(text: string): string | undefined {
  let s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (s === '') return undefined;
  if (!/^[a-z]/.test(s)) s = `mcp-${s}`;
  s = s.slice(0, 32).replace(/-+$/, '');
  return NAME_RE.test(s) ? s : undefined;
}

/** The service of the user's own for a server that matches no built-in type (never a built-in or reserved name). */
export function userServiceName(serverName: string): string | undefined {
  const base = safeName(serverName);
  if (base === undefined) return undefined;
  const taken = (n: string): boolean => isReservedService(n) || KNOWN_FIELDS.some((f) => f.service === n);
  if (!taken(base)) return base;
  const other = safeName(`${base.slice(0, 25)}-server`);
  return other && !taken(other) ? other : undefined;
}

/** The key for a variable of a server of the user's own: OPENAI_API_KEY → `openai-api-key`. */
export function keyFromEnv(name: string): string | undefined {
  return safeName(name.replace(/_/g, '-'));
}

function valid(c: Candidate): boolean {
  try {
    checkValue(c.service, c.key, c.value);
    return true;
  } catch {
    return false;
  }
}

function projectName(folder: string): string | undefined {
  const p = folder.includes('\\') && !folder.startsWith('/') ? win32 : posix;
  return safeName(p.basename(folder));
}

function withService(c: Candidate, service: string, note: string): Candidate {
  const { value, masked: _m, ...fields } = { ...c, value: c.value };
  return candidate({ ...fields, service, note }, value);
}

function withIgnore(c: Candidate, ignore: string): Candidate {
  const { value, masked: _m, ...fields } = { ...c, value: c.value };
  return candidate({ ...fields, ignore }, value);
}

/** The candidates, in the same order, each with the service (or instance) it goes to. */
export async function assignAccounts(candidates: readonly Candidate[], o: AccountOptions): Promise<Candidate[]> {
  // What each service holds, or will hold: the vault (unless --overwrite), then the user's own
  // sources (old files, environment, .env, rc files), then configs in the order they are read.
  const primary = new Map<string, string>();
  const keys = new Map<string, Set<string>>();
  for (const c of candidates) keys.set(c.service, (keys.get(c.service) ?? new Set()).add(c.key));
  if (!o.overwrite) {
    for (const [service, ks] of keys) {
      for (const key of ks) {
        const v = await o.get(service, key);
        if (v !== undefined) primary.set(id(service, key), v);
      }
    }
  }
  // A .env of a repository is grouped like a config (as one "server"): untrusted unless --trust-project.
  const grouped = (c: Candidate): boolean => c.kind === 'config' || (c.project !== undefined && !o.trustProject);
  for (const c of candidates) {
    if (!grouped(c) && c.kind !== 'legacy-backup' && valid(c) && !primary.has(id(c.service, c.key))) primary.set(id(c.service, c.key), c.value);
  }

  const groups = new Map<string, Candidate[]>();
  for (const c of candidates) {
    if (!grouped(c)) continue;
    const g = `${c.path}\0${JSON.stringify(c.server)}\0${c.service}`;
    groups.set(g, [...(groups.get(g) ?? []), c]);
  }
  const claimed = new Map<string, Map<string, string>>();
  const out = new Map<Candidate, Candidate>();
  for (const g of groups.values()) {
    const first = g[0]!;
    const service = first.service;
    const trusted = first.project === undefined || o.trustProject;
    const agrees = g.every((c) => {
      const p = primary.get(id(service, c.key));
      return p === undefined ? trusted : p === c.value;
    });
    if (agrees) {
      if (trusted) for (const c of g) if (valid(c) && !primary.has(id(service, c.key))) primary.set(id(service, c.key), c.value);
      continue;
    }
    const secretOk = g.some((c) => isSecretField(service, c.key) && valid(c));
    if (!secretOk) {
      // No secret to move, only settings (a URL, a host) that differ, or an invalid token: from
      // the user's own config they stay a conflict (or invalid), as before; from a project, a
      // setting that differs is not used at all.
      if (!trusted) {
        for (const c of g) {
          if (!valid(c) || primary.get(id(service, c.key)) === c.value) continue;
          out.set(c, withIgnore(c, `from the project ${first.project}: a project file never sets or replaces the ${service} ${c.key} (re-run with --trust-project to use it)`));
        }
      }
      continue;
    }
    // A value of the user's own that does not validate: reported as invalid, under the service.
    if (trusted && g.some((c) => !valid(c))) continue;
    const serverName = String(first.server?.at(-1) ?? '');
    // A server named after its type ("github") is told apart by its client: github@cursor-user.
    const client = safeName(first.source.replace(/ config, server '.*$/s, ''));
    const preferred = trusted
      ? [safeName(serverName), client]
      : [projectName(first.project!), safeName(`${projectName(first.project!) ?? 'project'}-${serverName}`)];
    const instance = await allocate(service, preferred.filter((n): n is string => n !== undefined && n !== service), g, claimed, o);
    if (instance === undefined) continue; // no free name: the values stay a conflict, reported as such
    const ref = `${service}@${instance}`;
    const note = trusted
      ? `a second ${service} account (its values differ from the ${service} ones): stored as the instance ${ref}`
      : `from the project ${first.project}: a project file never sets or replaces the ${service} service; stored as the instance ${ref} (re-run with --trust-project to use its values for ${service})`;
    for (const c of g) out.set(c, withService(c, ref, note));
  }
  return candidates.map((c) => out.get(c) ?? c);
}

/** The first instance name whose values (claimed by this run, or in the vault) do not contradict the group's. */
async function allocate(
  service: string,
  preferred: readonly string[],
  group: readonly Candidate[],
  claimed: Map<string, Map<string, string>>,
  o: AccountOptions,
): Promise<string | undefined> {
  // The same values already given an instance in this run (one account in two clients): that instance.
  for (const [ref, mine] of claimed) {
    if (ref.startsWith(`${service}@`) && group.every((c) => mine.get(c.key) === c.value)) return ref.slice(service.length + 1);
  }
  const base = preferred[0] ?? (isBuiltinType(service) ? 'other' : 'account');
  const names = [...preferred, ...Array.from({ length: 98 }, (_, i) => `${base.slice(0, 28)}-${i + 2}`)];
  for (const name of names) {
    if (!NAME_RE.test(name)) continue;
    const ref = `${service}@${name}`;
    const mine = claimed.get(ref) ?? new Map<string, string>();
    let fits = true;
    for (const c of group) {
      const held = mine.get(c.key) ?? (o.overwrite ? undefined : await o.get(ref, c.key));
      if (held !== undefined && held !== c.value) fits = false;
    }
    if (!fits) continue;
    for (const c of group) mine.set(c.key, c.value);
    claimed.set(ref, mine);
    return name;
  }
  return undefined;
}
