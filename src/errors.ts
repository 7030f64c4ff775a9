/**
 * One error class for everything the core reports to a user. The code decides the exit code
 * (in one place, below); the message says what went wrong, the hint says what to do about it.
 * Neither ever carries a secret value: callers pass names and paths, never credentials.
 */
export type ErrorCode =
  | 'USAGE' // bad command line
  | 'INVALID_INPUT' // a refused name or value
  | 'NOT_FOUND' // credential or backup not stored
  | 'BAD_PASSPHRASE' // wrong passphrase
  | 'NO_PASSPHRASE' // a passphrase is needed and no source gave one
  | 'BACKEND_UNAVAILABLE' // keychain locked / no D-Bus / no vault backend reachable
  | 'INTEGRITY' // tampered, swapped, truncated or foreign file
  | 'UNSAFE_PERMISSIONS' // loose modes, symlinks, foreign owner
  | 'LOCKED' // could not take the vault lock in time
  | 'IO' // disk full, read-only, EACCES...
  | 'FAILED'; // an operation that ran and failed (verify, child could not start)

export const EXIT_CODES: Record<ErrorCode, number> = {
  USAGE: 2,
  INVALID_INPUT: 2,
  NOT_FOUND: 3,
  BAD_PASSPHRASE: 4,
  NO_PASSPHRASE: 4,
  BACKEND_UNAVAILABLE: 5,
  INTEGRITY: 6,
  UNSAFE_PERMISSIONS: 1,
  LOCKED: 1,
  IO: 1,
  FAILED: 1,
};

export interface VaultErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** A finer reason within the code, for callers that branch on it (e.g. 'legacy-plaintext'). */
  reason?: string | undefined;
  /** Exit with this instead of the code's: `run` uses 127/126 as shells do for a command not found / not executable. */
  exitCode?: number | undefined;
}

export class VaultError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly reason: string | undefined;
  readonly #exitCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: VaultErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VaultError';
    this.code = code;
    this.hint = options.hint;
    this.reason = options.reason;
    this.#exitCode = options.exitCode;
  }

  get exitCode(): number {
    return this.#exitCode ?? EXIT_CODES[this.code];
  }
}

export function isVaultError(e: unknown, code?: ErrorCode): e is VaultError {
  return e instanceof VaultError && (code === undefined || e.code === code);
}

/** Translate an fs error into a VaultError that names the path and keeps the cause. */
export function ioError(what: string, path: string, e: unknown): VaultError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const hints: Record<string, string> = {
    ENOSPC: 'the disk is full: free some space and try again; nothing was changed',
    EROFS: 'the file system is read-only; nothing was changed',
    EACCES: `check the owner and permissions of ${path}`,
    EPERM: `check the owner and permissions of ${path}`,
    EDQUOT: 'the disk quota is exhausted; nothing was changed',
    ELOOP: `${path} is a symbolic link; mcp-tokens never follows links in the vault`,
  };
  const reason = code ? ` (${code})` : '';
  return new VaultError('IO', `cannot ${what} ${path}${reason}`, {
    hint: (code && hints[code]) || undefined,
    cause: e,
  });
}
