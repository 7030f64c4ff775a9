import type { VerifyContext, VerifyOutcome } from '../verify/types.js';

/** One credential field of a service, e.g. hass/url. */
export interface FieldSpec {
  readonly key: string;
  /** Environment variable exported by load/run; undefined = stored but not exported. */
  readonly env: string | undefined;
  /**
   * True when nobody declared `env`: it was derived from the names of a service that is neither
   * built in nor in services.json. Exported only when it has a credential's shape (env-names.ts).
   */
  readonly derived?: boolean;
  /** Secret fields are masked by list and only ever printed by load. */
  readonly secret: boolean;
  /** load/run refuse to start without every required field. */
  readonly required: boolean;
  /** Placeholder used in "Please run: mcp-tokens store …" lines. */
  readonly placeholder: string;
  readonly description: string;
  /** Returns undefined when the value is acceptable, else an error message (never echoing the value). */
  readonly validate: (value: string) => string | undefined;
  /** Non-fatal remarks on an accepted value (e.g. a GitHub checksum mismatch). */
  readonly warn?: (value: string) => string | undefined;
}

export interface ServiceSpec {
  readonly name: string;
  readonly title: string;
  readonly builtin: boolean;
  readonly fields: readonly FieldSpec[];
  /** Live check against the service; loaded lazily so start-up stays cheap. */
  readonly verify?: (values: Readonly<Record<string, string>>, ctx: VerifyContext) => Promise<VerifyOutcome>;
}
