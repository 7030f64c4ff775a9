/**
 * `import`: open a bundle, validate every credential as `store` does, compare with what is
 * stored, then store through the vault (which backs up what it replaces). Nothing is stored
 * unless every credential is valid and, without overwrite, none conflicts.
 */
import { VaultError, isVaultError } from '../errors.js';
import { derivedNameProblem, unsafeExportName } from '../launch/env-names.js';
import { splitServiceRef } from '../names.js';
import { checkValue, customEnvName, typeSpec } from '../services/index.js';
import type { Vault } from '../vault/vault.js';
import { open } from './age.js';
import { parseBundle, type Bundle } from './format.js';

export interface PlanItem {
  service: string;
  key: string;
  /** add: not stored here; same: already this value; replace: another value is stored. */
  action: 'add' | 'same' | 'replace';
}

export interface ImportResult {
  plan: PlanItem[];
  warnings: string[];
  /** Backup file of each replaced value. */
  backups: string[];
}

/** Decrypt and validate; throws before anything is stored. */
export async function openBundle(file: Uint8Array, identities: readonly string[], recipientHint: string): Promise<{ bundle: Bundle; warnings: string[] }> {
  const plaintext = await open(file, identities, recipientHint);
  try {
    const bundle = parseBundle(plaintext);
    const warnings: string[] = [];
    for (const c of bundle.credentials) {
      try {
        warnings.push(...checkValue(c.service, c.key, c.value).warnings.map((w) => `${c.service} ${c.key}: ${w}`));
      } catch (e) {
        if (!isVaultError(e)) throw e;
        // checkValue checks (and sanitises) the names first, so they are safe to show here.
        const where = isVaultError(e) && /^Invalid (service|key) name/.test(e.message) ? 'a credential in the bundle' : `${c.service} ${c.key} in the bundle`;
        throw new VaultError(e.code, `${where}: ${e.message}`, { hint: `nothing was imported${e.hint ? `; ${e.hint}` : ''}` });
      }
    }
    if (bundle.credentials.length === 0) throw new VaultError('INVALID_INPUT', 'the bundle holds no credentials', { hint: 'nothing was imported' });
    refuseUnexportable(bundle);
    return { bundle, warnings };
  } finally {
    plaintext.fill(0);
  }
}

/**
 * A bundle's credential for a service nobody declared here (not built in, not in services.json)
 * gets a derived variable name. One that can never be exported, even if declared — LD_PRELOAD,
 * NODE_OPTIONS, DOCKER_HOST… — refuses the whole bundle: nothing about it can work, and it is
 * the shape of an attack.
 */
function refuseUnexportable(bundle: Bundle): void {
  for (const c of bundle.credentials) {
    if (typeSpec(c.service)) continue;
    const name = customEnvName(c.service, c.key);
    const why = unsafeExportName(name);
    if (why) {
      throw new VaultError('INVALID_INPUT', `${c.service} ${c.key} in the bundle would be exported as ${name}, which is refused: ${why}`, {
        hint: 'nothing was imported; a credential from elsewhere never sets such a variable. Ask the sender for a bundle without it',
      });
    }
  }
}

/** What one service of a bundle will export, and whether the import would create it. */
export interface ServiceNames {
  service: string;
  /** Neither built in (without an instance), nor in services.json, nor stored or linked here. */
  isNew: boolean;
  /** Variables load and run will set from it. */
  exports: string[];
  /** Fields stored but not exported: their derived name is not a credential's. */
  withheld: Array<{ key: string; name: string; why: string }>;
}

/** Per service of the bundle: new or not, what it exports, what it keeps back. `existing`: services stored or linked here. */
export function planNames(bundle: Bundle, existing: ReadonlySet<string>): ServiceNames[] {
  const out = new Map<string, ServiceNames>();
  for (const c of bundle.credentials) {
    const type = typeSpec(c.service);
    const declaredType = type !== undefined && splitServiceRef(c.service).instance === undefined;
    let entry = out.get(c.service);
    if (!entry) {
      entry = { service: c.service, isNew: !declaredType && !existing.has(c.service), exports: [], withheld: [] };
      out.set(c.service, entry);
    }
    if (type) {
      const env = type.fields.find((f) => f.key === c.key)?.env;
      if (env !== undefined) entry.exports.push(env);
      continue;
    }
    const name = customEnvName(c.service, c.key);
    const why = derivedNameProblem(name);
    if (why) entry.withheld.push({ key: c.key, name, why });
    else entry.exports.push(name);
  }
  return [...out.values()];
}

/** One line per service: `openai (new): exports OPENAI_API_KEY`, `docker (new): host stored, not exported (…)`. */
export function describeNames(n: ServiceNames): string {
  const parts: string[] = [];
  if (n.exports.length > 0) parts.push(`load and run export ${n.exports.join(', ')}`);
  else parts.push('load and run export nothing from it');
  for (const w of n.withheld) parts.push(`${w.key} is stored but not exported (${w.why})`);
  return `${n.service}${n.isNew ? ' (new service)' : ''}: ${parts.join('; ')}`;
}

/** Without --new-services, a bundle may not create a service; the message names each and its variables. */
export function refuseNewServices(names: readonly ServiceNames[]): void {
  const fresh = names.filter((n) => n.isNew);
  if (fresh.length === 0) return;
  throw new VaultError('USAGE', `the bundle would create ${fresh.length === 1 ? 'a new service' : `${fresh.length} new services`}: ${firstFew(fresh.map(describeNames), '; ')}`, {
    hint: 'nothing was imported; if you expected these services, run the import again with --new-services',
  });
}

export async function planImport(vault: Vault, bundle: Bundle): Promise<PlanItem[]> {
  const plan: PlanItem[] = [];
  for (const c of bundle.credentials) {
    plan.push({ service: c.service, key: c.key, action: actionFor(await vault.get(c.service, c.key), c.value) });
  }
  return plan;
}

export function refuseConflicts(plan: readonly PlanItem[]): void {
  const conflicts = plan.filter((p) => p.action === 'replace');
  if (conflicts.length > 0) {
    throw new VaultError('USAGE', `the bundle would replace ${firstFew(conflicts.map((p) => `${p.service} ${p.key}`), ', ')}, stored here with another value`, {
      hint: 'nothing was imported; to replace them (the current values are backed up first), run the import again with --overwrite',
    });
  }
}

/**
 * Store every credential of a validated bundle in one vault transaction: the plan (and the
 * conflict check without overwrite) is made from what is stored under the lock, so a value
 * another command stored meanwhile is never replaced unasked, and a rekey or backend move that
 * ran meanwhile refuses the whole import rather than part of it. The vault backs up each value
 * it replaces.
 */
export async function applyImport(
  vault: Vault,
  bundle: Bundle,
  { overwrite, onProgress }: { overwrite: boolean; onProgress?: ((done: number, total: number) => void) | undefined },
): Promise<ImportResult> {
  let plan: PlanItem[] = [];
  const results = await vault.storeMany(
    bundle.credentials,
    (stored) => {
      plan = bundle.credentials.map((c, i) => ({ service: c.service, key: c.key, action: actionFor(stored[i], c.value) }));
      if (!overwrite) refuseConflicts(plan);
    },
    onProgress,
  );
  const warnings: string[] = [];
  const backups: string[] = [];
  results.forEach((r, i) => {
    const c = bundle.credentials[i]!;
    warnings.push(...r.warnings.map((w) => `${c.service} ${c.key}: ${w}`));
    if (r.backup) backups.push(r.backup);
  });
  return { plan, warnings, backups };
}

/** The first ten of a list, then how many more: a refusal of a bundle of thousands stays readable. */
function firstFew(items: readonly string[], sep: string): string {
  const shown = items.slice(0, 10).join(sep);
  return items.length > 10 ? `${shown}${sep}… and ${(items.length - 10).toLocaleString('en-US')} more` : shown;
}

function actionFor(old: string | undefined, value: string): PlanItem['action'] {
  return old === undefined ? 'add' : old === value ? 'same' : 'replace';
}
