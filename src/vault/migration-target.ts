/**
 * The vault as migrate's MigrationTarget (src/migrate/types.ts). Config-file backups are sealed
 * files in backups/files/, named `{runId}-{random}.file`; each holds one JSON document with the
 * non-secret journal fields (path, mode, hash of what replaced it) and the original bytes, and
 * its name is bound in the associated data so two backups cannot be swapped.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { VaultError, ioError, isVaultError } from '../errors.js';
import { fileAd } from '../crypto/format.js';
import { openWithHandles } from '../crypto/keyhandle.js';
import type { FileBackup, FileBackupInput, MigrationTarget } from '../migrate/types.js';
import { ensureDir, readSecureText } from './fsutil.js';
import type { Vault } from './vault.js';

const FILES_DIR = 'files';
const NAME_RE = /^[A-Za-z0-9-]{1,80}\.file$/;

export function vaultMigrationTarget(vault: Vault): MigrationTarget {
  const dir = join(vault.backupsDir, FILES_DIR);
  return {
    async get(service, key) {
      try {
        return await vault.get(service, key);
      } catch (e) {
        if (isVaultError(e, 'INTEGRITY') && e.reason === 'legacy-plaintext') return undefined;
        throw e;
      }
    },
    async store(service, key, value) {
      await vault.store(service, key, value, { replacePlaintext: true });
    },
    importBackup: (service, key, value, takenAt) => vault.importBackup(service, key, value, takenAt),
    readBackup: (id) => vault.readBackupFile(id),
    async saveFileBackup(meta: FileBackupInput, content: Uint8Array) {
      ensureDir(vault.backupsDir, true);
      ensureDir(dir, true);
      const doc = new TextEncoder().encode(
        JSON.stringify({ ...meta, createdAt: new Date().toISOString(), content: Buffer.from(content).toString('base64') }),
      );
      for (let i = 0; i < 20; i++) {
        const id = `${meta.runId.replace(/[^A-Za-z0-9-]/g, '-')}-${randomBytes(4).toString('hex')}.file`;
        if (await vault.writeFileBackup(dir, id, doc)) return id;
      }
      throw new VaultError('IO', `cannot name a file backup in ${dir}`);
    },
    async listFileBackups() {
      if (!ensureDir(dir, false)) return [];
      let names: string[];
      try {
        names = fs.readdirSync(dir).filter((n) => NAME_RE.test(n));
      } catch (e) {
        throw ioError('list', dir, e);
      }
      const out: FileBackup[] = [];
      for (const id of names) {
        const { content: _content, ...meta } = await readDoc(vault, dir, id);
        out.push({ ...meta, id });
      }
      return out;
    },
    async readFileBackup(id) {
      return Buffer.from((await readDoc(vault, dir, id)).content, 'base64');
    },
    putBackLegacy: (service, key, value, path, bytes, mode) => vault.putBackPlaintext(service, key, value, path, bytes, mode),
  };
}

interface Doc extends FileBackupInput {
  createdAt: string;
  content: string;
}

async function readDoc(vault: Vault, dir: string, id: string): Promise<Doc> {
  if (!NAME_RE.test(id)) throw new VaultError('NOT_FOUND', `no file backup named ${id}`);
  const path = join(dir, id);
  const text = readSecureText(path);
  if (text === undefined) throw new VaultError('NOT_FOUND', `no file backup named ${id}`);
  const { bytes } = await openWithHandles(await vault.keys(), text, fileAd(id), path);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Doc;
  } finally {
    bytes.fill(0);
  }
}
