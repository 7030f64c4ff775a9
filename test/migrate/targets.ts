/**
 * A real MigrationTarget for the tests: values and backups in memory, optionally persisted to a
 * state file after every change (atomically, so a test that kills the process with SIGKILL can
 * read what was durably stored), optionally failing after N stores, optionally writing entries
 * as files into the legacy directory the way the file backend does.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { VaultError } from '../../src/errors.js';
import { checkValue } from '../../src/services/index.js';
import type { FileBackup, FileBackupInput, MigrationTarget } from '../../src/migrate/types.js';

export interface TestTargetOptions {
  /** Throw BACKEND_UNAVAILABLE on every store after this many successful ones. */
  failAfterStores?: number;
  stateFile?: string;
  /** Like the file backend: entries are files `{dir}/{service}_{key}` replaced by rename. */
  entriesDir?: string;
}

interface State {
  values: Record<string, string>;
  backups: { id: string; service: string; key: string; value: string; takenAt: string | null }[];
  files: (FileBackup & { content: string })[];
}

const PREFIX = '{"v":1,"alg":"xchacha20poly1305-ietf"';

export class TestTarget implements MigrationTarget {
  state: State = { values: {}, backups: [], files: [] };
  stores = 0;

  constructor(private readonly o: TestTargetOptions = {}) {
    if (o.stateFile && existsSync(o.stateFile)) this.state = JSON.parse(readFileSync(o.stateFile, 'utf8')) as State;
  }

  async get(service: string, key: string): Promise<string | undefined> {
    if (!this.o.entriesDir) return this.state.values[`${service}/${key}`];
    const path = join(this.o.entriesDir, `${service}_${key}`);
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    // A plaintext file at an entry's path is not an entry (DESIGN §3): nothing is stored.
    if (!text.startsWith(PREFIX)) return undefined;
    return Buffer.from((JSON.parse(text) as { ct: string }).ct, 'base64').toString('utf8');
  }

  async store(service: string, key: string, value: string): Promise<void> {
    checkValue(service, key, value);
    if (this.o.failAfterStores !== undefined && this.stores >= this.o.failAfterStores) {
      throw new VaultError('BACKEND_UNAVAILABLE', 'the keychain is locked (injected failure)');
    }
    const old = await this.get(service, key);
    if (old !== undefined && old !== value) await this.importBackup(service, key, old, new Date());
    this.stores++;
    if (this.o.entriesDir) {
      const path = join(this.o.entriesDir, `${service}_${key}`);
      const line = `${PREFIX},"nonce":"${randomBytes(24).toString('base64')}","ct":"${Buffer.from(value).toString('base64')}"}\n`;
      writeFileSync(`${path}.tmp`, line, { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
      return;
    }
    this.state.values[`${service}/${key}`] = value;
    this.save();
  }

  async importBackup(service: string, key: string, value: string, takenAt: Date | undefined): Promise<string> {
    const id = `b${this.state.backups.length + 1}`;
    this.state.backups.push({ id, service, key, value, takenAt: takenAt?.toISOString() ?? null });
    this.save();
    return id;
  }

  async readBackup(id: string): Promise<string> {
    const b = this.state.backups.find((x) => x.id === id);
    if (!b) throw new VaultError('NOT_FOUND', `no backup ${id}`);
    return b.value;
  }

  async saveFileBackup(meta: FileBackupInput, content: Uint8Array): Promise<string> {
    const id = `f${this.state.files.length + 1}`;
    const createdAt = new Date(Date.now() + this.state.files.length).toISOString();
    this.state.files.push({ ...meta, id, createdAt, content: Buffer.from(content).toString('base64') });
    this.save();
    return id;
  }

  async listFileBackups(): Promise<FileBackup[]> {
    return this.state.files.map(({ content: _c, ...meta }) => meta);
  }

  async readFileBackup(id: string): Promise<Uint8Array> {
    const f = this.state.files.find((x) => x.id === id);
    if (!f) throw new VaultError('NOT_FOUND', `no file backup ${id}`);
    return Buffer.from(f.content, 'base64');
  }

  private save(): void {
    if (!this.o.stateFile) return;
    writeFileSync(`${this.o.stateFile}.tmp`, JSON.stringify(this.state));
    renameSync(`${this.o.stateFile}.tmp`, this.o.stateFile);
  }
}
