/** `restore`: a backup's value put back as the entry's value, in one transaction. */
import { join } from 'node:path';
import { VaultError } from '../errors.js';
import { checkValue } from '../services/index.js';
import { BACKUPS_DIR, listBackups, readBackup, type BackupInfo } from './backups.js';
import { storeIn } from './entries.js';
import type { Tx } from './transaction.js';
import type { StoreResult } from './types.js';

/** Restore the newest backup of service/key (at: the one of that timestamp); the current value is backed up first, as by store. */
export async function restoreIn(tx: Tx, service: string, key: string, at: string | undefined): Promise<{ from: BackupInfo; result: StoreResult }> {
  const all = listBackups(join(tx.dir, BACKUPS_DIR), service, key);
  const matching = at === undefined ? all : pickBackup(all, at, service, key);
  const from = matching[matching.length - 1];
  if (!from) {
    throw new VaultError('NOT_FOUND', at ? `No backup of ${service} ${key} at ${at}` : `No backups of ${service} ${key}`, {
      hint: `list them with: mcp-tokens backups ${service}`,
    });
  }
  const value = await readBackup(await tx.keys(), from);
  const { warnings } = checkValue(service, key, value);
  return { from, result: await storeIn(tx, service, key, value, warnings, false) };
}

/**
 * The backups `--at` names: the one whose timestamp it is, else the one it is a prefix of. A prefix
 * that several timestamps share is refused with the list, so restore never guesses which one.
 */
function pickBackup(all: readonly BackupInfo[], at: string, service: string, key: string): BackupInfo[] {
  const exact = all.filter((b) => b.stamp === at);
  if (exact.length > 0) return exact;
  const matching = all.filter((b) => b.stamp.startsWith(at));
  if (matching.length <= 1) return matching;
  const shown = matching.slice(-10).reverse().map((b) => `  ${b.stamp}`);
  const more = matching.length > 10 ? [`  … and ${matching.length - 10} older`] : [];
  throw new VaultError('USAGE', `--at ${at.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')} matches ${matching.length} backups of ${service} ${key}:\n${[...shown, ...more].join('\n')}`, {
    hint: `give the whole timestamp, e.g. mcp-tokens restore ${service} ${key} --at ${matching[matching.length - 1]!.stamp}`,
  });
}
