/**
 * Which plaintext goes, given which values are safe in the vault. The plan calls this with the
 * values it means to store; apply calls it again with the values it stored and read back, so a
 * failed store leaves its sources exactly as they were.
 */
import { serviceSpec } from '../services/index.js';
import { samePath, serverChange, type EnvDecision } from './rewrite.js';
import type { ConfigFile } from './sources/configs.js';
import type { Cleanup, FileChange, PlanItem } from './types.js';

export interface Sources {
  configs: Map<string, ConfigFile>;
  /** .env and rc files: lines that can be removed whole. */
  textFiles: Map<string, { removable: Set<number>; file?: { target?: string } }>;
  shellRc: boolean;
  runCommand: string;
  /** The vault folder when it is not ~/.mcp_tokens: rewritten entries say `run --dir <it>`. */
  vaultDir?: string | undefined;
  platform: NodeJS.Platform;
}

export interface Decision {
  files: FileChange[];
  cleanup: Map<PlanItem, { cleanup: Cleanup; reason?: string }>;
}

const fieldId = (service: string, key: string): string => `${service}/${key}`;

/** Required fields with an env var: `mcp-tokens run` refuses to start a service without them. */
function requiredKeys(service: string): string[] {
  return serviceSpec(service).fields.filter((f) => f.required && f.env !== undefined).map((f) => f.key);
}

/**
 * `safe(item)`: the item's value is (or, for a plan, will be) in the vault.
 * `inVault`: `service/key` of every field present in the vault after the run.
 */
export function decide(items: readonly PlanItem[], src: Sources, safe: (i: PlanItem) => boolean, inVault: ReadonlySet<string>): Decision {
  const cleanup: Decision['cleanup'] = new Map();
  const files = new Map<string, FileChange>();
  const file = (path: string, kind: FileChange['kind'], source: string): FileChange => {
    const target = src.configs.get(path)?.file.target ?? src.textFiles.get(path)?.file?.target;
    const f = files.get(path) ?? { path, ...(target !== undefined ? { target } : {}), kind, source, servers: [], removedLines: [], unlink: false };
    files.set(path, f);
    return f;
  };
  for (const item of items) {
    const c = item.candidate;
    if (!safe(item)) {
      cleanup.set(item, { cleanup: 'keep', ...(item.reason ? { reason: item.reason } : {}) });
    } else if (c.kind === 'legacy-file' || c.kind === 'legacy-backup') {
      cleanup.set(item, { cleanup: 'unlink' });
      file(c.path!, 'legacy', c.source).unlink = true;
    } else if (c.kind === 'env') {
      cleanup.set(item, { cleanup: 'report', reason: `still set in this environment: remove it where it is set (unset ${c.envName})` });
    } else if (c.kind === 'env-file' || c.kind === 'shell-rc') {
      const removable = src.textFiles.get(c.path!)?.removable.has(c.line!) ?? false;
      if (removable && (c.kind === 'env-file' || src.shellRc)) {
        cleanup.set(item, { cleanup: 'remove-line' });
        file(c.path!, c.kind, c.source).removedLines.push(c.line!);
      } else {
        const reason = removable ? 'reported only: re-run with --shell-rc to remove the line' : 'the line does more than this assignment: edit it by hand';
        cleanup.set(item, { cleanup: 'report', reason });
      }
    }
  }
  for (const [path, config] of src.configs) {
    for (const server of config.servers) {
      const here = items.filter((i) => i.candidate.kind === 'config' && i.candidate.path === path && samePath(i.candidate.server!, server.path));
      if (here.length === 0) continue;
      const decisions: EnvDecision[] = here.map((i) => ({
        name: i.candidate.envName!,
        service: i.candidate.service,
        key: i.candidate.key,
        migrated: safe(i),
        ...(i.candidate.arg !== undefined ? { arg: i.candidate.arg } : {}),
        ...(i.candidate.argAfter !== undefined ? { argAfter: i.candidate.argAfter } : {}),
        ...(i.candidate.argDrop !== undefined ? { argDrop: i.candidate.argDrop } : {}),
        ...(i.candidate.header !== undefined ? { header: i.candidate.header } : {}),
        ...(safe(i) ? {} : { reason: i.reason ?? 'not stored' }),
      }));
      const change = serverChange(server, decisions, { runCommand: src.runCommand, vaultDir: src.vaultDir, platform: src.platform, inVault, required: requiredKeys });
      for (const i of here) {
        const kept = change?.keptEnv.find((k) => k.name === i.candidate.envName);
        cleanup.set(i, kept ? { cleanup: 'keep', reason: kept.reason } : { cleanup: 'rewrite' });
      }
      if (change && change.services.length > 0) {
        const dups = config.shadowed.filter((d) => d.server && samePath(d.server, server.path));
        if (dups.length) {
          change.duplicates = dups.map((d) => `${d.where} ${d.masked}: ${d.same ? 'the same value as the one clients use' : 'a different value, which clients never read; it is not stored, only kept in the encrypted backup of the file (undo brings it back)'}`);
        }
        file(path, 'config', config.location.client).servers.push(change);
      }
    }
  }
  for (const f of files.values()) f.removedLines.sort((a, b) => a - b);
  return { files: [...files.values()], cleanup };
}

export { fieldId };
