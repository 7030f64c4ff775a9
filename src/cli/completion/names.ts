/**
 * The names completion may offer, read without unlocking anything: the built-in service table,
 * services.json (names and fields; it holds no secret), the entry file names of a file vault and
 * the entry names in metadata.json (which a keychain vault keeps too), and backup file names (for
 * `restore --at`). No value is ever read, no
 * passphrase asked, no agent or keychain contacted. Anything unreadable is simply left out.
 */
import { join } from 'node:path';
import { parseEntryName } from '../../names.js';
import { isReservedService } from '../../vault/reserved.js';
import type { Names } from './engine.js';

export async function vaultNames(dir: string): Promise<Names> {
  const { BUILTIN_SERVICES } = await import('../../services/index.js');
  const types = new Map<string, { fields: readonly string[]; description: string }>();
  for (const s of BUILTIN_SERVICES) types.set(s.name, { fields: s.fields.map((f) => f.key), description: s.title });
  const user: string[] = [];
  const stored = new Map<string, Set<string>>();
  const add = (entry: string): void => {
    const parts = parseEntryName(entry);
    if (!parts || isReservedService(parts.service)) return;
    const keys = stored.get(parts.service) ?? new Set<string>();
    keys.add(parts.key);
    stored.set(parts.service, keys);
  };

  await quietly(async () => {
    const { loadUserServices } = await import('../../services/user.js');
    for (const s of loadUserServices(dir)) {
      if (!types.has(s.name)) types.set(s.name, { fields: s.fields.map((f) => f.key), description: s.title });
      user.push(s.name);
    }
  });
  await quietly(async () => {
    const { listEntryFiles } = await import('../../backends/file.js');
    for (const name of listEntryFiles(dir)) add(name);
  });
  await quietly(async () => {
    const { readMetadata } = await import('../../vault/metadata.js');
    for (const name of Object.keys(readMetadata(dir))) add(name);
  });
  const backups = new Map<string, string[]>();
  await quietly(async () => {
    const { BACKUPS_DIR, listBackups } = await import('../../vault/backups.js');
    for (const b of listBackups(join(dir, BACKUPS_DIR)).reverse()) {
      const name = `${b.service}_${b.key}`;
      backups.set(name, [...(backups.get(name) ?? []), b.stamp]);
    }
  });
  return { types, stored, user, backups };
}

/** Completion is best effort and must never print: a problem only means fewer names. */
async function quietly(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch {
    // left out
  }
}
