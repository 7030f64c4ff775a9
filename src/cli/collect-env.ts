/** The env vars of one or more services, as `load` prints them and `run` injects them. */
import { VaultError, isVaultError } from '../errors.js';
import { assertEnvPair, buildEnv, declareHint, mergeEnvs } from '../launch/env.js';
import type { EnvMapping } from '../launch/env-map.js';
import { BUILTIN_SERVICES, fieldSpec, serviceSpec, typeSpec } from '../services/index.js';
import { didYouMean } from './suggest.js';
import { info } from './output.js';
import { globals, openForRead, vaultDir, type CommandLike } from './context.js';

/**
 * Every service's variables, plus each `--env` mapping. A variable that two services would set is
 * refused (exit 2) unless an `--env` mapping names it, which then decides its value. With no
 * services and some mappings, only the mappings are exported.
 *
 * With 'all', one service that cannot be exported (a refused or non-credential derived name) is
 * handed to `refused` and left out; the others are still returned, so one bad service never
 * blanks every shell's auto-load. A named service that cannot be exported throws.
 */
export async function collectEnv(
  cmd: CommandLike,
  services: 'all' | readonly string[],
  warn: (m: string) => void,
  mappings: readonly EnvMapping[] = [],
  refused: (e: VaultError) => void = (e) => {
    throw e;
  },
  audit: { cmd: string; program?: string } = { cmd: 'load' },
): Promise<Array<[string, string]>> {
  const names = services === 'all' ? undefined : services.map((s) => serviceSpec(s).name);
  // A known type (built-in or services.json) that lacks the key is a usage error, found before anything is opened.
  for (const m of mappings) if (typeSpec(m.service)) fieldSpec(m.service, m.key);
  const { Vault, noVaultHint } = await import('../vault/vault.js');
  const dir = vaultDir(globals(cmd));
  if (!Vault.exists(dir)) {
    if (Vault.legacyFiles(dir).length > 0) throw new VaultError('NOT_FOUND', 'No encrypted vault yet', { hint: noVaultHint(dir) });
    for (const m of mappings) if (!typeSpec(m.service)) throw unknownService(m);
    if (names?.[0] !== undefined) {
      refuseTypo(names, []);
      buildEnv(serviceSpec(names[0]), {}); // throws the seed's "Please run: …"
    }
    if (mappings[0]) throw missingField(mappings[0]);
    if (names === undefined) return []; // 'all' of nothing is nothing: `eval "$(mcp-tokens load)"` stays quiet
    throw nothingStored();
  }
  const read = new Set<string>();
  const { vault, value } = await openForRead(cmd, (vault) => {
    read.clear();
    return readEnv(vault, names, mappings, warn, refused, read);
  });
  try {
    // The access log (issue 29): one record of the names read, before anything is printed or started.
    const { logAccess } = await import('../audit/access.js');
    await logAccess(dir, () => vault.key(), { ...audit, names: read }, warn);
  } finally {
    vault.close();
  }
  return value;
}

/** collectEnv's reading part: no writes, no output but the skip warnings. */
async function readEnv(
  vault: import('../vault/vault.js').Vault,
  names: readonly string[] | undefined,
  mappings: readonly EnvMapping[],
  warn: (m: string) => void,
  refused: (e: VaultError) => void,
  read: Set<string>,
): Promise<Array<[string, string]>> {
  // Links (a secret manager's command) fill in what is not stored: links/resolve.ts.
  const { readLinks, servicesWithLinks, loadWithLinks: load } = await import('../links/resolve.js');
  const links = await readLinks(vault);
  // The store is listed once: a service of the user's own is the keys listed under it.
  const listed = await vault.entryNames();
  // Every value read is named in the access log, exported or not.
  const loadWithLinks: typeof load = async (v, service, l, known) => {
    const got = await load(v, service, l, known);
    for (const k of Object.keys(got.values)) read.add(`${service}_${k}`);
    return got;
  };
  const mapped = await resolveMappings(mappings, (service) => loadWithLinks(vault, service, links, listed));
  let parts: Array<{ service: string; env: Record<string, string>; spec: import('../services/index.js').ServiceSpec }> = [];
  const present = await servicesWithLinks(vault, links, listed);
  if (names) refuseTypo(names, present);
  const stored = names ?? present;
  let skipped = 0;
  for (const service of stored) {
    const { spec, values } = await loadWithLinks(vault, service, links, listed);
    // A field an --env mapping exports by name of its own needs no warning that its derived name is not exported.
    const mappedHere = (key: string) => mappings.some((m) => m.service === service && m.key === key);
    const onWithheld = (w: { key: string; name: string; why: string }) => warn(`${service} ${w.key} is stored but not exported: ${w.why}; ${declareHint(service, w)}`);
    try {
      parts.push({ service, env: buildEnv(spec, values, onWithheld, mappedHere), spec });
    } catch (e) {
      if (names || !isVaultError(e) || (e.code !== 'NOT_FOUND' && e.code !== 'INVALID_INPUT')) throw e;
      if (e.code === 'NOT_FOUND') {
        warn(`${e.message}: skipped. ${e.hint ?? ''}`.trim());
      } else {
        skipped++;
        refused(new VaultError('INVALID_INPUT', `${e.message}; ${service} skipped`, { hint: e.hint }));
      }
    }
  }
  if (parts.length === 0 && mapped.length === 0) {
    if (names === undefined && mappings.length === 0 && stored.length === skipped) return []; // an empty vault, or nothing exportable (already reported)
    throw nothingStored();
  }
  const decided = new Set(mapped.map(([name]) => name));
  if (names === undefined) parts = settleAll(parts, decided, warn);
  const env = mergeEnvs(parts, decided);
  for (const [name, value] of mapped) env[name] = value;
  return Object.entries(env);
}

/**
 * `load all` (the setup block) with two services that set one variable — `github` and
 * `github@work` both set GITHUB_PERSONAL_ACCESS_TOKEN: the service without an instance keeps it
 * and the instance is left out, with a note (named, it loads alone: `load github@work`). With no
 * such default (`github@a` and `github@b`), neither is loaded and a warning says so: which one a
 * shell should get is the user's choice, never the alphabet's. Named services still conflict (exit 2).
 */
function settleAll<P extends { service: string; env: Record<string, string> }>(parts: P[], decided: ReadonlySet<string>, warn: (m: string) => void): P[] {
  const setters = new Map<string, string[]>();
  for (const p of parts) for (const name of Object.keys(p.env)) if (!decided.has(name)) setters.set(name, [...(setters.get(name) ?? []), p.service]);
  const out = new Map<string, string>(); // left-out service → why
  const notes = new Set<string>();
  const warnings = new Set<string>();
  for (const [name, services] of setters) {
    if (services.length < 2) continue;
    const defaults = services.filter((s) => !s.includes('@'));
    const keep = defaults.length === 1 ? defaults[0] : undefined;
    const left = services.filter((s) => s !== keep);
    for (const s of left) out.set(s, name);
    if (keep) for (const s of left) notes.add(`note: ${s} not loaded: ${keep} sets ${name} too and wins when all are loaded (by name it loads: mcp-tokens load ${s}; or mcp-tokens run ${s} -- <command>)`);
    else warnings.add(`${services.join(services.length === 2 ? ' and ' : ', ')} ${services.length === 2 ? 'both' : 'all'} set ${name}: none of them loaded; load one by name (mcp-tokens load ${services[0]}), or give it to one program: mcp-tokens run ${services[0]} -- <command>`);
  }
  for (const n of notes) info(n);
  for (const w of warnings) warn(w);
  return parts.filter((p) => !out.has(p.service));
}

/** The value of each mapping; a missing field is NOT_FOUND (exit 3) with the store line to run. */
async function resolveMappings(
  mappings: readonly EnvMapping[],
  load: (service: string) => Promise<{ values: Record<string, string> }>,
): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const m of mappings) {
    const { values } = await load(m.service);
    // A service of your own (not built in, not in services.json) is known by what the vault holds for it.
    if (!typeSpec(m.service) && Object.keys(values).length === 0) throw unknownService(m);
    const value = values[m.key];
    if (value === undefined || value === '') throw missingField(m);
    assertEnvPair(m.name, value);
    out.push([m.name, value]);
  }
  return out;
}

function unknownService(m: EnvMapping): VaultError {
  return new VaultError('INVALID_INPUT', `--env ${m.name}=${m.service}.${m.key}: unknown service ${m.service}`, {
    hint: 'built-in services and stored ones are listed by: mcp-tokens services; mcp-tokens list',
  });
}

function missingField(m: EnvMapping): VaultError {
  const placeholder = typeSpec(m.service) ? fieldSpec(m.service, m.key).placeholder : '<value>';
  return new VaultError('NOT_FOUND', `No credential stored for ${m.service} ${m.key} (needed by --env ${m.name})`, {
    hint: `Please run: mcp-tokens store ${m.service} ${m.key} ${placeholder}`,
  });
}

/**
 * A named service with nothing stored that is a near miss of a stored or built-in one (`load
 * githb`): "did you mean github?", as verify says, rather than "Please run: mcp-tokens store githb".
 */
function refuseTypo(names: readonly string[], present: readonly string[]): void {
  for (const service of names) {
    // A declared service (built-in, services.json) is no typo: its own "Please run" line follows.
    if (present.includes(service) || (!service.includes('@') && typeSpec(service))) continue;
    const hint = didYouMean(service, present, BUILTIN_SERVICES.map((s) => s.name));
    if (hint) throw new VaultError('NOT_FOUND', `No credentials stored for ${service}`, { hint });
  }
}

function nothingStored(): VaultError {
  return new VaultError('NOT_FOUND', 'No credentials stored', {
    hint: 'Please run: mcp-tokens store <service> <key>   # asks for the value without echo (see: mcp-tokens services)',
  });
}

/**
 * Pairs of services (declared ones: built-in, services.json, their instances) that set one
 * variable, a service without an instance first: for setup, before a shell meets them.
 */
export function sharedVariables(services: readonly string[]): Array<{ name: string; services: [string, string] }> {
  const owner = new Map<string, string>();
  const out: Array<{ name: string; services: [string, string] }> = [];
  const ordered = [...new Set(services)].sort((a, b) => Number(a.includes('@')) - Number(b.includes('@')) || a.localeCompare(b));
  for (const service of ordered) {
    let spec;
    try {
      spec = typeSpec(service) ? serviceSpec(service) : undefined;
    } catch {
      continue; // a bad name: load reports it
    }
    for (const f of spec?.fields ?? []) {
      if (f.env === undefined) continue;
      const prev = owner.get(f.env);
      if (prev === undefined) owner.set(f.env, service);
      else if (prev !== service && !out.some((o) => o.services[1] === service)) out.push({ name: f.env, services: [prev, service] });
    }
  }
  return out;
}
