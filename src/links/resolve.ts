/** What `load`, `run` and `verify` read: a service's stored values plus its linked ones. */
import type { EntryName } from '../names.js';
import { serviceSpec, type ServiceSpec } from '../services/index.js';
import type { Vault } from '../vault/vault.js';
import { readLinks, type Link } from './links.js';

export interface Loaded {
  spec: ServiceSpec;
  values: Record<string, string>;
}

/** The services with something stored or linked, sorted; `listed`: vault.entryNames(), when the caller has it. */
export async function servicesWithLinks(vault: Vault, links: readonly Link[], listed?: readonly EntryName[]): Promise<string[]> {
  return [...new Set([...(await vault.services(listed)), ...links.map((l) => l.service)])].sort();
}

/**
 * Stored values, then each link of the service run (in parallel) for the rest. `listed`:
 * vault.entryNames() read once by a caller that loads every service (load all, verify all).
 */
export async function loadWithLinks(vault: Vault, service: string, links: readonly Link[], listed?: readonly EntryName[]): Promise<Loaded> {
  const loaded = await vault.loadService(service, listed);
  const mine = links.filter((l) => l.service === service);
  if (mine.length === 0) return loaded;
  const values = { ...loaded.values };
  const { resolveLink } = await import('./exec.js'); // only a vault with links runs one
  const got = await Promise.all(mine.map((l) => resolveLink(l)));
  mine.forEach((l, i) => (values[l.key] = got[i]!));
  const spec = loaded.spec.builtin ? loaded.spec : serviceSpec(service, Object.keys(values).sort());
  return { spec, values };
}

export { readLinks };
