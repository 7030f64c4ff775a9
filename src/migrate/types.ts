/**
 * Types of the migration core. The vault implements MigrationTarget; migrate never talks to a
 * backend directly, so every value it stores is validated, backed up and locked by the vault.
 */
import type { UnlockAtStart } from './unlock.js';

/**
 * What migrate needs from the vault. Every method may throw a VaultError (locked keychain, disk
 * full…); migrate treats a throw as "not done" and leaves the matching plaintext where it is.
 */
export interface MigrationTarget {
  /**
   * The stored value, or undefined when nothing is stored. A legacy plaintext file sitting at an
   * entry's path in a file-backend vault is "nothing stored", not an error (it is what we migrate).
   */
  get(service: string, key: string): Promise<string | undefined>;
  /** Validate and store, backing up the old value first (as `mcp-tokens store`). */
  store(service: string, key: string, value: string): Promise<void>;
  /**
   * Put an old value into the vault's encrypted backups (for the legacy script's plaintext
   * backups); `takenAt` is the legacy timestamp when it could be read. Resolves the backup's id.
   */
  importBackup(service: string, key: string, value: string, takenAt: Date | undefined): Promise<string>;
  /** The value of a backup made by importBackup, to read it back before deleting the plaintext. */
  readBackup(id: string): Promise<string>;
  /** Encrypt and keep a file's bytes before migrate changes or removes it. Resolves an id. */
  saveFileBackup(meta: FileBackupInput, content: Uint8Array): Promise<string>;
  /** Every file backup, any order. */
  listFileBackups(): Promise<FileBackup[]>;
  readFileBackup(id: string): Promise<Uint8Array>;
  /**
   * Undo of an old script's token file where the vault now keeps service/key as a file at that
   * very path (a file vault in the same directory): while the entry still holds `value`, back it
   * up (encrypted), then put `bytes` back at `path` with `mode`. 'not-here' when the vault keeps
   * service/key elsewhere; 'changed' when the entry holds another value now (nothing is written).
   */
  putBackLegacy?(service: string, key: string, value: string, path: string, bytes: Uint8Array, mode: number): Promise<'restored' | 'not-here' | 'changed'>;
}

/** The non-secret record kept beside a file backup; this is the journal `undo` works from. */
export interface FileBackupInput {
  /** One id per `migrate` run; ids sort by time, so the last run is the greatest. */
  runId: string;
  /** Absolute path of the file (the one read and written: a followed symlink's target). */
  path: string;
  /** The symlink migrate found and followed to `path`; it is never written. */
  link?: string;
  /** Permission bits of the original (restored with them). */
  mode: number;
  /** SHA-256 (hex) of what migrate writes in its place, or null when it removes the file. */
  after: string | null;
  /**
   * An old script's token file: the field its value went to. In a file vault the vault's own
   * entry takes the file's path, so undo asks the vault to give the path back (putBackLegacy).
   */
  entry?: { service: string; key: string };
}

export interface FileBackup extends FileBackupInput {
  id: string;
  /** ISO time the backup was made. */
  createdAt: string;
}

export type SourceKind = 'legacy-file' | 'legacy-backup' | 'env' | 'env-file' | 'config' | 'shell-rc';

/** One plaintext credential found somewhere. `value` is not enumerable: it never serialises. */
export interface Candidate {
  kind: SourceKind;
  /** Human description: "Claude Desktop config", "legacy token file"… */
  source: string;
  path?: string;
  /** 1-based line for .env and rc files. */
  line?: number;
  /** Variable name in the environment, a .env/rc line or a config `env` entry. */
  envName?: string;
  /** Config files: JSON path of the server entry, e.g. ['mcpServers', 'github']. */
  server?: (string | number)[];
  /** A value in a server's args (Docker `-e NAME=value`, mcp-remote `--header`): its index… */
  arg?: number;
  /** …and what that argument becomes once the value is in the vault (`NAME`, `Authorization:${AUTH_HEADER}`). */
  argAfter?: string;
  /** Arguments removed whole instead (mcp-proxy's `--headers Authorization 'Bearer …'`): their indices. */
  argDrop?: number[];
  /** A project-level config (.mcp.json, .vscode/mcp.json…): the project folder. Its values are untrusted. */
  project?: string;
  /**
   * A remote server's header (Claude Code): its name, and the text before the value (`Bearer `).
   * The header leaves the entry and Claude Code asks `mcp-tokens headers` for it (`headersHelper`).
   */
  header?: { name: string; prefix: string };
  /** Why the value goes to this service: "a second github account: instance github@work". */
  note?: string;
  /** A value that is not used at all (a project's URL for a built-in service): why. */
  ignore?: string;
  /** A service (or instance), `github`, `github@work`, or one of the user's own named after a server. */
  service: string;
  key: string;
  /** Masked for display: first 4 + '…' + last 4, or fully masked. */
  masked: string;
  /** Legacy backups: the time in the file name, when readable. */
  takenAt?: Date;
  readonly value: string;
}

export type Action = 'store' | 'same' | 'conflict' | 'invalid' | 'backup';

/** What happens to the plaintext once the value is safe in the vault. */
export type Cleanup = 'unlink' | 'rewrite' | 'remove-line' | 'report' | 'keep';

export interface PlanItem {
  candidate: Candidate;
  action: Action;
  /** Why a value is skipped (conflict, invalid) or left in place; never contains the value. */
  reason?: string;
  warnings: string[];
  cleanup: Cleanup;
}

/** A server entry of a config file as migrate will rewrite it. */
export interface ServerChange {
  /** JSON path of the server entry. */
  server: (string | number)[];
  /** Services the rewritten entry launches through `mcp-tokens run`. */
  services: string[];
  /** Env entries removed from the config. */
  removedEnv: string[];
  /** Env entries with a credential that stay (skipped values), with the reason. */
  keptEnv: { name: string; reason: string }[];
  /** The new command line: command then args. */
  launch: string[];
  /**
   * Secrets under duplicate keys of this entry that clients never read (the last occurrence
   * wins), removed with the rewrite; each says whether it held the value clients use or another.
   */
  duplicates?: string[];
  /** How `mcp-tokens run` will open the vault when the client starts the server (plans made with `access`). */
  unlock?: UnlockAtStart;
  /**
   * A remote server (Claude Code): the headers removed from its entry and the `headersHelper`
   * command that prints them from the vault instead. `launch` is then empty.
   */
  headers?: { removed: string[]; helper: string };
}

export interface FileChange {
  /** The path as found (a client's config path, a --config or --env-file path). */
  path: string;
  /** When `path` is a symlink to a file of the user's own: that file, which is the one rewritten. */
  target?: string;
  kind: 'config' | 'env-file' | 'shell-rc' | 'legacy';
  source: string;
  servers: ServerChange[];
  /** .env / rc lines removed (1-based). */
  removedLines: number[];
  unlink: boolean;
}

/** Something migrate saw and would not read or edit (a symlink, an unparsable config…). */
export interface Refusal {
  path: string;
  reason: string;
  /** The file may hold credentials (a client config, a token file): it counts as left. */
  mayHoldSecrets?: boolean;
  /** What to do by hand, when there is something more precise than "move any token out of it". */
  step?: string;
}

/**
 * A plaintext secret migrate found and leaves where it is (it cannot move it, or must not): what
 * makes `migrate` end with exit 1. Never holds the value, only its masked form.
 */
export interface Leftover {
  /** The file, or undefined for the process environment. */
  path?: string;
  /** Where in it: "server 'x' args[2]", "line 4", "env GITHUB_TOKEN". */
  where: string;
  masked: string;
  /** Why it stays, then what to do by hand. */
  reason: string;
  step: string;
}

export interface MigrationPlan {
  items: PlanItem[];
  files: FileChange[];
  refused: Refusal[];
  /** Secrets found that are not candidates (unknown names, args, headers, commented lines). */
  left: Leftover[];
  /** Items or files that `applyMigration` would change; 0 means "nothing to migrate". */
  pending: number;
  overwrite: boolean;
  /** Command written into rewritten configs (default 'mcp-tokens'). */
  runCommand: string;
  platform: NodeJS.Platform;
}
