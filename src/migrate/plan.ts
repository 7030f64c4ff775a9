/**
 * planMigration: find plaintext credentials and decide, for each, what `migrate` would do. Nothing
 * is written. The plan serialises without values (see format.ts); the values and the file
 * snapshots apply needs stay in a side table keyed by the plan object.
 */
import { join } from 'node:path';
import { isVaultError } from '../errors.js';
import { checkValue } from '../services/index.js';
import { decide, fieldId, type Sources } from './decide.js';
import { assignAccounts } from './accounts.js';
import { KNOWN_FIELDS, typeOf } from './known.js';
import { adviseLegacy } from './legacy-advice.js';
import { preflight } from './content.js';
import { samePath } from './rewrite.js';
import { unlockAtStart, unlockForHelper, type VaultAccess } from './unlock.js';
import { scanLegacy } from './sources/legacy.js';
import { scanEnv, scanTextFiles, shellRcPaths, type TextScan } from './sources/env.js';
import { repositoryOf } from './sources/repository.js';
import { scanClientConfigs } from './sources/configs.js';
import type { LinkTarget } from './fsutil.js';
import type { Candidate, MigrationPlan, MigrationTarget, PlanItem } from './types.js';

export interface PlanOptions {
  home: string;
  cwd: string;
  platform: NodeJS.Platform;
  /** The environment to read variables from (process.env for the CLI). */
  env: Readonly<Record<string, string | undefined>>;
  /** The old script's directory, normally the vault directory (default ~/.mcp_tokens). */
  legacyDir?: string;
  envFiles?: readonly string[];
  /** Extra config files (`--config`), read with every client's shape. */
  configs?: readonly string[];
  /** Look at the clients' usual config paths (default true). */
  clientConfigs?: boolean;
  /** Also read the project configs of every project ~/.claude.json lists (default true). */
  projects?: boolean;
  /** Remove `export NAME=…` lines from rc files instead of only reporting them. */
  shellRc?: boolean;
  overwrite?: boolean;
  /** Command written into rewritten configs (default 'mcp-tokens'). */
  runCommand?: string;
  /** The vault folder, when it is not ~/.mcp_tokens: rewritten entries get `run --dir <it>`. */
  vaultDir?: string;
  /** Let project-level configs set and replace the fields of a service itself (default: their values go to an instance named after the project). */
  trustProject?: boolean;
  /** The vault the rewritten servers will open (see vaultAccess): each server's `unlock` says how. */
  access?: VaultAccess;
}

export interface PlanInternals {
  sources: Sources;
  /** Bytes of every file read, by path: apply refuses to edit a file that changed since. */
  snapshots: Map<string, Buffer>;
  /** Files read through a symlink, by the link's path: apply writes only if it still leads there. */
  links: Map<string, LinkTarget>;
  /** Vault value per `service/key` when the plan was made. */
  vault: Map<string, string | undefined>;
}

const internalsOf = new WeakMap<MigrationPlan, PlanInternals>();

/** The plan's sources, or undefined for a plan not made by planMigration. */
export function planSources(plan: MigrationPlan): Sources | undefined {
  return internalsOf.get(plan)?.sources;
}

export function planInternals(plan: MigrationPlan): PlanInternals {
  const i = internalsOf.get(plan);
  if (!i) throw new Error('applyMigration needs a plan made by planMigration in this process');
  return i;
}

export async function planMigration(target: MigrationTarget, o: PlanOptions): Promise<MigrationPlan> {
  const legacy = await scanLegacy(o.legacyDir ?? join(o.home, '.mcp_tokens'));
  const text: TextScan = { candidates: [], files: new Map(), refused: [], left: [] };
  // A .env in a repository (a cloned project's) is untrusted like the project's .mcp.json.
  const envFiles = await Promise.all(
    (o.envFiles ?? []).map(async (path) => {
      const project = await repositoryOf(path, o.home);
      return { path, dialect: 'dotenv' as const, ...(project !== undefined ? { project } : {}) };
    }),
  );
  await scanTextFiles(envFiles, 'env-file', text, true);
  await scanTextFiles(shellRcPaths(o.home), 'shell-rc', text, false);
  const conf = await scanClientConfigs(o);

  const vault = new Map<string, string | undefined>();
  const get = async (service: string, key: string): Promise<string | undefined> => {
    const id = fieldId(service, key);
    if (!vault.has(id)) vault.set(id, await target.get(service, key));
    return vault.get(id);
  };
  const found = [...legacy.candidates, ...scanEnv(o.env), ...text.candidates, ...conf.candidates];
  const candidates = await assignAccounts(found, { get, overwrite: o.overwrite ?? false, trustProject: o.trustProject ?? false });
  // Every field of every service seen: a server moves to `run <service>` only if run will find them all.
  for (const c of candidates) {
    await get(c.service, c.key);
    for (const f of KNOWN_FIELDS.filter((f) => f.service === typeOf(c.service))) await get(c.service, f.key);
  }
  const items = classify(candidates, vault, o.overwrite ?? false);
  adviseLegacy(items, legacy.loose, vault, o.overwrite ?? false);

  const sources: Sources = {
    configs: conf.configs,
    textFiles: text.files,
    shellRc: o.shellRc ?? false,
    runCommand: o.runCommand ?? 'mcp-tokens',
    vaultDir: o.vaultDir,
    platform: o.platform,
  };
  const inVault = new Set([...vault].filter(([, v]) => v !== undefined).map(([id]) => id));
  for (const i of items) if (i.action === 'store') inVault.add(fieldId(i.candidate.service, i.candidate.key));
  const decided = decide(items, sources, (i) => i.action !== 'conflict' && i.action !== 'invalid', inVault);
  const { cleanup } = decided;
  for (const i of items) {
    const c = cleanup.get(i);
    if (c) Object.assign(i, c.reason && !i.reason ? { cleanup: c.cleanup, reason: c.reason } : { cleanup: c.cleanup });
  }
  const snapshots = new Map<string, Buffer>(legacy.contents);
  for (const [p, f] of text.files) snapshots.set(p, f.file.bytes);
  for (const [p, f] of conf.configs) snapshots.set(p, f.file.bytes);
  const links = new Map<string, LinkTarget>();
  for (const [p, { file }] of [...text.files, ...conf.configs]) {
    if (file.target !== undefined) links.set(p, { target: file.target, ino: file.ino, dev: file.dev });
  }
  // The checks apply makes on each edit, made now: a dry run refuses what the real run would.
  const blocked = await preflight(decided.files, sources, snapshots);
  const files = decided.files.filter((f) => !blocked.has(f.path));
  for (const i of items) {
    const why = i.candidate.path !== undefined ? blocked.get(i.candidate.path) : undefined;
    if (why && i.cleanup !== 'report' && i.cleanup !== 'keep') Object.assign(i, { cleanup: 'keep', reason: `the file will not be changed: ${why}` });
  }

  if (o.access) {
    for (const f of files) {
      const config = sources.configs.get(f.path);
      for (const s of f.servers) {
        // What the client will start the server with: the env entries the rewrite keeps.
        const kept = (config?.servers.find((e) => samePath(e.path, s.server))?.env ?? []).filter((e) => !s.removedEnv.includes(e.name));
        const unlock = unlockAtStart(kept, o.access, o.platform, s.launch);
        s.unlock = s.headers ? unlockForHelper(unlock) : unlock;
      }
    }
  }

  const stores = new Set(items.filter((i) => i.action === 'store').map((i) => fieldId(i.candidate.service, i.candidate.key)));
  const plan: MigrationPlan = {
    items,
    files,
    refused: [...legacy.refused, ...text.refused, ...conf.refused],
    left: [...text.left, ...conf.left],
    pending: stores.size + items.filter((i) => i.action === 'backup').length + files.length,
    overwrite: o.overwrite ?? false,
    runCommand: sources.runCommand,
    platform: o.platform,
  };
  internalsOf.set(plan, { sources, snapshots, links, vault });
  return plan;
}

/** store / same / conflict / invalid / backup for every candidate. */
function classify(candidates: readonly Candidate[], vault: ReadonlyMap<string, string | undefined>, overwrite: boolean): PlanItem[] {
  const items: PlanItem[] = candidates.map((candidate) => {
    if (candidate.ignore) return { candidate, action: 'conflict', reason: candidate.ignore, warnings: [], cleanup: 'keep' };
    try {
      const { warnings } = checkValue(candidate.service, candidate.key, candidate.value);
      return { candidate, action: candidate.kind === 'legacy-backup' ? 'backup' : 'store', warnings, cleanup: 'keep' };
    } catch (e) {
      if (!isVaultError(e, 'INVALID_INPUT')) throw e;
      const reason = e.hint ? `${e.message}: ${e.hint}` : e.message;
      return { candidate, action: 'invalid', reason, warnings: [], cleanup: 'keep' };
    }
  });
  const groups = new Map<string, PlanItem[]>();
  for (const i of items) {
    if (i.action !== 'store') continue;
    const id = fieldId(i.candidate.service, i.candidate.key);
    groups.set(id, [...(groups.get(id) ?? []), i]);
  }
  for (const [id, group] of groups) {
    const current = vault.get(id);
    const differing = new Set(group.map((i) => i.candidate.value).filter((v) => v !== current));
    for (const i of group) {
      if (i.candidate.value === current) i.action = 'same';
      else if (differing.size > 1) {
        i.action = 'conflict';
        i.reason = `${differing.size} different plaintext values were found for ${id.replace('/', ' ')}: store the right one with 'mcp-tokens store', remove the others, and re-run`;
      } else if (current !== undefined && !overwrite) {
        i.action = 'conflict';
        i.reason = `differs from the value in the vault: skipped (re-run with --overwrite to replace it; the vault's value is backed up)`;
      }
    }
  }
  return items;
}
