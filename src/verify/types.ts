/** Shared shapes of the live verification (DESIGN.md §9). */
export type VerifyStatus =
  | 'ok'
  | 'bad-format'
  | 'missing'
  | 'unreachable'
  | 'tls'
  | 'rejected'
  | 'unexpected'
  | 'expired'
  | 'skipped';

export interface VerifyContext {
  /** Per-request timeout in milliseconds. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** The clock for expiry arithmetic (tests pin it); default: now. */
  readonly now?: Date | undefined;
}

export interface VerifyOutcome {
  readonly status: VerifyStatus;
  /** One human sentence; never contains a credential. */
  readonly message: string;
  /** Facts the check learned (login, scopes, version, expiry…); never contains a credential. */
  readonly details?: Readonly<Record<string, string | number | boolean | readonly string[] | null>>;
  readonly warnings?: readonly string[];
}
