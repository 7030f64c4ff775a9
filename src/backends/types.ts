import type { EntryName } from '../names.js';

export type BackendName = 'keychain' | 'file' | 'memory';

/**
 * The storage-adapter contract (DESIGN.md §4). Backends store opaque strings under entry names;
 * they never parse or validate values — the vault layer does.
 *  - get resolves undefined for an absent entry and throws (VaultError) only on real failure:
 *    locked or unreachable store (BACKEND_UNAVAILABLE), corrupt or swapped data (INTEGRITY).
 *  - delete resolves true when something was removed.
 *  - list resolves the entry names present, in no particular order.
 */
export interface Backend {
  readonly name: BackendName;
  get(name: EntryName): Promise<string | undefined>;
  set(name: EntryName, value: string): Promise<void>;
  delete(name: EntryName): Promise<boolean>;
  list(): Promise<EntryName[]>;
}
