/**
 * `import`: open a bundle, validate every credential as `store` does, compare with what is
 * stored, then store through the vault (which backs up what it replaces). Nothing is stored
 * unless every credential is valid and, without overwrite, none conflicts.
 */
import { VaultError, isVaultError } from '../errors.js';
import { checkValue } from '../services/index.js';
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
    return { bundle, warnings };
  } finally {
    plaintext.fill(0);
  }
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
    throw new VaultError('USAGE', `the bundle would replace ${conflicts.map((p) => `${p.service} ${p.key}`).join(', ')}, stored here with another value`, {
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
export async function applyImport(vault: Vault, bundle: Bundle, { overwrite }: { overwrite: boolean }): Promise<ImportResult> {
  let plan: PlanItem[] = [];
  const results = await vault.storeMany(bundle.credentials, (stored) => {
    plan = bundle.credentials.map((c, i) => ({ service: c.service, key: c.key, action: actionFor(stored[i], c.value) }));
    if (!overwrite) refuseConflicts(plan);
  });
  const warnings: string[] = [];
  const backups: string[] = [];
  results.forEach((r, i) => {
    const c = bundle.credentials[i]!;
    warnings.push(...r.warnings.map((w) => `${c.service} ${c.key}: ${w}`));
    if (r.backup) backups.push(r.backup);
  });
  return { plan, warnings, backups };
}

function actionFor(old: string | undefined, value: string): PlanItem['action'] {
  return old === undefined ? 'add' : old === value ? 'same' : 'replace';
}
