import { BUILTIN_SERVICES } from '../services/index.js';
import type { Candidate } from './types.js';

/** A built-in field that has an env var: what the seed's scripts and MCP servers use. */
export interface KnownField {
  service: string;
  key: string;
  env: string;
  secret: boolean;
  validate: (value: string) => string | undefined;
}

/** Derived from the service table, so a new built-in service is migrated without edits here. */
export const KNOWN_FIELDS: readonly KnownField[] = BUILTIN_SERVICES.flatMap((s) =>
  s.fields.flatMap((f) =>
    f.env === undefined ? [] : [{ service: s.name, key: f.key, env: f.env, secret: f.secret, validate: f.validate }],
  ),
);

export function fieldByEnv(env: string): KnownField | undefined {
  return KNOWN_FIELDS.find((f) => f.env === env);
}

/** The type of a service reference: `github@work` → `github`. */
export function typeOf(service: string): string {
  const at = service.indexOf('@');
  return at < 0 ? service : service.slice(0, at);
}

/** The built-in field of service/key; an instance (`github@work`) has its type's fields. */
export function knownField(service: string, key: string): KnownField | undefined {
  const type = typeOf(service);
  return KNOWN_FIELDS.find((f) => f.service === type && f.key === key);
}

/** A built-in service type (`github`), whatever the instance. */
export function isBuiltinType(service: string): boolean {
  const type = typeOf(service);
  return KNOWN_FIELDS.some((f) => f.service === type);
}

/** Secret unless it is a built-in non-secret field (url, host, user): a service of the user's own holds secrets. */
export function isSecretField(service: string, key: string): boolean {
  return isBuiltinType(service) ? knownField(service, key)?.secret === true : true;
}

/**
 * The secret field whose format a value under an unknown variable name matches. A JWT fits both
 * Home Assistant and WikiJS; then the variable name decides (HASS_…, HA_…, WIKIJS_…), else none.
 */
export function fieldByFormat(envName: string, value: string, context = ''): KnownField | undefined {
  const matches = KNOWN_FIELDS.filter((f) => f.secret && f.validate(value) === undefined);
  if (matches.length <= 1) return matches[0];
  const byName = (text: string): KnownField | undefined => {
    const words = text.toUpperCase().split(/[^A-Z0-9]+/);
    const squashed = words.join('');
    const named = matches.filter((f) => {
      const prefix = f.env.split('_')[0]!;
      return words.includes(prefix) || squashed.includes(f.service.toUpperCase()) || (SERVICE_HINTS[f.service] ?? []).some((h) => squashed.includes(h));
    });
    return named.length === 1 ? named[0] : undefined;
  };
  return byName(envName) ?? (context ? byName(context) : undefined);
}

/** Words in a server's name or command line that say which service it is. */
const SERVICE_HINTS: Record<string, string[]> = {
  hass: ['HOMEASSISTANT', 'HASS', 'MCPPROXY'],
  wikijs: ['WIKIJS', 'WIKI'],
};

/** A value that is a reference, not a credential: `${input:x}`, `${env:X}`, `$VAR`, `$(cmd)`. */
export function isReference(value: string): boolean {
  return /\$\{[^}]*\}|^\$[A-Za-z_(]/.test(value);
}

/** first 4 + '…' + last 4, fully masked below 12 characters (as `list`). */
export function mask(value: string): string {
  return value.length < 12 ? '********' : `${value.slice(0, 4)}…${value.slice(-4)}`;
}

/** Non-secret fields that pass validation are shown whole; anything else is masked. */
export function display(service: string, key: string, value: string): string {
  const f = knownField(service, key);
  return f && !f.secret && f.validate(value) === undefined ? value : mask(value);
}

export type CandidateFields = Omit<Candidate, 'value' | 'masked'>;

/** Build a candidate whose value is not enumerable: JSON.stringify and util.inspect skip it. */
export function candidate(fields: CandidateFields, value: string): Candidate {
  const c = { ...fields, masked: display(fields.service, fields.key, value) } as Candidate;
  Object.defineProperty(c, 'value', { value, enumerable: false, writable: false });
  return c;
}
